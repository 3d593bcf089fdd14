#!/usr/bin/env python3
"""Stand-alone verifier of a case-file package (卷宗包) — Python standard library only.

This file is shipped, unchanged, inside every package as ``verify.py``; the service imports the same
code (``flask casefile verify FILE`` runs ``main`` here), so the portal and an archivist years later run
one and the same logic. It needs no network and no third-party package:

    python3 verify.py PACKAGE.zip --key 'ORIGIN+KEYID+BASE64'     (the bureau's pinned public key)

It checks, in this order, and stops at the first failure with that check's exit code:

    2  unreadable        the file is not a ZIP package this verifier understands
    10 manifest          manifest.json missing, not UTF-8 JSON, not in canonical form (RFC 8785)
    11 file_missing      a file the manifest lists is not in the package
    12 file_hash         a file's size, SM3 or SHA-256 differs from the manifest
    13 unlisted_file     the package holds a file the manifest does not list
    14 order             entries not numbered 1..N in order, or their page ranges not continuous
    15 root              the Merkle root recomputed over the entries differs from the manifest's
    16 inclusion         the file's root is not proven included in the signed checkpoint
    17 signature         the checkpoint's signature does not verify with the pinned key
    18 audit_proof       an audit event of the file is not proven included in the checkpoint
    19 supplement        a supplement (更正补充) is altered or not proven included
    20 zip_layout        the ZIP's bytes are not the canonical layout (a header byte was changed)
    0  ok

Hashes: SM3 (GB/T 32905) through hashlib when OpenSSL provides it, else the pure-Python
implementation below; SHA-256 beside it. Merkle trees follow RFC 9162 (leaf = H(0x00||data),
node = H(0x01||left||right)). Checkpoints follow the C2SP tlog-checkpoint / signed-note formats
with an Ed25519 signature (RFC 8032, verified by the pure-Python code below).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
import sys
import zlib

EXIT = {
    "ok": 0, "unreadable": 2, "manifest": 10, "file_missing": 11, "file_hash": 12, "unlisted_file": 13,
    "order": 14, "root": 15, "inclusion": 16, "signature": 17, "audit_proof": 18, "supplement": 19,
    "zip_layout": 20,
}
MANIFEST = "manifest.json"
VERIFIER = "verify.py"
# Files of the package that the manifest does not list (each is checked in its own way)
OUTSIDE_MANIFEST = (MANIFEST, "checkpoint.txt", "proofs.json")
SUPPLEMENT_PREFIX = "supplements/"
FORMAT = "inspect-casefile/1"
# The manifest's header: leaf 0 of the file's Merkle tree
HEADER_KEYS = ("format", "casefile", "cover", "entry_count", "verifier", "front")


class VerifyError(Exception):
    def __init__(self, check: str, message: str):
        super().__init__(message)
        self.check = check
        self.code = EXIT[check]


# ---------------------------------------------------------------- SM3 (GB/T 32905-2016)
_SM3_IV = (0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600, 0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E)
_M32 = 0xFFFFFFFF


def _rotl(x: int, n: int) -> int:
    n %= 32
    return ((x << n) | (x >> (32 - n))) & _M32


_SM3_T = [_rotl(0x79CC4519 if j < 16 else 0x7A879D8A, j) for j in range(64)]


def _sm3_compress(v, block: bytes):
    w = list(struct.unpack(">16I", block))
    for j in range(16, 68):
        x = w[j - 16] ^ w[j - 9] ^ _rotl(w[j - 3], 15)
        w.append((x ^ _rotl(x, 15) ^ _rotl(x, 23)) ^ _rotl(w[j - 13], 7) ^ w[j - 6])
    a, b, c, d, e, f, g, h = v
    for j in range(64):
        a12 = _rotl(a, 12)
        ss1 = _rotl((a12 + e + _SM3_T[j]) & _M32, 7)
        ss2 = ss1 ^ a12
        if j < 16:
            ff, gg = a ^ b ^ c, e ^ f ^ g
        else:
            ff, gg = (a & b) | (a & c) | (b & c), (e & f) | (~e & g)
        tt1 = (ff + d + ss2 + (w[j] ^ w[j + 4])) & _M32
        tt2 = (gg + h + ss1 + w[j]) & _M32
        d, c, b, a = c, _rotl(b, 9), a, tt1
        h, g, f = g, _rotl(f, 19), e
        e = tt2 ^ _rotl(tt2, 9) ^ _rotl(tt2, 17)
    return tuple(x ^ y for x, y in zip(v, (a, b, c, d, e, f, g, h)))


class PureSM3:
    """hashlib-like SM3 in pure Python (slow: for machines whose OpenSSL lacks SM3)."""

    name = "sm3"
    digest_size = 32

    def __init__(self, data: bytes = b""):
        self._v = _SM3_IV
        self._buf = b""
        self._len = 0
        self.update(data)

    def update(self, data: bytes) -> None:
        data = bytes(data)
        self._len += len(data)
        buf = self._buf + data
        n = len(buf) - len(buf) % 64
        v = self._v
        for i in range(0, n, 64):
            v = _sm3_compress(v, buf[i:i + 64])
        self._v = v
        self._buf = buf[n:]

    def digest(self) -> bytes:
        bits = self._len * 8
        pad = self._buf + b"\x80" + b"\x00" * ((55 - len(self._buf)) % 64) + struct.pack(">Q", bits)
        v = self._v
        for i in range(0, len(pad), 64):
            v = _sm3_compress(v, pad[i:i + 64])
        return struct.pack(">8I", *v)

    def hexdigest(self) -> str:
        return self.digest().hex()


def _hashlib_has_sm3() -> bool:
    try:
        hashlib.new("sm3", b"abc")
        return True
    except (ValueError, TypeError):
        return False


HAVE_NATIVE_SM3 = _hashlib_has_sm3()


def sm3(data: bytes = b""):
    """A new SM3 hash object: OpenSSL's through hashlib when present, else PureSM3."""
    if HAVE_NATIVE_SM3:
        return hashlib.new("sm3", data)
    return PureSM3(data)


