"""What an adoption found, carried, could not carry (and why), and what it changed on the way."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RowNote:
    legacy_id: str
    text: str


@dataclass
class TableReport:
    """One original table: its rows, how many were carried now or earlier, the rest and why."""

    name: str
    target: str  # our table, or "" when the rows have no counterpart and stay in legacy only
    rows: int = 0
    carried: int = 0
    already: int = 0  # carried by an earlier run (listed in legacy_ids)
    rejected: list[RowNote] = field(default_factory=list)
    notes: list[RowNote] = field(default_factory=list)  # carried, but changed on the way

    def reject(self, legacy_id: str, reason: str) -> None:
        self.rejected.append(RowNote(legacy_id, reason))

    def note(self, legacy_id: str, text: str) -> None:
        self.notes.append(RowNote(legacy_id, text))


@dataclass
class AdoptionReport:
    dry_run: bool
    moved: list[str] = field(default_factory=list)  # tables moved into the legacy schema now
    evidence: list[str] = field(default_factory=list)
    tables: list[TableReport] = field(default_factory=list)

    def table(self, name: str, target: str) -> TableReport:
        report = TableReport(name, target)
        self.tables.append(report)
        return report

    @property
    def carried(self) -> int:
        return sum(t.carried for t in self.tables)

    @property
    def rejected(self) -> int:
        return sum(len(t.rejected) for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "moved_to_legacy_schema": self.moved,
            "evidence": self.evidence,
            "carried": self.carried,
            "not_carried": self.rejected,
            "tables": [
                {
                    "table": t.name,
                    "into": t.target or None,
                    "rows": t.rows,
                    "carried": t.carried,
                    "already_carried": t.already,
                    "not_carried": [{"id": r.legacy_id, "reason": r.text} for r in t.rejected],
                    "notes": [{"id": n.legacy_id, "note": n.text} for n in t.notes],
                }
                for t in self.tables
            ],
        }

    def lines(self) -> list[str]:
        """The report as plain lines, for the CLI and the audit trail."""
        head = "dry run: nothing was changed" if self.dry_run else "adopted"
        out = [f"original application's data ({head})"]
        if self.evidence:
            out.append(f"  recognised by: {', '.join(self.evidence)}")
        if self.moved:
            out.append(f"  moved into schema legacy: {', '.join(self.moved)}")
        for t in self.tables:
            into = f"-> {t.target}" if t.target else "(kept in legacy only: no counterpart)"
            counts = f"{t.rows} rows, {t.carried} carried"
            if t.already:
                counts += f", {t.already} carried earlier"
            if t.rejected:
                counts += f", {len(t.rejected)} NOT carried"
            out.append(f"  {t.name} {into}: {counts}")
            out.extend(_grouped("    not carried", t.rejected))
            out.extend(_grouped("    note", t.notes))
        out.append(
            f"  total: {self.carried} rows carried, {self.rejected} not carried"
            + (
                " (they stay in schema legacy; fix them there and run `counterpromo db adopt`)"
                if self.rejected
                else ""
            )
        )
        return out


def _grouped(prefix: str, rows: list[RowNote]) -> list[str]:
    by_text: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_text[row.text].append(row.legacy_id)
    return [f"{prefix}: {text_}: {', '.join(ids)}" for text_, ids in by_text.items()]
