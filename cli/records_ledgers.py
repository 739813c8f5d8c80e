"""Places and money in the business record: `kosh quotas` (kandas and foreign-labour quota
places per year) and `kosh payments` (a case's disbursements, repayments and balance)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Annotated, Any

import typer
from rich.markup import escape

from cli.common import JsonFlag, StateOpt, _emit, out
from cli.connect import with_record
from cli.tables import kzt, row, table, unknown_case
from domain.model import tenge
from store.events import count_events
from store.pool import Conn
from store.queries import Payment, balance_owed, payments_for, quota_usage


def quotas(
    year: Annotated[int | None, typer.Option(help="Only this year.")] = None,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Quota places per year: the kandas places per region, the allocation rounds that granted
    them (per region: places, candidates, granted, not reached, cut-off score), and beside
    them the foreign-labour places per industry, region and project."""
    from store.labour import labour_quota_usage
    from store.rounds import rounds

    async def all_three(conn: Conn) -> tuple[list[Any], list[Any], list[Any]]:
        return (
            await quota_usage(conn, year=year),
            await labour_quota_usage(conn, year=year),
            await rounds(conn, year=year),
        )

    kandas, labour, held = with_record(state, all_three)
    if as_json:
        _emit(
            {
                "kandas": [r.model_dump(mode="json") for r in kandas],
                "rounds": [r.model_dump(mode="json") for r in held],
                "labour": [r.model_dump(mode="json") for r in labour],
            },
            True,
            "",
        )
        return
    numbers = ("Capacity", "Reserved", "Released", "In use", "Left")
    when = f" in {year}" if year is not None else ""
    if kandas:
        shown = table("Kandas places (regional quota)", "Region", "Year", *numbers, right=numbers)
        for r in kandas:
            row(shown, r.region, r.year, r.capacity, r.reserved, r.released, r.in_use, r.available)
        out.print(shown)
    else:
        out.print("no kandas quota places reserved" + when)
    if held:
        counts = ("Places", "Candidates", "Granted", "Not reached", "Cut-off")
        shown = table(
            "Allocation rounds (ranked by frozen score, ties by submission time)",
            "Region",
            "Round",
            "Period",
            *counts,
            right=counts,
        )
        for x in held:
            row(
                shown,
                x.region,
                x.number,
                x.period,
                x.places,
                x.candidates,
                "open" if x.granted is None else x.granted,
                x.not_reached,
                "-" if x.cut_off is None else x.cut_off,
            )
        out.print(shown)
    else:
        out.print("no allocation rounds held" + when)
    if labour:
        shown = table(
            "Foreign-labour places (labour quota)",
            "Industry",
            "Region",
            "Project",
            "Year",
            *numbers,
            right=numbers,
        )
        for x in labour:
            row(
                shown,
                x.industry,
                x.region,
                x.project or "-",
                x.year,
                x.capacity,
                x.reserved,
                x.released,
                x.in_use,
                x.available,
            )
        out.print(shown)
    else:
        out.print("no foreign-labour places reserved" + when)


@dataclass(frozen=True)
class Ledger:
    events: int
    payments: list[Payment]
    owed_tiyn: int


async def _ledger(conn: Conn, case_id: str) -> Ledger:
    return Ledger(
        events=await count_events(conn, case_id=case_id),
        payments=await payments_for(conn, case_id=case_id),
        owed_tiyn=await balance_owed(conn, case_id=case_id),
    )


def payments(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """A case's disbursements and repayments, and the balance it still owes."""
    ledger = with_record(state, lambda conn: _ledger(conn, case_id))
    if not ledger.events:
        unknown_case(case_id)
    paid = sum(p.amount_tiyn for p in ledger.payments if p.kind == "disbursement")
    repaid = sum(p.amount_tiyn for p in ledger.payments if p.kind == "repayment")
    if as_json:
        data = {
            "case_id": case_id,
            "payments": [p.model_dump(mode="json") for p in ledger.payments],
            "paid_out_tiyn": paid,
            "repaid_tiyn": repaid,
            "balance_owed_tiyn": ledger.owed_tiyn,
        }
        _emit(data, True, "")
        return
    if ledger.payments:
        shown = table(
            f"case {escape(case_id)}: payments",
            "Date",
            "Kind",
            "Measure",
            "Period",
            "Amount (KZT)",
            "Reference",
            "Idempotency key",
            right=("Amount (KZT)",),
        )
        for p in ledger.payments:
            row(
                shown,
                p.occurred_at.astimezone(UTC).date(),
                p.kind,
                p.measure,
                p.period,
                kzt(p.amount_tiyn),
                p.reference,
                p.idempotency_key,
            )
        out.print(shown)
    else:
        out.print(f"case {escape(case_id)}: no payments")
    out.print(
        f"paid out {tenge(paid)}, repaid {tenge(repaid)}, "
        f"balance owed [bold]{tenge(ledger.owed_tiyn)}[/bold]"
    )