HASHES = {"sm3": sm3, "sha256": hashlib.sha256}


# ---------------------------------------------------------------- Merkle trees (RFC 9162 §2.1)
def leaf_hash(data: bytes, alg: str = "sha256") -> bytes:
    return HASHES[alg](b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes, alg: str = "sha256") -> bytes:
    return HASHES[alg](b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def merkle_root(leaf_hashes: list, alg: str = "sha256") -> bytes:
    """MTH over already-hashed leaves; the empty tree is H()."""
    n = len(leaf_hashes)
    if n == 0:
        return HASHES[alg](b"").digest()
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(merkle_root(leaf_hashes[:k], alg), merkle_root(leaf_hashes[k:], alg), alg)


def inclusion_path(index: int, leaf_hashes: list, alg: str = "sha256") -> list:
    """PATH(m, D[n]) over already-hashed leaves."""
    n = len(leaf_hashes)
    if n <= 1:
        return []
    k = _split(n)
    if index < k:
        return inclusion_path(index, leaf_hashes[:k], alg) + [merkle_root(leaf_hashes[k:], alg)]
    return inclusion_path(index - k, leaf_hashes[k:], alg) + [merkle_root(leaf_hashes[:k], alg)]


def root_from_inclusion(index: int, size: int, leaf: bytes, path: list, alg: str = "sha256"):
    """RFC 9162 §2.1.3.2: the root the path leads to, or None when the path cannot be valid."""
    if index >= size or size <= 0:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r, alg)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p, alg)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return None
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, path: list, root: bytes, alg: str = "sha256") -> bool:
    got = root_from_inclusion(index, size, leaf, path, alg)
    return got is not None and len(root) == len(got) and got == root


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: list,
                       alg: str = "sha256") -> bool:
    """RFC 9162 §2.1.4.2."""
    if size1 > size2 or size1 < 0:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the old root is a node of the new tree
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr, alg)
            sr = node_hash(c, sr, alg)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c, alg)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2


# ---------------------------------------------------------------- Ed25519 verification (RFC 8032 §6)
_P = 2 ** 255 - 19
_Q = 2 ** 252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _padd(a, b):
    x = (a[1] - a[0]) * (b[1] - b[0]) % _P
    y = (a[1] + a[0]) * (b[1] + b[0]) % _P
    c = 2 * a[3] * b[3] * _D % _P
    d = 2 * a[2] * b[2] % _P
    e, f, g, h = y - x, d - c, d + c, y + x
    return e * f, g * h, f * g, e * h


