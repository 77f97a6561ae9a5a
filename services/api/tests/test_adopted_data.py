"""The API on a database adopted from the original application (moto S3, real PostgreSQL).

This module's database is built as the original application left it
(``counterpromo_testing.original_app.build_full``) and upgraded by
``counterpromo_core.db.upgrade`` (what ``counterpromo db upgrade`` runs); an owner
key made now reads the adopted promos and items, and an adopted asset, whose S3
key is the original's, downloads through the API.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import boto3
import httpx
import pytest
from counterpromo_core import api_keys
from counterpromo_core.db import upgrade
from counterpromo_core.db.models import LegacyId
from counterpromo_core.legacy import Buckets
from counterpromo_storage.provision import ProvisionedEnv
from counterpromo_testing.databases import DatabaseServer
from counterpromo_testing.original_app import FULL_ROWS, build_full
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

PDF = b"%PDF-1.4 adopted spring flyer"


@pytest.fixture(scope="module")
def database_url(postgres_server: DatabaseServer, aws_env: ProvisionedEnv) -> Iterator[str]:
    """Overrides the plugin's migrated database: an adopted one."""
    url = postgres_server.create_database(migrated=False)
    build_full(url)
    report = upgrade(
        url, buckets=lambda: Buckets(uploads=aws_env.uploads_bucket, assets=aws_env.assets_bucket)
    )
    assert report is not None
    assert report.carried > 0
    yield url
    postgres_server.drop_database(url)


def _new_id(sessions: sessionmaker[Session], table: str, legacy_id: str) -> uuid.UUID:
    with sessions() as session:
        found = session.scalar(
            select(LegacyId.new_id).where(
                LegacyId.source_table == table, LegacyId.legacy_id == legacy_id
            )
        )
    assert found is not None, f"{table} {legacy_id} was not adopted"
    return found


@pytest.fixture(scope="module")
def harbour_key(sessions: sessionmaker[Session]) -> dict[str, str]:
    account_id = _new_id(sessions, "accounts", "clacchb0001")
    with sessions.begin() as session:
        key = api_keys.create_api_key(session, account_id, name="after adoption", role="owner")
    return {"Authorization": f"Bearer {key.plaintext}"}


def test_adopted_promos_and_items_are_read_with_a_new_key(
    http: httpx.Client, harbour_key: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    listed = http.get("/v1/promos", headers=harbour_key)
    assert listed.status_code == 200, listed.text
    titles = {p["title"] for p in listed.json()["items"]}
    assert titles == {"Spring Sale 2026", "Clearance"}

    spring = _new_id(sessions, "promos", "clprspr001")
    promo = http.get(f"/v1/promos/{spring}", headers=harbour_key)
    assert promo.status_code == 200, promo.text
    body = promo.json()
    assert (body["title"], body["subhead"], body["cta"], body["template"], body["status"]) == (
        "Spring Sale 2026",
        "Timber & tools",
        "Order at the counter",
        "bold",
        "ready",
    )
    source = {r["id"]: r for r in FULL_ROWS["promo_items"]}
    expected = [source[i] for i in ("clit000002", "clit000003", "clit000001")]
    assert [i["name"] for i in body["items"]] == [e["name"] for e in expected]
    for item, src in zip(body["items"], expected, strict=True):
        assert Decimal(str(item["sale_price"])) == src["price"]
        assert (Decimal(str(item["rrp"])) if item["rrp"] is not None else None) == src["rrp"]
        assert (item["sku"], item["unit"], item["vendor"]) == (
            src["sku"],
            src["unit"],
            src["vendor"],
        )


def test_another_accounts_adopted_promo_is_a_404(
    http: httpx.Client, harbour_key: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    theirs = _new_id(sessions, "promos", "clprtty003")
    assert http.get(f"/v1/promos/{theirs}", headers=harbour_key).status_code == 404


def test_an_adopted_asset_downloads_from_its_original_key(
    http: httpx.Client,
    harbour_key: dict[str, str],
    sessions: sessionmaker[Session],
    aws_env: ProvisionedEnv,
) -> None:
    original_key = "clacchb0001/assets/spring.pdf"  # as the original application stored it
    s3 = boto3.client("s3", region_name=aws_env.region, endpoint_url=aws_env.endpoint_url)
    s3.put_object(Bucket=aws_env.assets_bucket, Key=original_key, Body=PDF)

    asset_id = _new_id(sessions, "assets", "clas000001")
    spring = _new_id(sessions, "promos", "clprspr001")
    listed = http.get(f"/v1/promos/{spring}/assets", headers=harbour_key).json()
    assert str(asset_id) in {a["id"] for a in listed}

    response = http.get(f"/v1/assets/{asset_id}/download", headers=harbour_key)
    assert response.status_code == 302, response.text
    downloaded = httpx.get(response.headers["location"])
    assert downloaded.status_code == 200
    assert downloaded.content == PDF


def test_an_adopted_asset_of_another_account_is_a_404(
    http: httpx.Client, harbour_key: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    theirs = _new_id(sessions, "assets", "clas000004")
    assert http.get(f"/v1/assets/{theirs}/download", headers=harbour_key).status_code == 404
