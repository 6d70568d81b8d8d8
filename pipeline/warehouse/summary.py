"""The run summary read back from the warehouse: the same figures the offline command prints."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.catalog.model import Catalog
from pipeline.engine.records import RatedCdr
from pipeline.offline.summary import Summary
from pipeline.rating.money import to_micro
from pipeline.warehouse.base import Readable, Warehouse
from pipeline.warehouse.export import export_outputs


def _micro(text: Any) -> int | None:
    return None if text is None else to_micro(Decimal(str(text)))


def rated_from_line(line: dict[str, Any]) -> RatedCdr:
    """A rated.jsonl line back into the record the summary counts."""
    start = line["start"]
    return RatedCdr(
        cdr_id=line["cdr_id"],
        status=line["status"],
        reason=line["reason"],
        detail=line["detail"],
        source=line["source"],
        account=line["account"],
        customer=line["customer"],
        payer=line["payer"],
        provider=line["provider"],
        code=line["code"],
        code_name=line["code_name"],
        start=None if start is None else datetime.fromisoformat(start),
        duration=line["duration"],
        billed_seconds=line["billed_seconds"],
        covered_seconds=line["covered_seconds"],
        cost=_micro(line["cost"]),
        currency=line["currency"],
        provider_cost=_micro(line["provider_cost"]),
        provider_currency=line["provider_currency"],
    )


def _lines(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file]


def summarize(warehouse: Warehouse, catalog: Catalog) -> Summary:
    """Summarize what the warehouse holds, as `cdr-pipeline rate` summarizes its run."""
    with tempfile.TemporaryDirectory(prefix="cdr-summary-") as tmp:
        out = Path(tmp)
        export_outputs(warehouse, out)
        postings = _lines(out / "postings.jsonl")
        charges = {p["posting_id"]: p for p in postings if p["party_type"] == "reseller"}
        summary = Summary(
            catalog.currency, payments=len({p["payment_id"] for p in postings} - {""})
        )
        for line in _lines(out / "rated.jsonl"):
            rated = rated_from_line(line)
            top = None
            customer = catalog.customers.get(rated.customer)
            chain = catalog.reseller_chain(customer) if customer and rated.status == "rated" else []
            if chain:
                charge = charges.get(f"{rated.cdr_id}/reseller/{chain[-1].id}")
                if charge is not None:
                    top = (-(_micro(charge["amount"]) or 0), str(charge["currency"]))
            summary.add_cdr(rated, top, catalog)
        for alert in _lines(out / "alerts.jsonl"):
            summary.alerts[str(alert["kind"])] += 1
    return summary


def wait_until_settled(
    warehouse: Warehouse, expected: int, timeout: float, poll: float = 1.0
) -> int:
    """Wait until `expected` CDRs are in the warehouse and no row has arrived for two polls.

    Returns the number of CDRs found; raises TimeoutError saying how far it got.
    """
    import time

    database = warehouse.database
    sql = (
        f"SELECT (SELECT count() FROM {database}.rated_cdrs FINAL) AS rated, "
        f"(SELECT count() FROM {database}.postings) AS postings, "
        f"(SELECT count() FROM {database}.alerts) AS alerts, "
        f"(SELECT count() FROM {database}.balances) AS balances"
    )
    deadline = time.monotonic() + timeout
    previous: tuple[int, ...] = ()
    steady = 0
    while True:
        row = warehouse.rows(sql)[0]
        counts = tuple(int(str(row[k])) for k in ("rated", "postings", "alerts", "balances"))
        steady = steady + 1 if counts == previous else 0
        previous = counts
        if counts[0] >= expected and steady >= 2:
            return counts[0]
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"only {counts[0]} of {expected} CDRs reached ClickHouse in {timeout:.0f} s "
                "(is the worker running? see its log)"
            )
        time.sleep(poll)


def blocked_counts(warehouse: Readable) -> dict[str, int]:
    """Parties blocked now (providers: disabled) by party type, as landed in `balances`.

    Read through `FINAL`, so each party counts once, at its latest snapshot; a party
    type with none blocked is absent.
    """
    database = warehouse.database
    sql = (
        f"SELECT party_type, toUInt64(sum(blocked)) AS blocked FROM {database}.balances FINAL "
        "GROUP BY party_type HAVING blocked > 0"
    )
    return {str(row["party_type"]): int(str(row["blocked"])) for row in warehouse.rows(sql)}
