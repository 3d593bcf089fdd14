"""A job's file as an HTTP body: whole (200), one range (206, resumable downloads), or 416.

Pure functions of the header values and the stored object, used by the API and the portal alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator
from urllib.parse import quote

from werkzeug.http import parse_range_header

from ...errors import AppError
from ...models import Job

BLOCK = 1024 * 1024


class RangeNotSatisfiable(AppError):
    status = 416
    code = "range_not_satisfiable"
    message = "请求的字节范围超出文件长度 (the requested range lies past the end of the file)"


@dataclass(frozen=True)
class Body:
    status: int
    start: int
    length: int
    headers: dict
    chunks: Iterator[bytes]


def etag_of(job: Job) -> str:
    return f'"{job.result_sha256}"'


def plan(job: Job, range_header: str | None, if_range: str | None) -> tuple[int, int, int]:
    """(status, start, length). A malformed or multi-part Range, or an If-Range that no longer matches,
    gets the whole file (RFC 9110 §14.2); a range that starts past the end gets 416."""
    size = job.result_size or 0
    if not range_header or (if_range and if_range.strip() != etag_of(job)):
        return 200, 0, size
    parsed = parse_range_header(range_header)
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        return 200, 0, size
    span = parsed.range_for_length(size)
    if span is None:
        raise RangeNotSatisfiable(details={"size": size}, headers={"Content-Range": f"bytes */{size}"})
    start, stop = span
    return 206, start, stop - start


def file_body(storage, job: Job, range_header: str | None, if_range: str | None) -> Body:
    status, start, length = plan(job, range_header, if_range)
    name = job.result_name or job.result_key.rsplit("/", 1)[-1]
    ascii_name = job.result_key.rsplit("/", 1)[-1]
    headers = {
        "Accept-Ranges": "bytes", "ETag": etag_of(job), "Content-Length": str(length),
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff",
    }
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{job.result_size}"
    source = storage.open_from(job.result_key, start)  # ObjectMissing -> 404 before any byte is sent

    def chunks():
        left = length
        try:
            while left > 0:
                data = source.read(min(BLOCK, left))
                if not data:
                    break
                left -= len(data)
                yield data
        finally:
            source.close()

    return Body(status, start, length, headers, chunks())
