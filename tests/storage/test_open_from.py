"""``open_from(key, start)``: a resumed download (HTTP Range) reads from an offset on every backend —
local disk seeks, S3 makes a ranged GET."""
from __future__ import annotations

import io

import pytest

from inspect_api.errors import ObjectMissing


def test_open_from_reads_the_rest_of_the_object_from_an_offset(any_storage):
    data = bytes(range(256)) * 4096  # 1 MiB
    any_storage.save("jobs/t/range.bin", io.BytesIO(data), "application/octet-stream")
    for start in (0, 1, 70_000, len(data) - 1):
        with any_storage.open_from("jobs/t/range.bin", start) as f:
            assert f.read() == data[start:], start
    with any_storage.open_from("jobs/t/range.bin", 1000) as f:
        assert f.read(10) == data[1000:1010]
    with pytest.raises(ObjectMissing):
        any_storage.open_from("jobs/t/none.bin", 5)
