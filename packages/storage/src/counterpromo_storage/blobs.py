"""S3 objects: put/get/head/delete/list, presigned POST for uploads, presigned GET for downloads.

``BlobStore`` works on any key; ``BlobStore.for_account(account_id)`` gives a view that
refuses, before any request, every key outside that account's prefix.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from counterpromo_storage.keys import ensure_under_account

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # S3's limit for signature v4


class BlobNotFound(LookupError):  # noqa: N818 - reads as the condition it reports
    def __init__(self, bucket: str, key: str) -> None:
        self.bucket = bucket
        self.key = key
        super().__init__(f"no object {key!r} in bucket {bucket!r}")


@dataclass(frozen=True)
class PutResult:
    etag: str
    checksum_sha256: str  # hex, as stored in assets.checksum_sha256
    size: int


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    etag: str
    last_modified: dt.datetime
    content_type: str | None = None


@dataclass(frozen=True)
class PresignedPost:
    """Where and how a client uploads: POST ``fields`` then the file as multipart form data."""

    url: str
    fields: dict[str, str]
    expires_at: dt.datetime


def _not_found(error: ClientError) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


def _check_expiry(expires: int) -> None:
    if not 1 <= expires <= MAX_PRESIGN_SECONDS:
        raise ValueError(f"expiry must be 1..{MAX_PRESIGN_SECONDS} seconds, got {expires}")


_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f"\\/;]')


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact UTF-8 name (RFC 6266)."""
    cleaned = _UNSAFE_FILENAME.sub("_", filename).strip() or "download"
    fallback = cleaned.encode("ascii", "replace").decode("ascii").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(cleaned, safe='')}"


class BlobStore:
    """Objects in S3 through one boto3 client (signature v4; see ``clients.s3_client``)."""

    def __init__(self, s3_client: S3Client) -> None:
        self._s3 = s3_client

    def for_account(self, account_id: uuid.UUID | str) -> AccountBlobs:
        return AccountBlobs(self, account_id)

    def put(self, bucket: str, key: str, data: bytes, content_type: str) -> PutResult:
        """Store ``data``; S3 verifies the SHA-256 we send, so a corrupted body is refused."""
        digest = hashlib.sha256(data).digest()
        response = self._s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            ChecksumSHA256=base64.b64encode(digest).decode("ascii"),
        )
        return PutResult(
            etag=response["ETag"].strip('"'), checksum_sha256=digest.hex(), size=len(data)
        )

    def get_bytes(self, bucket: str, key: str) -> bytes:
        try:
            response = self._s3.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if _not_found(error):
                raise BlobNotFound(bucket, key) from None
            raise
        return response["Body"].read()

    def head(self, bucket: str, key: str) -> BlobInfo | None:
        """The object's size, type and etag; None when there is no such object."""
        try:
            response = self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if _not_found(error):
                return None
            raise
        return BlobInfo(
            key=key,
            size=response["ContentLength"],
            etag=response["ETag"].strip('"'),
            last_modified=response["LastModified"],
            content_type=response.get("ContentType"),
        )

    def delete(self, bucket: str, key: str) -> None:
        """Delete the object (no error if it does not exist)."""
        self._s3.delete_object(Bucket=bucket, Key=key)

    def list(self, bucket: str, prefix: str, *, page_size: int = 1000) -> list[BlobInfo]:
        """Every object whose key starts with ``prefix`` (all pages), in key order."""
        found: list[BlobInfo] = []
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
        )
        for page in pages:
            for item in page.get("Contents", []):
                found.append(
                    BlobInfo(
                        key=item["Key"],
                        size=item["Size"],
                        etag=item["ETag"].strip('"'),
                        last_modified=item["LastModified"],
                    )
                )
        return found

    def presigned_post(
        self, bucket: str, key: str, content_type: str, max_bytes: int, expires: int = 900
    ) -> PresignedPost:
        """A browser upload whose signed policy pins the key, the content type and the size."""
        _check_expiry(expires)
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        # botocore adds the bucket and the exact key to the conditions itself.
        conditions: list[Any] = [
            {"Content-Type": content_type},
            ["content-length-range", 1, max_bytes],
        ]
        issued = dt.datetime.now(dt.UTC)
        post = self._s3.generate_presigned_post(
            Bucket=bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=conditions,
            ExpiresIn=expires,
        )
        return PresignedPost(
            url=post["url"],
            fields={name: str(value) for name, value in post["fields"].items()},
            expires_at=issued + dt.timedelta(seconds=expires),
        )

    def presigned_get(self, bucket: str, key: str, filename: str, expires: int = 300) -> str:
        """A short-lived download URL that saves as ``filename``."""
        _check_expiry(expires)
        return self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition(filename),
            },
            ExpiresIn=expires,
        )


class AccountBlobs:
    """A ``BlobStore`` limited to one account's keys: others are refused before any request."""

    def __init__(self, store: BlobStore, account_id: uuid.UUID | str) -> None:
        self._store = store
        self._account_id = account_id

    def put(self, bucket: str, key: str, data: bytes, content_type: str) -> PutResult:
        return self._store.put(bucket, self._check(key), data, content_type)

    def get_bytes(self, bucket: str, key: str) -> bytes:
        return self._store.get_bytes(bucket, self._check(key))

    def head(self, bucket: str, key: str) -> BlobInfo | None:
        return self._store.head(bucket, self._check(key))

    def delete(self, bucket: str, key: str) -> None:
        self._store.delete(bucket, self._check(key))

    def list(self, bucket: str, prefix: str = "") -> list[BlobInfo]:
        """Objects of this account whose key (after the account prefix) starts with ``prefix``."""
        account_prefix = f"{uuid.UUID(str(self._account_id))}/"
        return self._store.list(bucket, account_prefix + prefix)

    def presigned_post(
        self, bucket: str, key: str, content_type: str, max_bytes: int, expires: int = 900
    ) -> PresignedPost:
        return self._store.presigned_post(
            bucket, self._check(key), content_type, max_bytes, expires
        )

    def presigned_get(self, bucket: str, key: str, filename: str, expires: int = 300) -> str:
        return self._store.presigned_get(bucket, self._check(key), filename, expires)

    def _check(self, key: str) -> str:
        return ensure_under_account(self._account_id, key)
