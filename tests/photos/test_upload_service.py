"""services/uploads.py below the HTTP layer: races, interrupted bodies, metadata parsing."""
from __future__ import annotations

import io

import pytest

from inspect_api.models import Upload
from inspect_api.services.evidence import uploads as upload_service
from inspect_api.services.access.actor import Actor
from inspect_api.services.evidence.photos import UploadLimits


def new_upload(db, world, length=1000):
    actor = Actor(user=world["inspector1"])
    upload = upload_service.create_upload(db, actor, length=length, metadata={"photo_id": "RacePhoto0000001"},
                                          concat=None, final_ids=None, limits=UploadLimits())
    db.flush()
    return actor, upload


def test_two_chunks_racing_for_the_same_offset_one_wins_the_other_is_discarded(db, world, storage):
    actor, upload = new_upload(db, world)
    key_a, size_a, _ = upload_service.store_chunk(storage, upload.id, 0, 1000, io.BytesIO(b"a" * 300), None)
    key_b, size_b, _ = upload_service.store_chunk(storage, upload.id, 0, 1000, io.BytesIO(b"b" * 400), None)
    assert key_a != key_b
    upload_service.commit_chunk(db, storage, actor, upload.id, 0, key_a, size_a, UploadLimits())
    with pytest.raises(upload_service.OffsetMismatch):
        upload_service.commit_chunk(db, storage, actor, upload.id, 0, key_b, size_b, UploadLimits())
    assert db.get(Upload, upload.id).offset == 300
    assert storage.list(f"uploads-tmp/{upload.id}/") == [key_a]
    assert storage.read_bytes(key_a) == b"a" * 300


class Disconnecting:
    """A request body whose client goes away after some bytes."""

    def __init__(self, good: bytes):
        self.good = io.BytesIO(good)

    def read(self, n=-1):
        data = self.good.read(n)
        if not data:
            raise ConnectionResetError("client went away")
        return data


def test_bytes_received_before_a_disconnect_are_kept_without_a_checksum(db, world, storage):
    actor, upload = new_upload(db, world)
    key, size, interrupted = upload_service.store_chunk(storage, upload.id, 0, 1000,
                                                        Disconnecting(b"c" * 250), None)
    assert interrupted and size == 250
    upload_service.commit_chunk(db, storage, actor, upload.id, 0, key, size, UploadLimits())
    assert db.get(Upload, upload.id).offset == 250


def test_an_interrupted_chunk_with_a_checksum_is_discarded(db, world, storage):
    import hashlib

    _, upload = new_upload(db, world)
    with pytest.raises(upload_service.ChunkChecksumMismatch):
        upload_service.store_chunk(storage, upload.id, 0, 1000, Disconnecting(b"d" * 250),
                                   ("sha1", hashlib.sha1(b"d" * 500).digest()))
    assert storage.list(f"uploads-tmp/{upload.id}/") == []


@pytest.mark.parametrize("header,expected", [
    ("photo_id YWJj,filename 6ZqQ5oKjLmpwZw==", {"photo_id": "abc", "filename": "隐患.jpg"}),
    ("flag,photo_id YWJj", {"flag": "", "photo_id": "abc"}),
    ("", {}),
])
def test_upload_metadata_is_parsed(header, expected):
    assert upload_service.parse_metadata(header) == expected


@pytest.mark.parametrize("header", ["photo_id !!!", "photo_id YWJj,photo_id YWJj", "bad key YWJj",
                                    "k/x YQ=="])
def test_malformed_upload_metadata_is_refused(header):
    with pytest.raises(upload_service.TusError) as info:
        upload_service.parse_metadata(header)
    assert info.value.code == "invalid_metadata"