def _pmul(s: int, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _padd(q, pt)
        pt = _padd(pt, pt)
        s >>= 1
    return q


def _recover_x(y: int, sign: int):
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 % _P == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _decompress(s: bytes):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % _P)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decompress(public)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _Q:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _Q
    left, right = _pmul(s, _G), _padd(r, _pmul(h, a))
    return (left[0] * right[2] - right[0] * left[2]) % _P == 0 and (left[1] * right[2] - right[1] * left[2]) % _P == 0


# ---------------------------------------------------------------- C2SP signed notes and checkpoints
def key_id(name: str, public: bytes) -> bytes:
    """signed-note key hash: SHA-256(name || 0x0A || 0x01 || key)[:4] for Ed25519."""
    return hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]


def parse_vkey(vkey: str) -> tuple:
    """'<name>+<hex key id>+<base64(0x01||key)>' -> (name, key id, 32-byte key)."""
    try:
        name, hexid, b64 = vkey.strip().split("+", 2)
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise VerifyError("signature", f"公钥格式无效 (bad verifier key): {exc}") from None
    if len(raw) != 33 or raw[0] != 1 or bytes.fromhex(hexid) != key_id(name, raw[1:]):
        raise VerifyError("signature", "公钥格式无效 (bad verifier key)")
    return name, bytes.fromhex(hexid), raw[1:]


def parse_checkpoint(text: str) -> dict:
    """Split a signed checkpoint into its body and signature lines; parse origin, size, root, extensions."""
    body, sep, sigs = text.partition("\n\n")
    if not sep or not body:
        raise VerifyError("signature", "检查点格式无效 (malformed checkpoint)")
    lines = body.split("\n")
    if len(lines) < 3:
        raise VerifyError("signature", "检查点格式无效 (malformed checkpoint)")
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error):
        raise VerifyError("signature", "检查点格式无效 (malformed checkpoint)") from None
    ext = {}
    for line in lines[3:]:
        key, _, value = line.partition(" ")
        ext[key] = value
    signatures = [s for s in sigs.split("\n") if s]
    return {"body": body + "\n", "origin": lines[0], "size": size, "root": root, "ext": ext,
            "signatures": signatures}


def verify_checkpoint(text: str, vkey: str) -> dict:
    name, _, public = parse_vkey(vkey)
    cp = parse_checkpoint(text)
    want = key_id(name, public)
    for line in cp["signatures"]:
        if not line.startswith("\u2014 "):
            continue
        try:
            signer, b64 = line[2:].rsplit(" ", 1)
            raw = base64.b64decode(b64, validate=True)
        except (ValueError, binascii.Error):
            continue
        if signer == name and raw[:4] == want and ed25519_verify(public, cp["body"].encode(), raw[4:]):
            if cp["origin"] != name:
                raise VerifyError("signature", "检查点来源与公钥名称不符 (origin differs from key name)")
            return cp
    raise VerifyError("signature", "检查点签名无法用固定公钥验证 (checkpoint signature does not verify)")


# ---------------------------------------------------------------- canonical JSON and canonical ZIP
def canonical_json(value) -> bytes:
    """RFC 8785 for the values a manifest holds (objects, arrays, strings, integers, booleans, null)."""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return b"{" + b",".join(canonical_json(k) + b":" + canonical_json(v) for k, v in items) + b"}"
    if isinstance(value, (list, tuple)):
        return b"[" + b",".join(canonical_json(v) for v in value) + b"]"
    if isinstance(value, float):
        raise ValueError("floats are not used in manifests")
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


ZIP_DATE = (0, 33)  # DOS time 00:00:00, DOS date 1980-01-01
ZIP_VERSION = 20
ZIP_FLAGS = 0x800  # names are UTF-8
ZIP_ATTR = 0o100644 << 16


def _local_header(name: bytes, crc: int, size: int) -> bytes:
    return struct.pack("<4s5H3L2H", b"PK\x03\x04", ZIP_VERSION, ZIP_FLAGS, 0, *ZIP_DATE, crc, size, size,
                       len(name), 0) + name


def _central_header(name: bytes, crc: int, size: int, offset: int) -> bytes:
    return struct.pack("<4s6H3L5H2L", b"PK\x01\x02", (3 << 8) | ZIP_VERSION, ZIP_VERSION, ZIP_FLAGS, 0,
                       *ZIP_DATE, crc, size, size, len(name), 0, 0, 0, 0, ZIP_ATTR, offset) + name


def _end_record(count: int, cd_size: int, cd_offset: int) -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, cd_size, cd_offset, 0)


