"""``counterpromo usage``: what an account used in a month."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from counterpromo_cli.apps import command_group
from counterpromo_cli.database import transaction
from counterpromo_cli.errors import fail
from counterpromo_cli.options import AccountArg, JsonOption, parse_id
from counterpromo_cli.output import print_json, print_table

if TYPE_CHECKING:
    from counterpromo_core.ports import Clock

app = command_group("Monthly usage against plan limits.")


def _clock_for(month: str | None) -> Clock:
    from counterpromo_core.ports import ManualClock, SystemClock

    if month is None:
        return SystemClock()
    try:
        first = dt.datetime.strptime(month, "%Y-%m").replace(tzinfo=dt.UTC)
    except ValueError:
        raise fail(f"--month {month!r} is not YYYY-MM") from None
    return ManualClock(first)


@app.command()
def show(
    account: AccountArg,
    month: Annotated[
        str | None, typer.Option(help="Calendar month YYYY-MM (UTC); default: this month.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Show an account's counters for a month and its plan's limits."""
    from counterpromo_core import usage

    account_id = parse_id(account, "account")
    clock = _clock_for(month)
    with transaction() as session:
        report = usage.usage_report(session, account_id, clock=clock)
    if json_output:
        print_json(
            {
                "account_id": str(account_id),
                "month": f"{report.month:%Y-%m}",
                "plan_code": report.plan_code,
                "resets_at": report.resets_at,
                "counters": {
                    name: {"used": c.used, "limit": c.limit} for name, c in report.counters.items()
                },
            }
        )
        return
    print_table(
        f"Usage {report.month:%Y-%m} (plan {report.plan_code})",
        ["metric", "used", "limit"],
        (
            (name, c.used, "unlimited" if c.limit is None else c.limit)
            for name, c in report.counters.items()
        ),
    )
