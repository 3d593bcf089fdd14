"""Personal data at rest (等保三级 8.1.4.8): envelope encryption with the ``cryptography`` package.

Every value gets a fresh 256-bit (AES) or 128-bit (SM4) data key; the value is sealed with it in GCM mode,
and the data key is sealed with the current master key (key encryption key) of the key ring. The master
keys live outside the database (INSPECT_DATA_KEYS: ``{"<key id>": "<base64 key>"}``, INSPECT_DATA_KEY_ID:
the current one); the cipher is AES-256-GCM, or SM4-GCM (GB/T 32907) where the bureau's cryptography rules
ask for it (INSPECT_DATA_CIPHER = "sm4-gcm"; master keys then 16 bytes). Stored form:

    e1:<cipher>:<key id>:<base64 sealed data key>:<base64 nonce | ciphertext | tag>

Rotating the master key (``flask security rotate-data-key``) re-seals the data keys under the new master
key; the values are not touched, and a value sealed under any key still in the ring stays readable.
Exact lookups use a keyed index: HMAC-SHA256 under INSPECT_DATA_INDEX_KEY of the normalised value (digits
only for phone numbers), so a search by a number works without decrypting anything.

In development and testing, when no keys are configured, a key is derived from the secret key (HKDF); in
production the keys are required (config.py refuses to start without them).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "e1"
CIPHERS = {"aes-gcm": 32, "sm4-gcm": 16}  # master/data key sizes


class DecryptionError(RuntimeError):
    """A sealed value could not be opened (unknown key id, corrupted value or wrong key)."""


@dataclass
class KeyRing:
    keys: dict[str, bytes]
    current: str
    cipher: str = "aes-gcm"
    index_key: bytes = b""
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_config(cls, config) -> "KeyRing":
        cipher = config.get("DATA_CIPHER") or "aes-gcm"
        if cipher not in CIPHERS:
            raise ValueError(f"INSPECT_DATA_CIPHER must be one of {', '.join(CIPHERS)}")
        raw = config.get("DATA_KEYS") or {}
        keys = {str(kid): base64.b64decode(value) for kid, value in raw.items()}
        current = config.get("DATA_KEY_ID") or (sorted(keys)[-1] if keys else None)
        if not keys:
            secret = (config.get("SECRET_KEY") or "dev").encode("utf-8")
            keys = {"dev": _derive(secret, b"inspect-data-key", CIPHERS[cipher])}
            current = "dev"
        index = config.get("DATA_INDEX_KEY")
        index_key = base64.b64decode(index) if index else _derive(
            (config.get("SECRET_KEY") or "dev").encode("utf-8"), b"inspect-data-index", 32)
        for kid, key in keys.items():
            if len(key) != CIPHERS[cipher]:
                raise ValueError(f"data key {kid}: {cipher} needs {CIPHERS[cipher]}-byte keys")
        if current not in keys:
            raise ValueError(f"INSPECT_DATA_KEY_ID {current!r} is not in INSPECT_DATA_KEYS")
        return cls(keys=keys, current=current, cipher=cipher, index_key=index_key)

    # -- sealing

    def _seal(self, key: bytes, plaintext: bytes, cipher: str) -> bytes:
        nonce = os.urandom(12)
        enc = Cipher(_algorithm(cipher, key), modes.GCM(nonce)).encryptor()
        body = enc.update(plaintext) + enc.finalize()
        return nonce + body + enc.tag

    def _open(self, key: bytes, sealed: bytes, cipher: str) -> bytes:
        nonce, body, tag = sealed[:12], sealed[12:-16], sealed[-16:]
        dec = Cipher(_algorithm(cipher, key), modes.GCM(nonce, tag)).decryptor()
        return dec.update(body) + dec.finalize()

    def encrypt(self, value: str) -> str:
        data_key = os.urandom(CIPHERS[self.cipher])
        wrapped = self._seal(self.keys[self.current], data_key, self.cipher)
        sealed = self._seal(data_key, value.encode("utf-8"), self.cipher)
        return ":".join((PREFIX, self.cipher, self.current, _b64(wrapped), _b64(sealed)))

    def decrypt(self, stored: str) -> str:
        if not is_sealed(stored):
            return stored  # a value written before encryption (migrations seal them)
        cached = self._cache.get(stored)
        if cached is not None:
            return cached
        try:
            _, cipher, kid, wrapped, sealed = stored.split(":")
            data_key = self._open(self.keys[kid], base64.b64decode(wrapped), cipher)
            value = self._open(data_key, base64.b64decode(sealed), cipher).decode("utf-8")
        except Exception as exc:  # unknown key id, tampering, wrong key: never a silent wrong value
            raise DecryptionError("could not open a sealed value") from exc
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[stored] = value
        return value

    def rewrap(self, stored: str) -> str:
        """The same value with its data key sealed under the current master key (key rotation)."""
        if not is_sealed(stored):
            return self.encrypt(stored)
        _, cipher, kid, wrapped, sealed = stored.split(":")
        if kid == self.current and cipher == self.cipher:
            return stored
        if cipher != self.cipher:
            return self.encrypt(self.decrypt(stored))
        data_key = self._open(self.keys[kid], base64.b64decode(wrapped), cipher)
        return ":".join((PREFIX, cipher, self.current, _b64(self._seal(self.keys[self.current], data_key, cipher)),
                         sealed))

    def index(self, value: str | None, kind: str = "phone") -> str | None:
        """The keyed index of a value for exact lookups (phone numbers: digits only)."""
        if not value:
            return None
        norm = re.sub(r"\D", "", value) if kind == "phone" else value.strip().upper()
        if not norm:
            return None
        return hmac.new(self.index_key, f"{kind}:{norm}".encode("utf-8"), hashlib.sha256).hexdigest()[:40]


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX + ":")


def _algorithm(cipher: str, key: bytes):
    return algorithms.SM4(key) if cipher == "sm4-gcm" else algorithms.AES(key)


def _derive(secret: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(secret)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


_ring: KeyRing | None = None


def configure(ring: KeyRing) -> None:
    global _ring
    _ring = ring


def ring() -> KeyRing:
    if _ring is None:
        raise RuntimeError("the data key ring is not configured (create_app configures it)")
    return _ring
