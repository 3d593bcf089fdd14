"""The verifier's primitives against published vectors: RFC 6962 Merkle trees (the vectors of
transparency-dev/merkle, proof/verify_test.go), SM3 (GB/T 32905 appendix A), Ed25519 against `cryptography`."""
from __future__ import annotations

import hashlib
import os
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from inspect_api.services.casefile import verifier as v

LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
INCLUSION = [  # (leaf number 1-based, tree size, path)
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]


def _hashes(n):
    return [v.leaf_hash(x) for x in LEAVES[:n]]


def test_sha256_mode_reproduces_the_rfc6962_roots():
    assert v.merkle_root([]) == hashlib.sha256(b"").digest()
    for n in range(1, 9):
        assert v.merkle_root(_hashes(n)) == ROOTS[n - 1], n


@pytest.mark.parametrize("leaf,size,path", INCLUSION)
def test_rfc6962_inclusion_vectors_are_generated_and_verified(leaf, size, path):
    proof = [bytes.fromhex(h) for h in path]
    assert v.inclusion_path(leaf - 1, _hashes(size)) == proof
    leaf_hash = v.leaf_hash(LEAVES[leaf - 1])
    assert v.verify_inclusion(leaf - 1, size, leaf_hash, proof, ROOTS[size - 1])
    # the corruptions of the reference test: wrong index, size, leaf, root, extra or missing hashes, a flipped bit
    assert not v.verify_inclusion(leaf, size, leaf_hash, proof, ROOTS[size - 1])
    assert not v.verify_inclusion(leaf - 1, size * 2, leaf_hash, proof, ROOTS[size - 1])
    assert not v.verify_inclusion(leaf - 1, size, b"WrongLeaf", proof, ROOTS[size - 1])
    assert not v.verify_inclusion(leaf - 1, size, leaf_hash, proof + [ROOTS[size - 1]], ROOTS[size - 1])
    assert not v.verify_inclusion(leaf - 1, size, leaf_hash, [b""] + proof, ROOTS[size - 1])
    assert not v.verify_inclusion(leaf - 1, size, leaf_hash, proof[:-1], ROOTS[size - 1])
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 8]) + bad[i][1:]
        assert not v.verify_inclusion(leaf - 1, size, leaf_hash, bad, ROOTS[size - 1])


@pytest.mark.parametrize("size1,size2,path", CONSISTENCY)
def test_rfc6962_consistency_vectors_are_generated_and_verified(size1, size2, path):
    proof = [bytes.fromhex(h) for h in path]
    from inspect_api.services.casefile.log import NodeReader

    reader = _MemoryTree(_hashes(size2))
    assert reader.subproof(size1, 0, size2, True, "sha256") == proof
    r1, r2 = ROOTS[size1 - 1], ROOTS[size2 - 1]
    assert v.verify_consistency(size1, size2, r1, r2, proof)
    assert not v.verify_consistency(size1, size2, r2, r1, proof), "swapped roots"
    assert not v.verify_consistency(size1 - 1, size2, r1, r2, proof)
    assert not v.verify_consistency(size1, size2, r1, r2, []), "empty proof"
    assert not v.verify_consistency(size1, size2, r1, r2, proof[:-1]), "truncated proof"
    assert not v.verify_consistency(size1, size2, r1, r2, proof + [r2]), "trailing root"
    assert isinstance(reader, NodeReader)


class _MemoryTree:
    """A NodeReader over in-memory leaf hashes (complete subtrees computed on demand)."""

    def __new__(cls, leaves):
        from inspect_api.services.casefile.log import NodeReader

        class Reader(NodeReader):
            def get(self, level, index):
                lo = index << level
                return {"sha256": v.merkle_root(leaves[lo:lo + (1 << level)])}

        return Reader(None)


def test_sm3_reproduces_the_standard_vectors_natively_and_in_pure_python():
    abc = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    abcd16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    assert v.PureSM3(b"abc").hexdigest() == abc
    assert v.PureSM3(b"abcd" * 16).hexdigest() == abcd16
    assert v.sm3(b"abc").hexdigest() == abc
    if "sm3" in hashlib.algorithms_available:
        assert hashlib.new("sm3", b"abc").hexdigest() == abc
        rng = random.Random(7)
        for n in (0, 1, 55, 56, 63, 64, 65, 127, 128, 1000):
            data = bytes(rng.getrandbits(8) for _ in range(n))
            h = v.PureSM3()
            h.update(data[: n // 3])
            h.update(data[n // 3:])
            assert h.hexdigest() == hashlib.new("sm3", data).hexdigest(), n


def test_pure_python_ed25519_agrees_with_cryptography():
    for i in range(5):
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes_raw()
        message = os.urandom(40 + i)
        signature = key.sign(message)
        assert v.ed25519_verify(public, message, signature)
        assert not v.ed25519_verify(public, message + b"x", signature)
        assert not v.ed25519_verify(public, message, signature[:-1] + bytes([signature[-1] ^ 1]))
        other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
        assert not v.ed25519_verify(other, message, signature)


def test_a_file_of_500_documents_proves_one_document_with_at_most_9_hashes():
    leaves = [v.leaf_hash(str(i).encode()) for i in range(501)]  # header + 500 entries
    root = v.merkle_root(leaves)
    lengths = []
    for i in (0, 1, 250, 499, 500):
        path = v.inclusion_path(i, leaves)
        assert v.verify_inclusion(i, 501, leaves[i], path, root)
        lengths.append(len(path))
    assert max(lengths) <= 9, lengths


def test_canonical_json_of_the_verifier_matches_rfc8785():
    import rfc8785

    value = {"b": [1, "二", {"z": None, "a": True}], "a": "引号\"与\\控制\n\u0001", "é": 0, "A": -5}
    assert v.canonical_json(value) == rfc8785.dumps(value)
