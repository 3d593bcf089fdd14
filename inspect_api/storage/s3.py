"""S3-compatible object storage through boto3 (AWS, SeaweedFS, MinIO, Ceph …).

The client is built on first use, not at app creation, so the app starts
without reaching the store. Endpoint, region, bucket, credentials and
addressing style come from config (S3_*). Downloads are presigned URLs with
signature v4. botocore errors are wrapped: a missing key becomes ObjectMissing,
anything else StorageError, with the original exception kept as __cause__.
"""
from __future__ import annotations

import threading
from typing import BinaryIO

from ..errors import ObjectMissing, StorageError
from .base import CHUNK_SIZE, HashingReader, Storage, StoredObject, check_key

_MISSING_CODES = {"NoSuchKey", "404", "NotFound", "NoSuchObject"}


class _Body:
    """A file-like wrapper over botocore's StreamingBody that wraps read errors."""

    def __init__(self, body, key):
        self._body = body
        self._key = key

    def read(self, n: int = -1) -> bytes:
        try:
            return self._body.read(None if n is None or n < 0 else n)
        except Exception as exc:  # botocore / urllib3 read errors
            raise StorageError(f"could not read {self._key}") from exc

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._body.close()

    def __iter__(self):
        while True:
            data = self.read(CHUNK_SIZE)
            if not data:
                return
            yield data

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class S3Storage(Storage):
    name = "s3"

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 addressing_style: str = "auto", prefix: str = ""):
        if not bucket:
            raise ValueError("S3 storage needs a bucket")
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.region = region or "us-east-1"
        self._access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self.addressing_style = addressing_style or "auto"
        self.prefix = prefix
        self._client = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config) -> "S3Storage":
        return cls(
            config["S3_BUCKET"], endpoint_url=config.get("S3_ENDPOINT_URL"), region=config.get("S3_REGION"),
            access_key_id=config.get("S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
            addressing_style=config.get("S3_ADDRESSING_STYLE") or "auto",
        )

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, endpoint={self.endpoint_url!r})"

    @property
    def client(self):
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    session = boto3.session.Session()
                    self._client = session.client(
                        "s3", endpoint_url=self.endpoint_url, region_name=self.region,
                        aws_access_key_id=self._access_key_id, aws_secret_access_key=self._secret_access_key,
                        config=Config(signature_version="s3v4",
                                      s3={"addressing_style": self.addressing_style},
                                      retries={"max_attempts": 3, "mode": "standard"},
                                      connect_timeout=5, read_timeout=60),
                    )
        return self._client

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    @staticmethod
    def _is_missing(exc) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in _MISSING_CODES

    def save(self, key: str, fileobj: BinaryIO, content_type: str | None = None) -> StoredObject:
        from boto3.s3.transfer import TransferConfig

        full = self._key(key)
        reader = HashingReader(fileobj)
        extra = {"ContentType": content_type} if content_type else {}
        try:
            # Streams: s3transfer reads the (non-seekable) reader chunk by chunk,
            # switching to a multipart upload past 8 MiB.
            self.client.upload_fileobj(reader, self.bucket, full, ExtraArgs=extra or None,
                                       Config=TransferConfig(use_threads=False))
        except Exception as exc:
            if reader.source_error is not None:  # the source failed, not the store
                raise reader.source_error from None
            raise StorageError(f"could not write {key}") from exc
        return StoredObject(key, reader.size, reader.sha256)

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        full = self._key(key)
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=full)
        except ClientError as exc:
            if self._is_missing(exc):
                raise ObjectMissing(f"no object {key}") from exc
            raise StorageError(f"could not read {key}") from exc
        except Exception as exc:
            raise StorageError(f"could not read {key}") from exc
        return _Body(obj["Body"], key)

    def open_from(self, key: str, start: int) -> BinaryIO:
        """A ranged GET (``Range: bytes=start-``): a resumed download reads only what is left."""
        if start <= 0:
            return self.open(key)
        from botocore.exceptions import ClientError

        full = self._key(key)
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=full, Range=f"bytes={start}-")
        except ClientError as exc:
            if self._is_missing(exc):
                raise ObjectMissing(f"no object {key}") from exc
            raise StorageError(f"could not read {key}") from exc
        except Exception as exc:
            raise StorageError(f"could not read {key}") from exc
        return _Body(obj["Body"], key)

    def delete(self, key: str) -> None:
        full = self._key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=full)
        except Exception as exc:
            if self._is_missing(exc):
                return
            raise StorageError(f"could not delete {key}") from exc

    def _head(self, key: str):
        from botocore.exceptions import ClientError

        full = self._key(key)
        try:
            return self.client.head_object(Bucket=self.bucket, Key=full)
        except ClientError as exc:
            if self._is_missing(exc):
                return None
            raise StorageError(f"could not stat {key}") from exc
        except Exception as exc:
            raise StorageError(f"could not stat {key}") from exc

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise ObjectMissing(f"no object {key}")
        return int(head["ContentLength"])

    def list(self, prefix: str) -> list[str]:
        keys = []
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", []) or []:
                    keys.append(item["Key"][len(self.prefix):])
        except Exception as exc:
            raise StorageError(f"could not list {prefix}") from exc
        return sorted(keys)

    def url(self, key: str, expires: int) -> str | None:
        full = self._key(key)
        try:
            return self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": full}, ExpiresIn=int(expires))
        except Exception as exc:
            raise StorageError(f"could not sign a URL for {key}") from exc
