"""``counterpromo stripe``: price map in SSM (moto) and stored events (PostgreSQL, fake Stripe)."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from counterpromo_billing.event_store import parse_event, store_event
from counterpromo_billing.single_subscription import keep_one_live_subscription
from counterpromo_billing.testing import shapes
from counterpromo_billing.testing.fake_stripe import FakeStripe
from counterpromo_cli.testing import Cli
from counterpromo_core.db.models import Account, StripeEvent
from counterpromo_storage.clients import ssm_client
from counterpromo_storage.provision import ProvisionedEnv
from sqlalchemy.orm import Session, sessionmaker


def _store(sessions: sessionmaker[Session], event_type: str, obj: dict[str, object]) -> str:
    event_id = shapes.new_id("evt_")
    body = shapes.event(
        event_id, event_type=event_type, obj=obj, created=int(time.time()), api_version="2025-09-30"
    )
    with sessions.begin() as session:
        store_event(session, parse_event(json.dumps(body).encode()))
    return event_id


def test_price_map_set_writes_ssm_and_list_shows_it(
    cli: Cli, provisioned_aws: ProvisionedEnv
) -> None:
    result = cli.run("stripe", "price-map", "set", "price_1NewPro", "pro", "--env", "test")
    assert result.exit_code == 0, result.output
    ssm = ssm_client(provisioned_aws.region, provisioned_aws.endpoint_url)
    stored = ssm.get_parameter(Name="/counterpromo/test/billing/price_map/price_1NewPro")
    assert stored["Parameter"]["Value"] == "pro"
    listed = cli.json("stripe", "price-map", "list", "--env", "test", "--json")
    assert listed["price_1NewPro"] == "pro"
    assert listed[provisioned_aws.plan_prices["starter"]] == "starter"


def test_price_map_set_accepts_a_legacy_plan_id(cli: Cli, provisioned_aws: ProvisionedEnv) -> None:
    result = cli.run("stripe", "price-map", "set", "gold-monthly-2019", "dealer", "--env", "test")
    assert result.exit_code == 0, result.output
    listed = cli.json("stripe", "price-map", "list", "--env", "test", "--json")
    assert listed["gold-monthly-2019"] == "dealer"
    assert provisioned_aws.env == "test"


def test_price_map_set_refuses_unknown_plan_and_bad_price(
    cli: Cli, provisioned_aws: ProvisionedEnv
) -> None:
    assert "platinum" in cli.error_line(
        "stripe", "price-map", "set", "price_1X", "platinum", "--env", "test"
    )
    assert "not a Stripe price id" in cli.error_line(
        "stripe", "price-map", "set", "prod_1X", "pro", "--env", "test"
    )
    assert "not a Stripe price id" in cli.error_line(
        "stripe", "price-map", "set", "a/b", "pro", "--env", "test"
    )
    listed = cli.json("stripe", "price-map", "list", "--env", "test", "--json")
    assert "price_1X" not in listed
    assert provisioned_aws.env == "test"


@pytest.fixture
def stripe_env(
    provisioned_aws: ProvisionedEnv, fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> ProvisionedEnv:
    monkeypatch.setenv("STRIPE_API_BASE", fake_stripe.base_url)
    monkeypatch.setenv("STRIPE_SECRET_KEY", fake_stripe.secret_key)
    return provisioned_aws


@pytest.mark.usefixtures("stripe_env")
def test_events_list_and_replay(cli: Cli, sessions: sessionmaker[Session]) -> None:
    ignored = _store(sessions, "charge.succeeded", {"id": "ch_1", "object": "charge"})
    broken = _store(
        sessions,
        "customer.subscription.updated",
        {"id": "sub_doesnotexist", "object": "subscription", "customer": "cus_nobody"},
    )
    pending = cli.json("stripe", "events", "list", "--unprocessed", "--json")
    assert {ignored, broken} <= {e["id"] for e in pending}

    replayed = cli.run("stripe", "events", "replay", ignored)
    assert replayed.exit_code == 0, replayed.output
    assert "ignored" in replayed.stdout
    with sessions() as session:
        row = session.get(StripeEvent, ignored)
        assert row is not None
        assert row.processed_at is not None

    line = cli.error_line("stripe", "events", "replay", broken)
    assert broken in line
    assert "still unattributed" in line
    assert "cus_nobody" in line
    with sessions() as session:
        row = session.get(StripeEvent, broken)
        assert row is not None
        assert row.ignored_reason
        assert "cus_nobody" in row.ignored_reason
    unattributed = cli.json("stripe", "events", "list", "--unattributed", "--json")
    assert broken in {e["id"] for e in unattributed}
    assert ignored not in {e["id"] for e in unattributed}
    listed = cli.json("stripe", "events", "list", "--json")
    assert {e["id"]: e["attempts"] for e in listed}[ignored] == 1
    assert "no stripe event evt_missing" in cli.error_line(
        "stripe", "events", "replay", "evt_missing"
    )


@pytest.mark.usefixtures("stripe_env")
def test_audit_shows_duplicate_subscriptions_cancelled(
    cli: Cli, sessions: sessionmaker[Session], fake_stripe: FakeStripe
) -> None:
    with sessions.begin() as session:
        account = Account(
            id=uuid.uuid4(), name="Two Tabs Ltd", plan_code="free", currency="GBP", locale="en-GB"
        )
        session.add(account)
    customer = fake_stripe.create_customer(account_id=str(account.id))
    first = fake_stripe.create_subscription(customer["id"], "price_test_first")
    second = fake_stripe.create_subscription(customer["id"], "price_test_second")
    with sessions.begin() as session:
        keep_one_live_subscription(
            session, fake_stripe.client(), account.id, customer["id"], actor="stripe"
        )
    rows = cli.json("stripe", "audit", "--json")
    mine = [r for r in rows if r["account_id"] == str(account.id)]
    assert [r["action"] for r in mine] == ["billing.duplicate_subscription_canceled"]
    assert (mine[0]["detail"]["kept"], mine[0]["detail"]["canceled"]) == (second["id"], first["id"])
    assert fake_stripe.subscription(first["id"])["status"] == "canceled"
    table = cli.run("stripe", "audit")
    assert table.exit_code == 0, table.output
    assert "duplicate_subscription" in table.stdout