def write_canonical_zip(out, members) -> None:
    """Write (name, bytes) members, sorted by name, stored (no compression), fixed times.

    The same layout is re-derived by the verifier, so any changed byte of a header shows.
    """
    central, offset = [], 0
    for name, content in sorted(members, key=lambda m: m[0].encode("utf-8")):
        raw_name = name.encode("utf-8")
        data = bytes(content)
        crc = zlib.crc32(data)
        header = _local_header(raw_name, crc, len(data))
        out.write(header)
        out.write(data)
        central.append(_central_header(raw_name, crc, len(data), offset))
        offset += len(header) + len(data)
    cd = b"".join(central)
    out.write(cd)
    out.write(_end_record(len(central), len(cd), offset))


class Package:
    """A canonical package read from disk: member name -> (data offset, size)."""

    def __init__(self, path: str):
        import zipfile

        self.path = path
        try:
            with zipfile.ZipFile(path) as zf:
                infos = zf.infolist()
        except Exception as exc:  # noqa: BLE001 — any damage to the ZIP structure
            raise VerifyError("unreadable", f"无法读取卷宗包 (cannot read the package): {exc}") from None
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise VerifyError("unlisted_file", "卷宗包中有重名文件 (duplicate member names)")
        self.members = {}
        for info in infos:
            if info.compress_type != 0 or info.file_size > 2 ** 32 - 2:
                raise VerifyError("zip_layout", f"{info.filename}: 非规范存储 (not stored as the format requires)")
            raw_name = info.filename.encode("utf-8")
            self.members[info.filename] = (info.header_offset + 30 + len(raw_name), info.file_size,
                                           info.header_offset)
        self._fh = open(path, "rb")

    def close(self):
        self._fh.close()
        if getattr(self, "_executor", None) is not None:
            self._executor.shutdown()

    def names(self):
        return list(self.members)

    def read(self, name: str) -> bytes:
        offset, size, _ = self.members[name]
        self._fh.seek(offset)
        return self._fh.read(size)

    def hashes(self, name: str) -> tuple:
        """(size, sm3 hex, sha256 hex, crc32) of a member, read in 1 MiB chunks."""
        offset, size, _ = self.members[name]
        self._fh.seek(offset)
        a, b, crc, left = sm3(), hashlib.sha256(), 0, size
        pending = None
        while left:
            chunk = self._fh.read(min(left, 1 << 20))
            if not chunk:
                break
            if pending is not None:
                pending.result()
            # hashlib releases the GIL on large buffers: SM3 on a second core while SHA-256 and CRC run here
            pending = self._pool().submit(a.update, chunk) if HAVE_NATIVE_SM3 and len(chunk) > 65536 else None
            if pending is None:
                a.update(chunk)
            b.update(chunk)
            crc = zlib.crc32(chunk, crc)
            left -= len(chunk)
        if pending is not None:
            pending.result()
        return size - left, a.hexdigest(), b.hexdigest(), crc

    def _pool(self):
        if getattr(self, "_executor", None) is None:
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(max_workers=1)
        return self._executor

    def check_layout(self, crcs: dict) -> None:
        """Re-derive every header from the contents and compare with the file's bytes."""
        order = sorted(self.members, key=lambda n: n.encode("utf-8"))
        central, offset = [], 0
        for name in order:
            raw = name.encode("utf-8")
            _, size, header_offset = self.members[name]
            header = _local_header(raw, crcs[name], size)
            self._fh.seek(offset)
            if header_offset != offset or self._fh.read(len(header)) != header:
                raise VerifyError("zip_layout", f"{name}: 文件头与规范格式不符 (local header altered)")
            central.append(_central_header(raw, crcs[name], size, offset))
            offset += len(header) + size
        tail = b"".join(central)
        tail += _end_record(len(order), len(tail), offset)
        self._fh.seek(offset)
        if self._fh.read() != tail:
            raise VerifyError("zip_layout", "目录区与规范格式不符 (central directory altered)")


# ---------------------------------------------------------------- the checks
def entry_leaves(manifest: dict, alg: str) -> list:
    """Leaf 0 is the header (format, file id, cover, counts, verifier); leaves 1..N the entries in order."""
    head = {k: manifest[k] for k in HEADER_KEYS}
    return [leaf_hash(canonical_json(head), alg)] + [leaf_hash(canonical_json(e), alg)
                                                     for e in manifest["entries"]]


