"""``coop_report``: the promo's co-op funds by vendor as a CSV, to the exports bucket.

The CSV escapes cells a spreadsheet would run as formulas (see ``reports.csv_safety``).
"""

from __future__ import annotations

from typing import Any

from counterpromo_core import accounts, promos
from sqlalchemy.orm import Session

from counterpromo_worker.handlers.outputs import output_key, record_output, store_output
from counterpromo_worker.reports import CoopLine, coop_report_csv
from counterpromo_worker.runtime.context import JobContext


def run(ctx: JobContext) -> None:
    with ctx.sessions() as session:
        promo = promos.get_promo(session, ctx.account_id, ctx.require_promo_id())
        currency = accounts.get_account(session, ctx.account_id).currency
    lines = [
        CoopLine(
            sku=item.sku,
            name=item.name,
            vendor=item.vendor,
            coop_vendor=item.coop_vendor,
            coop_amount=item.coop_amount,
            coop_note=item.coop_note,
            sale_price=item.sale_price,
        )
        for item in promo.items
    ]
    report = store_output(
        ctx,
        kind="csv",
        bucket=ctx.services.config.exports_bucket,
        key=output_key(ctx, "coop-report.csv"),
        data=coop_report_csv(lines, currency),
        content_type="text/csv; charset=utf-8",
    )

    def write(session: Session) -> dict[str, Any]:
        asset = record_output(session, ctx, report)
        funded = [line for line in lines if line.coop_vendor]
        return {
            "asset_id": str(asset.id),
            "key": report.key,
            "lines": len(funded),
            "vendors": len({line.coop_vendor for line in funded}),
        }

    ctx.finish(write)
