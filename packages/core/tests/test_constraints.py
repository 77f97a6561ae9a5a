"""Each rule the schema enforces rejects a bad row (one test per rule)."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError


@pytest.fixture
def conn(db_engine: Engine) -> Iterator[Connection]:
    with db_engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


def _account(conn: Connection, **columns: object) -> uuid.UUID:
    account_id = uuid.uuid4()
    values = {
        "id": account_id,
        "name": "Acme Builders",
        "currency": "USD",
        "locale": "en-US",
        **columns,
    }
    names = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    conn.execute(text(f"INSERT INTO accounts ({names}) VALUES ({params})"), values)  # noqa: S608
    return account_id


def _promo(conn: Connection, account_id: uuid.UUID, **columns: object) -> uuid.UUID:
    promo_id = uuid.uuid4()
    values = {"id": promo_id, "account_id": account_id, "title": "Spring sale", **columns}
    names = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    conn.execute(text(f"INSERT INTO promos ({names}) VALUES ({params})"), values)  # noqa: S608
    return promo_id


def _rejects(conn: Connection, statement: str, params: dict[str, object]) -> None:
    savepoint = conn.begin_nested()
    with pytest.raises(IntegrityError):
        conn.execute(text(statement), params)
    savepoint.rollback()


def test_account_defaults_to_free_plan(conn: Connection) -> None:
    account_id = _account(conn)
    plan = conn.execute(text("SELECT plan_code FROM accounts WHERE id = :id"), {"id": account_id})
    assert plan.scalar_one() == "free"


def test_account_currency_and_locale_are_required_and_shaped(conn: Connection) -> None:
    for statement in (
        "INSERT INTO accounts (id, name, locale) VALUES (:id, 'x', 'en-US')",
        "INSERT INTO accounts (id, name, currency) VALUES (:id, 'x', 'USD')",
        "INSERT INTO accounts (id, name, currency, locale) VALUES (:id, 'x', 'usd', 'en-US')",
        "INSERT INTO accounts (id, name, currency, locale) VALUES (:id, 'x', 'USD', 'e')",
    ):
        _rejects(conn, statement, {"id": uuid.uuid4()})


def test_account_plan_must_exist(conn: Connection) -> None:
    _rejects(
        conn,
        "INSERT INTO accounts (id, name, currency, locale, plan_code) "
        "VALUES (:id, 'x', 'USD', 'en-US', 'platinum')",
        {"id": uuid.uuid4()},
    )


def test_stripe_customer_id_is_unique(conn: Connection) -> None:
    _account(conn, stripe_customer_id="cus_1")
    _rejects(
        conn,
        "INSERT INTO accounts (id, name, currency, locale, stripe_customer_id) "
        "VALUES (:id, 'y', 'USD', 'en-US', 'cus_1')",
        {"id": uuid.uuid4()},
    )


def test_stripe_subscription_id_is_unique(conn: Connection) -> None:
    _account(conn, stripe_subscription_id="sub_1")
    _rejects(
        conn,
        "INSERT INTO accounts (id, name, currency, locale, stripe_subscription_id) "
        "VALUES (:id, 'y', 'USD', 'en-US', 'sub_1')",
        {"id": uuid.uuid4()},
    )


def test_subscription_status_is_checked(conn: Connection) -> None:
    _rejects(
        conn,
        "INSERT INTO accounts (id, name, currency, locale, subscription_status) "
        "VALUES (:id, 'y', 'USD', 'en-US', 'sleepy')",
        {"id": uuid.uuid4()},
    )


def test_usage_is_unique_per_account_and_month(conn: Connection) -> None:
    account_id = _account(conn)
    insert = (
        "INSERT INTO usage_monthly (id, account_id, month) VALUES (:id, :account, '2026-11-01')"
    )
    conn.execute(text(insert), {"id": uuid.uuid4(), "account": account_id})
    _rejects(conn, insert, {"id": uuid.uuid4(), "account": account_id})


@pytest.mark.parametrize("counter", ["promos_created", "renders"])
def test_usage_counters_are_never_negative(conn: Connection, counter: str) -> None:
    account_id = _account(conn)
    _rejects(
        conn,
        f"INSERT INTO usage_monthly (id, account_id, month, {counter}) "  # noqa: S608
        "VALUES (:id, :account, '2026-11-01', -1)",
        {"id": uuid.uuid4(), "account": account_id},
    )


def test_usage_month_is_first_day(conn: Connection) -> None:
    account_id = _account(conn)
    _rejects(
        conn,
        "INSERT INTO usage_monthly (id, account_id, month) VALUES (:id, :account, '2026-11-15')",
        {"id": uuid.uuid4(), "account": account_id},
    )


def test_promo_status_is_checked(conn: Connection) -> None:
    account_id = _account(conn)
    _rejects(
        conn,
        "INSERT INTO promos (id, account_id, title, status) VALUES (:id, :a, 't', 'published')",
        {"id": uuid.uuid4(), "a": account_id},
    )


def test_promo_template_is_checked(conn: Connection) -> None:
    account_id = _account(conn)
    _rejects(
        conn,
        "INSERT INTO promos (id, account_id, title, template) VALUES (:id, :a, 't', 'comic-sans')",
        {"id": uuid.uuid4(), "a": account_id},
    )


def test_promo_needs_an_existing_account(conn: Connection) -> None:
    _rejects(
        conn,
        "INSERT INTO promos (id, account_id, title) VALUES (:id, :a, 't')",
        {"id": uuid.uuid4(), "a": uuid.uuid4()},
    )


def test_item_price_is_never_negative(conn: Connection) -> None:
    account_id = _account(conn)
    promo_id = _promo(conn, account_id)
    _rejects(
        conn,
        "INSERT INTO promo_items (id, account_id, promo_id, position, name, sale_price) "
        "VALUES (:id, :a, :p, 0, 'Hammer', -1)",
        {"id": uuid.uuid4(), "a": account_id, "p": promo_id},
    )


def test_item_positions_are_unique_within_a_promo(conn: Connection) -> None:
    account_id = _account(conn)
    promo_id = _promo(conn, account_id)
    insert = (
        "INSERT INTO promo_items (id, account_id, promo_id, position, name) "
        "VALUES (:id, :a, :p, 0, 'Hammer')"
    )
    conn.execute(text(insert), {"id": uuid.uuid4(), "a": account_id, "p": promo_id})
    savepoint = conn.begin_nested()
    conn.execute(text(insert), {"id": uuid.uuid4(), "a": account_id, "p": promo_id})
    # The constraint is deferred (so reorders can swap positions): it fires at commit.
    with pytest.raises(IntegrityError):
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    savepoint.rollback()


def test_member_role_is_checked(conn: Connection) -> None:
    account_id = _account(conn)
    _rejects(
        conn,
        "INSERT INTO members (id, account_id, email, role) VALUES (:id, :a, 'a@b.co', 'king')",
        {"id": uuid.uuid4(), "a": account_id},
    )


def test_member_email_is_unique_within_account(conn: Connection) -> None:
    account_id = _account(conn)
    insert = "INSERT INTO members (id, account_id, email, role) VALUES (:id, :a, 'a@b.co', 'owner')"
    conn.execute(text(insert), {"id": uuid.uuid4(), "a": account_id})
    _rejects(conn, insert, {"id": uuid.uuid4(), "a": account_id})


def test_api_key_prefix_is_unique(conn: Connection) -> None:
    account_id = _account(conn)
    insert = (
        "INSERT INTO api_keys (id, account_id, name, role, prefix, key_hash) "
        "VALUES (:id, :a, 'k', 'owner', 'cpk_abc', 'h')"
    )
    conn.execute(text(insert), {"id": uuid.uuid4(), "a": account_id})
    _rejects(conn, insert, {"id": uuid.uuid4(), "a": account_id})


def test_job_status_is_checked(conn: Connection) -> None:
    account_id = _account(conn)
    _rejects(
        conn,
        "INSERT INTO jobs (id, account_id, type, status) VALUES (:id, :a, 'render_promo', 'meh')",
        {"id": uuid.uuid4(), "a": account_id},
    )


def test_job_type_is_checked(conn: Connection) -> None:
    account_id = _account(conn)
    _rejects(
        conn,
        "INSERT INTO jobs (id, account_id, type) VALUES (:id, :a, 'mine_bitcoin')",
        {"id": uuid.uuid4(), "a": account_id},
    )


def test_job_attempts_are_never_negative(conn: Connection) -> None:
    account_id = _account(conn)
    _rejects(
        conn,
        "INSERT INTO jobs (id, account_id, type, attempts) VALUES (:id, :a, 'render_promo', -1)",
        {"id": uuid.uuid4(), "a": account_id},
    )


def test_one_outbox_message_per_job(conn: Connection) -> None:
    account_id = _account(conn)
    job_id = uuid.uuid4()
    conn.execute(
        text("INSERT INTO jobs (id, account_id, type) VALUES (:id, :a, 'render_promo')"),
        {"id": job_id, "a": account_id},
    )
    insert = "INSERT INTO outbox_messages (id, job_id, body) VALUES (:id, :j, '{}')"
    conn.execute(text(insert), {"id": uuid.uuid4(), "j": job_id})
    _rejects(conn, insert, {"id": uuid.uuid4(), "j": job_id})


def test_asset_kind_is_checked(conn: Connection) -> None:
    account_id = _account(conn)
    _rejects(
        conn,
        "INSERT INTO assets (id, account_id, kind, bucket, key, content_type, size_bytes, "
        "checksum_sha256) VALUES (:id, :a, 'exe', 'b', 'k', 't', 1, 'c')",
        {"id": uuid.uuid4(), "a": account_id},
    )


def test_asset_key_is_unique_per_bucket(conn: Connection) -> None:
    account_id = _account(conn)
    insert = (
        "INSERT INTO assets (id, account_id, kind, bucket, key, content_type, size_bytes, "
        "checksum_sha256) VALUES (:id, :a, 'pdf', 'b', 'k', 't', 1, 'c')"
    )
    conn.execute(text(insert), {"id": uuid.uuid4(), "a": account_id})
    _rejects(conn, insert, {"id": uuid.uuid4(), "a": account_id})


def test_brand_colour_must_be_hex(conn: Connection) -> None:
    account_id = _account(conn)
    _rejects(
        conn,
        "INSERT INTO brand_kits (account_id, primary_color) VALUES (:a, 'red')",
        {"a": account_id},
    )


def test_stripe_event_id_is_the_primary_key(conn: Connection) -> None:
    insert = (
        "INSERT INTO stripe_events (id, type, created, payload) "
        "VALUES ('evt_1', 'invoice.paid', now(), '{}')"
    )
    conn.execute(text(insert))
    _rejects(conn, insert, {})


def test_idempotency_key_is_unique_per_account(conn: Connection) -> None:
    account_id = _account(conn)
    insert = (
        "INSERT INTO idempotency_keys (id, account_id, key, request_hash) "
        "VALUES (:id, :a, 'k1', 'h')"
    )
    conn.execute(text(insert), {"id": uuid.uuid4(), "a": account_id})
    _rejects(conn, insert, {"id": uuid.uuid4(), "a": account_id})