def _load_manifest(pkg: Package) -> tuple:
    if MANIFEST not in pkg.members:
        raise VerifyError("manifest", "缺少 manifest.json (manifest.json missing)")
    raw = pkg.read(MANIFEST)
    try:
        manifest = json.loads(raw.decode("utf-8"))
        canonical = canonical_json(manifest)
    except (UnicodeDecodeError, ValueError) as exc:
        raise VerifyError("manifest", f"manifest.json 无法解析 (unreadable manifest): {exc}") from None
    if canonical != raw:
        raise VerifyError("manifest", "manifest.json 不是规范 JSON (not canonical RFC 8785)")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(
            manifest.get("entries"), list) or any(k not in manifest for k in HEADER_KEYS):
        raise VerifyError("manifest", "manifest.json 格式不符 (unknown manifest format)")
    return manifest, raw


def _listed_files(manifest: dict) -> dict:
    listed = {}
    verifier = manifest.get("verifier") or {}
    if verifier.get("path"):
        listed[verifier["path"]] = verifier
    for entry in [manifest.get("front") or {}] + manifest["entries"]:
        for f in entry.get("files", []):
            if f["path"] in listed:
                raise VerifyError("order", f"{f['path']}: 同一文件被列入两次 (file listed twice)")
            listed[f["path"]] = f
    return listed


def _check_files(pkg: Package, manifest: dict, crcs: dict, report: list) -> None:
    listed = _listed_files(manifest)
    for path, f in listed.items():
        if path not in pkg.members:
            raise VerifyError("file_missing", f"{path}: 卷宗包中缺少此文件 (file missing)")
        size, h_sm3, h_sha, crc = pkg.hashes(path)
        crcs[path] = crc
        if size != f.get("size") or h_sm3 != f.get("sm3") or h_sha != f.get("sha256"):
            raise VerifyError("file_hash", f"{path}: 文件内容与清单不符 (size or hash differs)")
    for name in pkg.names():
        if name in listed or name in OUTSIDE_MANIFEST or name.startswith(SUPPLEMENT_PREFIX):
            continue
        raise VerifyError("unlisted_file", f"{name}: 清单未列出此文件 (file not in the manifest)")
    report.append(f"files: {len(listed)} files match their SM3 and SHA-256")


def _check_order(manifest: dict, report: list) -> None:
    entries = manifest["entries"]
    if manifest.get("entry_count") != len(entries):
        raise VerifyError("order", "条目数量与清单声明不符 (entry count differs)")
    page = 1
    for i, entry in enumerate(entries, 1):
        if entry.get("seq") != i:
            raise VerifyError("order", f"第{i}项序号为 {entry.get('seq')} (entry out of order)")
        pages = entry.get("pages")
        if pages:
            first, last = pages
            if first != page or last < first:
                raise VerifyError("order", f"第{i}项页号 {first}-{last} 不连续，应从第{page}页起 (page gap)")
            page = last + 1
    report.append(f"order: {len(entries)} entries numbered 1..{len(entries)}, pages 1..{page - 1} continuous")


def _check_root(manifest: dict, report: list) -> dict:
    roots = {}
    for alg in ("sm3", "sha256"):
        got = merkle_root(entry_leaves(manifest, alg), alg).hex()
        if got != (manifest.get("root") or {}).get(alg):
            raise VerifyError("root", f"{alg} 根哈希与清单不符 (root differs)")
        roots[alg] = got
    report.append(f"root: SM3 {roots['sm3']}, SHA-256 {roots['sha256']}")
    return roots


def file_leaf(manifest: dict, roots: dict) -> bytes:
    """The bureau-log leaf of an archived file: what the log commits to."""
    cover = manifest["cover"]
    return canonical_json({"kind": "casefile", "casefile": manifest["casefile"], "archive_no": cover.get("archive_no"),
                           "root_sm3": roots["sm3"], "root_sha256": roots["sha256"]})


