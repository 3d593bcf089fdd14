"""Helpers for case-file tests."""
from __future__ import annotations

import io
import zipfile

import rfc8785

from inspect_api.services.casefile import verifier
from inspect_api.services.casefile.verifier import entry_leaves, merkle_root


def read_zip(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_zip(members: dict) -> bytes:
    buf = io.BytesIO()
    verifier.write_canonical_zip(buf, list(members.items()))
    return buf.getvalue()


def verify_bytes(data: bytes, vkey: str, tmp_path, name="pkg.zip") -> int:
    """The verifier's exit code for package bytes (0 ok)."""
    path = tmp_path / name
    path.write_bytes(data)
    try:
        verifier.verify_package(str(path), vkey)
    except verifier.VerifyError as exc:
        return exc.code
    return 0


def reseal(members: dict, manifest: dict) -> dict:
    """What a forger without the key does after editing: re-hash files, recompute the root, re-canonicalise."""
    from inspect_api.services.casefile.build import file_record

    for entry in [manifest["front"]] + manifest["entries"]:
        entry["files"] = [file_record(f["path"], members[f["path"]]) for f in entry["files"]]
    manifest["entry_count"] = len(manifest["entries"])
    manifest["root"] = {alg: merkle_root(entry_leaves(manifest, alg), alg).hex() for alg in ("sm3", "sha256")}
    members["manifest.json"] = rfc8785.dumps(manifest)
    return members
