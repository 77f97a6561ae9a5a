"""``plans``, ``accounts``, ``keys`` and ``usage`` against a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

from counterpromo_cli.testing import Cli
from counterpromo_core import api_keys, usage
from counterpromo_core.db.models import AuditEvent, BillingPlan
from counterpromo_core.ports import ManualClock, SystemClock
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker


def _create_account(cli: Cli, name: str = "Harbour Timber", plan: str = "free") -> str:
    created = cli.json(
        "accounts",
        "create",
        name,
        "--owner-email",
        "owner@harbour.example",
        "--currency",
        "CAD",
        "--locale",
        "fr-CA",
        "--plan",
        plan,
        "--json",
    )
    return str(created["id"])


def test_plans_list_shows_shipped_plans(cli: Cli) -> None:
    plans = cli.json("plans", "list", "--json")
    assert [p["code"] for p in plans] == ["free", "starter", "pro", "dealer"]
    assert plans[0]["watermark"] is True
    table = cli.run("plans", "list")
    assert table.exit_code == 0
    assert "Starter" in table.stdout


def test_plans_sync_restores_shipped_values(cli: Cli, sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        session.execute(update(BillingPlan).where(BillingPlan.code == "pro").values(max_seats=1))
    result = cli.run("plans", "sync")
    assert result.exit_code == 0, result.output
    assert "4 plans written" in result.stdout
    with sessions() as session:
        assert session.get(BillingPlan, "pro").max_seats == 10  # type: ignore[union-attr]


def test_accounts_create_list_show(cli: Cli) -> None:
    account_id = _create_account(cli, "Northgate Builders Merchants")
    listed = cli.json("accounts", "list", "--json", "--limit", "200")
    assert account_id in [a["id"] for a in listed["items"]]
    shown = cli.json("accounts", "show", account_id, "--json")
    assert shown["name"] == "Northgate Builders Merchants"
    assert (shown["currency"], shown["locale"]) == ("CAD", "fr-CA")
    assert shown["members"][0]["email"] == "owner@harbour.example"
    assert shown["members"][0]["role"] == "owner"
    assert shown["entitlements"]["watermark"] is True
    people = cli.run("accounts", "show", account_id)
    assert people.exit_code == 0
    assert "owner@harbour.example" in people.stdout


def test_accounts_create_with_unknown_plan_is_one_line(cli: Cli) -> None:
    line = cli.error_line(
        "accounts",
        "create",
        "X",
        "--owner-email",
        "a@b.example",
        "--currency",
        "USD",
        "--locale",
        "en-US",
        "--plan",
        "platinum",
    )
    assert "platinum" in line


def test_accounts_create_needs_a_known_currency_and_locale(cli: Cli) -> None:
    base = ("accounts", "create", "X", "--owner-email", "a@b.example")
    missing = cli.run(*base)
    assert missing.exit_code != 0
    assert "--currency" in missing.output
    assert "'DOLLARS' is not an ISO 4217 currency code" in cli.error_line(
        *base, "--currency", "DOLLARS", "--locale", "en-US"
    )
    assert "'en_XX' is not a known BCP 47 locale" in cli.error_line(
        *base, "--currency", "USD", "--locale", "en_XX"
    )


def test_set_money_changes_currency_and_locale(cli: Cli) -> None:
    account_id = _create_account(cli)
    result = cli.run("accounts", "set-money", account_id, "--currency", "usd", "--locale", "en-us")
    assert result.exit_code == 0, result.output
    shown = cli.json("accounts", "show", account_id, "--json")
    assert (shown["currency"], shown["locale"]) == ("USD", "en-US")
    assert "ZZZ" in cli.error_line("accounts", "set-money", account_id, "--currency", "ZZZ")


def test_unknown_or_malformed_account_is_one_line(cli: Cli) -> None:
    missing = str(uuid.uuid4())
    assert missing in cli.error_line("accounts", "show", missing)
    assert "not a UUID" in cli.error_line("usage", "show", "nope")


def test_set_plan_records_audit_event(cli: Cli, sessions: sessionmaker[Session]) -> None:
    account_id = _create_account(cli)
    result = cli.run(
        "accounts",
        "set-plan",
        account_id,
        "pro",
        "--reason",
        "goodwill, ticket 4411",
        "--actor",
        "support:amy",
        "--yes",
    )
    assert result.exit_code == 0, result.output
    assert cli.json("accounts", "show", account_id, "--json")["plan_code"] == "pro"
    with sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.account_id == uuid.UUID(account_id))
        ).one()
    assert event.actor == "support:amy"
    assert event.detail == {"from": "free", "to": "pro", "reason": "goodwill, ticket 4411"}


def test_set_plan_asks_first_and_unknown_plan_fails(cli: Cli) -> None:
    account_id = _create_account(cli)
    declined = cli.run("accounts", "set-plan", account_id, "pro", "--reason", "r", input="n\n")
    assert declined.exit_code == 1
    assert cli.json("accounts", "show", account_id, "--json")["plan_code"] == "free"
    assert (
        "platinum"
        in cli.run("accounts", "set-plan", account_id, "platinum", "--reason", "r", "--yes").output
    )


def test_keys_create_prints_a_working_key_once(cli: Cli, sessions: sessionmaker[Session]) -> None:
    account_id = _create_account(cli)
    created = cli.run("keys", "create", account_id, "--name", "shop till", "--role", "admin")
    assert created.exit_code == 0, created.output
    plaintext = next(w for w in created.stdout.split() if w.startswith("cpk_"))
    with sessions.begin() as session:
        actor = api_keys.authenticate(session, plaintext, clock=SystemClock())
    assert actor is not None
    assert str(actor.account_id) == account_id
    assert actor.role == "admin"

    listed = cli.json("keys", "list", account_id, "--json")
    assert len(listed) == 1
    assert plaintext not in cli.run("keys", "list", account_id).stdout
    assert listed[0]["revoked_at"] is None

    revoked = cli.run("keys", "revoke", account_id, listed[0]["id"], "--yes")
    assert revoked.exit_code == 0, revoked.output
    with sessions.begin() as session:
        assert api_keys.authenticate(session, plaintext, clock=SystemClock()) is None


def test_keys_revoke_of_another_accounts_key_is_not_found(cli: Cli) -> None:
    owner = _create_account(cli)
    other = _create_account(cli, "Other")
    key = cli.json("keys", "create", owner, "--name", "k", "--json")
    line = cli.error_line("keys", "revoke", other, key["id"], "--yes")
    assert key["id"] in line
    assert "cpk_" not in line


def test_usage_show_reads_the_requested_month(cli: Cli, sessions: sessionmaker[Session]) -> None:
    account_id = _create_account(cli)

    march_clock = ManualClock(dt.datetime(2025, 3, 14, 12, tzinfo=dt.UTC))
    with sessions.begin() as session:
        usage.consume(session, uuid.UUID(account_id), "renders", 2, clock=march_clock)
    march = cli.json("usage", "show", account_id, "--month", "2025-03", "--json")
    assert march["counters"]["renders"] == {"used": 2, "limit": 10}
    assert march["month"] == "2025-03"
    april = cli.json("usage", "show", account_id, "--month", "2025-04", "--json")
    assert april["counters"]["renders"]["used"] == 0
    assert "YYYY-MM" in cli.error_line("usage", "show", account_id, "--month", "March")