def _check_log(pkg: Package, manifest: dict, roots: dict, vkey: str, report: list) -> None:
    if "checkpoint.txt" not in pkg.members or "proofs.json" not in pkg.members:
        raise VerifyError("inclusion", "缺少检查点或证明 (checkpoint or proofs missing)")
    cp = verify_checkpoint(pkg.read("checkpoint.txt").decode("utf-8", "replace"), vkey)
    report.append(f"checkpoint: {cp['origin']} size {cp['size']}, signature verified with the pinned key")
    try:
        proofs = json.loads(pkg.read("proofs.json").decode("utf-8"))
        sm3_root = base64.b64decode(cp["ext"].get("sm3", ""), validate=True)
    except (ValueError, binascii.Error):
        raise VerifyError("inclusion", "proofs.json 无法解析 (unreadable proofs)") from None

    def proven(leaf_data: bytes, proof: dict) -> bool:
        try:
            idx, size = int(proof["index"]), int(proof["tree_size"])
            paths = {alg: [bytes.fromhex(h) for h in proof[alg]] for alg in ("sha256", "sm3")}
        except (KeyError, TypeError, ValueError):
            return False
        return size == cp["size"] and verify_inclusion(
            idx, size, leaf_hash(leaf_data, "sha256"), paths["sha256"], cp["root"], "sha256") and verify_inclusion(
            idx, size, leaf_hash(leaf_data, "sm3"), paths["sm3"], sm3_root, "sm3")

    if not proven(file_leaf(manifest, roots), proofs.get("casefile") or {}):
        raise VerifyError("inclusion", "卷宗根哈希未被检查点包含 (file root not included in the checkpoint)")
    report.append(f"inclusion: the file's root is entry {proofs['casefile']['index']} of the bureau log")
    _check_audit(pkg, manifest, proofs, proven, report)
    _check_supplements(pkg, proofs, proven, report)


def _check_audit(pkg, manifest, proofs, proven, report) -> None:
    trail = [f for e in manifest["entries"] if e.get("kind") == "audit_trail" for f in e.get("files", [])
             if f["path"].endswith(".jsonl")]
    lines = [line for f in trail for line in pkg.read(f["path"]).split(b"\n") if line]
    audit = proofs.get("audit") or []
    if len(audit) != len(lines):
        raise VerifyError("audit_proof", "审计事件与证明数量不符 (audit events and proofs differ in count)")
    for i, (line, proof) in enumerate(zip(lines, audit)):
        if not proven(line, proof):
            raise VerifyError("audit_proof", f"第{i + 1}条审计事件未被检查点包含 (audit event {i + 1} not included)")
    report.append(f"audit: {len(lines)} audit events proven in the bureau log")


def _check_supplements(pkg, proofs, proven, report) -> None:
    names = sorted(n for n in pkg.names() if n.startswith(SUPPLEMENT_PREFIX))
    listed = proofs.get("supplements") or []
    if [s.get("path") for s in listed] != names:
        raise VerifyError("supplement", "更正补充材料与证明不符 (supplements and proofs differ)")
    for s in listed:
        if not proven(pkg.read(s["path"]), s):
            raise VerifyError("supplement", f"{s['path']}: 未被检查点包含 (supplement not included)")
    if names:
        report.append(f"supplements: {len(names)} corrections proven in the bureau log")


def verify_package(path: str, vkey: str) -> list:
    """Run every check; return the report lines, or raise VerifyError naming the failed check."""
    pkg = Package(path)
    report, crcs, stage = [], {}, "manifest"
    try:
        manifest, _ = _load_manifest(pkg)
        stage = "file_hash"
        _check_files(pkg, manifest, crcs, report)
        stage = "order"
        _check_order(manifest, report)
        stage = "root"
        roots = _check_root(manifest, report)
        stage = "inclusion"
        _check_log(pkg, manifest, roots, vkey, report)
        stage = "zip_layout"
        for name in pkg.names():
            if name not in crcs:
                crcs[name] = pkg.hashes(name)[3]
        pkg.check_layout(crcs)
        report.append("layout: the ZIP is byte-for-byte the canonical layout")
        return report
    except VerifyError:
        raise
    except Exception as exc:  # noqa: BLE001 — malformed content fails the check that met it
        raise VerifyError(stage, f"{stage}: 内容格式错误 (malformed content): {exc!r}") from None
    finally:
        pkg.close()


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Verify a case-file package offline (核验卷宗包).")
    parser.add_argument("package", help="the package ZIP")
    parser.add_argument("--key", required=True,
                        help="the bureau's pinned verifier key (name+keyid+base64), from the printed checkpoint")
    args = parser.parse_args(argv)
    try:
        report = verify_package(args.package, args.key)
    except VerifyError as exc:
        print(f"FAILED [{exc.check}] {exc}", file=sys.stderr)
        return exc.code
    for line in report:
        print("ok   " + line)
    print(f"OK   {args.package}: 卷宗完整，未被改动 (the file is complete and unaltered)"
          + ("" if HAVE_NATIVE_SM3 else " [pure-Python SM3]"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
