"""``counterpromo accounts``: list, inspect, create, and put on a plan by hand."""

from __future__ import annotations

import getpass
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from counterpromo_cli.apps import command_group
from counterpromo_cli.database import transaction
from counterpromo_cli.options import AccountArg, JsonOption, YesOption, parse_id
from counterpromo_cli.output import console, print_fields, print_json, print_table

if TYPE_CHECKING:
    from counterpromo_core.db.models import Account, Member

app = command_group("Customer accounts.")


def account_json(account: Account) -> dict[str, Any]:
    return {
        "id": str(account.id),
        "name": account.name,
        "plan_code": account.plan_code,
        "currency": account.currency,
        "locale": account.locale,
        "subscription_status": account.subscription_status,
        "stripe_customer_id": account.stripe_customer_id,
        "stripe_subscription_id": account.stripe_subscription_id,
        "current_period_end": account.current_period_end,
        "created_at": account.created_at,
    }


def member_json(member: Member) -> dict[str, Any]:
    return {"id": str(member.id), "email": member.email, "role": member.role}


@app.command("list")
def list_accounts(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Continue after a previous page.")] = None,
    json_output: JsonOption = False,
) -> None:
    """List accounts, newest first."""
    from counterpromo_core import accounts

    with transaction() as session:
        page = accounts.list_accounts(session, limit=limit, cursor=cursor)
    if json_output:
        print_json(
            {"items": [account_json(a) for a in page.items], "next_cursor": page.next_cursor}
        )
        return
    print_table(
        "Accounts",
        ["id", "name", "plan", "subscription", "created"],
        (
            (a.id, a.name, a.plan_code, a.subscription_status or "-", f"{a.created_at:%Y-%m-%d}")
            for a in page.items
        ),
    )
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}")


@app.command()
def show(account: AccountArg, json_output: JsonOption = False) -> None:
    """Show one account, its members and its plan's entitlements."""
    from counterpromo_core import accounts, members, usage

    account_id = parse_id(account, "account")
    with transaction() as session:
        found = accounts.get_account(session, account_id)
        people = members.list_members(session, account_id)
        granted = usage.entitlements(session, account_id)
    if json_output:
        print_json(
            {
                **account_json(found),
                "members": [member_json(m) for m in people],
                "entitlements": asdict(granted),
            }
        )
        return
    print_fields(
        f"Account {found.name}",
        [
            *account_json(found).items(),
            ("watermark", granted.watermark),
            ("branch packs", granted.branch_packs),
            ("co-op report", granted.coop_report),
        ],
    )
    print_table("Members", ["id", "email", "role"], ((m.id, m.email, m.role) for m in people))


@app.command()
def create(  # noqa: PLR0917 - Typer reads each option from a parameter
    name: Annotated[str, typer.Argument(help="The dealer's name.")],
    owner_email: Annotated[str, typer.Option("--owner-email", help="The first member, owner.")],
    currency: Annotated[
        str, typer.Option(help="ISO 4217 currency of the dealer's prices, e.g. USD, GBP, CAD.")
    ],
    locale: Annotated[
        str, typer.Option(help="BCP 47 locale the prices are written in, e.g. en-US, fr-CA.")
    ],
    plan: Annotated[str, typer.Option(help="Plan code.")] = "free",
    json_output: JsonOption = False,
) -> None:
    """Create an account with its owner, its currency and its locale."""
    from counterpromo_core import accounts

    with transaction() as session:
        created = accounts.create_account(
            session,
            name=name,
            owner_email=owner_email,
            currency=currency,
            locale=locale,
            plan_code=plan,
        )
    if json_output:
        print_json(account_json(created))
        return
    console.print(
        f"created account {created.id} ({created.name}, plan {created.plan_code}, "
        f"{created.currency} {created.locale})"
    )


@app.command("set-money")
def set_money(
    account: AccountArg,
    currency: Annotated[str | None, typer.Option(help="ISO 4217 currency code, e.g. USD.")] = None,
    locale: Annotated[str | None, typer.Option(help="BCP 47 locale, e.g. en-US.")] = None,
) -> None:
    """Change the currency and/or locale an account's flyers and reports use."""
    if currency is None and locale is None:
        raise typer.BadParameter("give --currency, --locale or both")
    from counterpromo_core import accounts

    account_id = parse_id(account, "account")
    with transaction() as session:
        changed = accounts.update_account(session, account_id, currency=currency, locale=locale)
    console.print(f"account {changed.id} now prices in {changed.currency} ({changed.locale})")


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@app.command("set-plan")
def set_plan(
    account: AccountArg,
    plan: Annotated[str, typer.Argument(help="Plan code, e.g. starter.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")],
    actor: Annotated[
        str | None, typer.Option(help="Who is making the change (default: cli:$USER).")
    ] = None,
    yes: YesOption = False,
) -> None:
    """Put an account on a plan by hand (support cases); recorded as an audit event."""
    from counterpromo_core import accounts

    account_id = parse_id(account, "account")
    if not yes:
        typer.confirm(f"Put account {account_id} on plan {plan}?", abort=True)
    with transaction() as session:
        changed = accounts.set_plan_by_support(
            session, account_id, plan, actor=actor or _operator(), reason=reason
        )
    console.print(f"account {changed.id} is now on plan {changed.plan_code}")
