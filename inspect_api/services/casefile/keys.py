"""The bureau's checkpoint signing key (Ed25519, signed-note text format).

A private key is one line ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>`` and its
public (verifier) key ``<name>+<hex key id>+<base64(0x01 || 32-byte key)>``, as in the signed-note format
the C2SP checkpoint builds on. ``name`` is the log's origin line. Configuration:
INSPECT_CASEFILE_SIGNING_KEY holds the private-key line or a path to a file holding it; in development and
testing, without it, a key is generated once under the instance folder.
"""
from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ...errors import AppError
from .verifier import key_id

DEV_KEY_FILE = "casefile-signing.key"
ED25519 = b"\x01"  # signed-note algorithm byte
_NAME = re.compile(r"^[\x21-\x7e]+$")


class SigningKeyMissing(AppError):
    status = 500
    code = "casefile_signing_key_missing"
    message = "未配置检查点签名密钥 (INSPECT_CASEFILE_SIGNING_KEY is not set)"


@dataclass(frozen=True)
class Signer:
    name: str
    private: Ed25519PrivateKey

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes_raw()

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public).decode()
        return f"{self.name}+{key_id(self.name, self.public).hex()}+{encoded}"

    def sign_note(self, body: str) -> str:
        """The signed note: body, blank line, one signature line."""
        sig = self.private.sign(body.encode("utf-8"))
        raw = key_id(self.name, self.public) + sig
        return f"{body}\n\u2014 {self.name} {base64.b64encode(raw).decode()}\n"


def generate_key(name: str) -> tuple[str, str]:
    """(private-key line, verifier key) for a new Ed25519 key named ``name`` (the log origin)."""
    if not _NAME.match(name) or "+" in name:
        raise ValueError("key name: printable ASCII without spaces or '+'")
    private = Ed25519PrivateKey.generate()
    signer = Signer(name, private)
    seed = private.private_bytes_raw()
    encoded = base64.b64encode(ED25519 + seed).decode()
    line = f"PRIVATE+KEY+{name}+{key_id(name, signer.public).hex()}+{encoded}"
    return line, signer.vkey


def parse_private(line: str) -> Signer:
    try:
        prefix, kind, name, hexid, b64 = line.strip().split("+", 4)
        raw = base64.b64decode(b64, validate=True)
    except ValueError:
        raise ValueError("not a PRIVATE+KEY line") from None
    if prefix != "PRIVATE" or kind != "KEY" or len(raw) != 33 or raw[0] != 1:
        raise ValueError("not an Ed25519 PRIVATE+KEY line")
    signer = Signer(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if key_id(name, signer.public).hex() != hexid:
        raise ValueError("key id does not match the key")
    return signer


def load_signer(configured: str | None, instance_path: str, env: str, default_name: str) -> Signer:
    """The configured key (a PRIVATE+KEY line or a file path); in development/testing an instance key."""
    value = (configured or "").strip()
    if value:
        if not value.startswith("PRIVATE+KEY+"):
            with open(value, encoding="ascii") as fh:
                value = fh.read().strip()
        return parse_private(value)
    if env not in ("development", "testing"):
        raise SigningKeyMissing()
    path = os.path.join(instance_path, DEV_KEY_FILE)
    if not os.path.exists(path):
        import tempfile

        os.makedirs(instance_path, exist_ok=True)
        line, _ = generate_key(default_name)
        fd, tmp = tempfile.mkstemp(dir=instance_path, prefix=".casefile-key-")  # mode 0600
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(line + "\n")
        try:
            os.link(tmp, path)  # atomic, and the first of two racing processes wins
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    with open(path, encoding="ascii") as fh:
        return parse_private(fh.read().strip())
