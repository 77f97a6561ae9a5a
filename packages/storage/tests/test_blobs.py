"""BlobStore against moto's S3 over HTTP: objects, presigned POST uploads and GET downloads."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from counterpromo_storage.blobs import BlobNotFound, BlobStore, content_disposition
from counterpromo_storage.clients import s3_client
from counterpromo_storage.keys import KeyOutsideAccount, account_key
from counterpromo_storage.provision import ProvisionedEnv

ACCOUNT = uuid.UUID("6f1c1a52-8d0e-4a53-9a4e-2f1f3c1d2b7a")
OTHER = uuid.UUID("0b7e9f0e-3c1d-4c7e-8a55-5d8f6e1a9c20")


@pytest.fixture
def store(provisioned_aws: ProvisionedEnv) -> BlobStore:
    return BlobStore(s3_client(provisioned_aws.region, provisioned_aws.endpoint_url))


def _policy(fields: dict[str, str]) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.b64decode(fields["policy"]))
    return decoded


def test_put_get_head_list_delete(store: BlobStore, provisioned_aws: ProvisionedEnv) -> None:
    bucket = provisioned_aws.assets_bucket
    key = account_key(ACCOUNT, "renders", "r1", "promo.pdf")
    data = b"%PDF-1.7 not really"
    result = store.put(bucket, key, data, "application/pdf")
    assert result.size == len(data)
    assert result.checksum_sha256 == hashlib.sha256(data).hexdigest()
    assert result.etag

    assert store.get_bytes(bucket, key) == data
    info = store.head(bucket, key)
    assert info is not None
    assert (info.size, info.content_type, info.etag) == (len(data), "application/pdf", result.etag)
    store.put(bucket, account_key(OTHER, "renders", "x.pdf"), b"other", "application/pdf")
    assert [blob.key for blob in store.list(bucket, f"{ACCOUNT}/")] == [key]

    store.delete(bucket, key)
    assert store.head(bucket, key) is None
    with pytest.raises(BlobNotFound):
        store.get_bytes(bucket, key)


def test_list_reads_every_page(store: BlobStore, provisioned_aws: ProvisionedEnv) -> None:
    bucket = provisioned_aws.exports_bucket
    keys = [account_key(ACCOUNT, "exports", f"{n:02d}.zip") for n in range(7)]
    for key in keys:
        store.put(bucket, key, b"z", "application/zip")
    listed = store.list(bucket, f"{ACCOUNT}/exports/", page_size=2)
    assert [blob.key for blob in listed] == keys


def test_presigned_post_upload_succeeds_and_pins_key_type_and_size(
    store: BlobStore, provisioned_aws: ProvisionedEnv
) -> None:
    bucket = provisioned_aws.uploads_bucket
    key = account_key(ACCOUNT, "uploads", "u1", "products.csv")
    post = store.for_account(ACCOUNT).presigned_post(bucket, key, "text/csv", max_bytes=1024)

    conditions = _policy(post.fields)["conditions"]
    assert {"key": key} in conditions
    assert {"bucket": bucket} in conditions
    assert {"Content-Type": "text/csv"} in conditions
    assert ["content-length-range", 1, 1024] in conditions
    assert post.fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"  # signature v4

    body = b"sku,name,price\nA1,Hammer,9.99\n"
    response = httpx.post(
        post.url, data=post.fields, files={"file": ("products.csv", body, "text/csv")}
    )
    assert response.status_code == 204, response.text
    assert store.get_bytes(bucket, key) == body
    info = store.head(bucket, key)
    assert info is not None
    assert info.content_type == "text/csv"


def test_presigned_get_is_short_lived_and_names_the_download(
    store: BlobStore, provisioned_aws: ProvisionedEnv
) -> None:
    bucket = provisioned_aws.exports_bucket
    key = account_key(ACCOUNT, "exports", "bundle.zip")
    store.put(bucket, key, b"PK\x03\x04zip", "application/zip")
    url = store.for_account(ACCOUNT).presigned_get(bucket, key, "Spring promo.zip")

    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"PK\x03\x04zip"
    assert 'filename="Spring promo.zip"' in response.headers["content-disposition"]


def test_key_outside_the_account_is_refused_before_any_request() -> None:
    # Nothing listens on this port: reaching S3 would fail differently.
    store = BlobStore(s3_client("eu-west-2", "http://127.0.0.1:9")).for_account(ACCOUNT)
    foreign = account_key(OTHER, "uploads", "x.csv")
    with pytest.raises(KeyOutsideAccount):
        store.presigned_post("bucket", foreign, "text/csv", max_bytes=10)
    with pytest.raises(KeyOutsideAccount):
        store.presigned_get("bucket", foreign, "x.csv")
    with pytest.raises(KeyOutsideAccount):
        store.put("bucket", foreign, b"x", "text/csv")
    with pytest.raises(KeyOutsideAccount):
        store.get_bytes("bucket", f"{ACCOUNT}/../{OTHER}/x.csv")


def test_expiry_and_size_are_validated(store: BlobStore) -> None:
    with pytest.raises(ValueError, match="expiry"):
        store.presigned_get("b", "k", "f", expires=8 * 24 * 3600)
    with pytest.raises(ValueError, match="max_bytes"):
        store.presigned_post("b", "k", "text/csv", max_bytes=0)


def test_content_disposition_keeps_the_header_safe() -> None:
    header = content_disposition('évil"\r\nX-Injected: 1.pdf')
    assert "\r" not in header
    assert "\n" not in header
    assert header.startswith('attachment; filename="')
    assert "filename*=UTF-8''%C3%A9vil" in header
