"""The end-of-run summary: rated and unrated counts, revenue, cost and margin, alerts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeline.catalog.model import Catalog
from pipeline.engine.records import RatedCdr
from pipeline.ledger.alerts import Alert
from pipeline.rating.fx import convert
from pipeline.rating.money import format_micro

MAX_LISTED = 20


@dataclass(slots=True)
class Summary:
    """Totals of a run. Revenue is what the operator's own customers and top-level
    resellers were charged, cost what providers are owed, both converted to the catalog
    currency at each call's start; amounts that could not be converted are kept apart.
    """

    currency: str
    rated: int = 0
    unrated: Counter[str] = field(default_factory=Counter)
    revenue: int = 0
    cost: int = 0
    by_provider: dict[str, list[int]] = field(default_factory=dict)
    unconverted: Counter[tuple[str, str]] = field(default_factory=Counter)  # (what, currency)
    alerts: Counter[str] = field(default_factory=Counter)
    payments: int = 0
    duplicates: int = 0
    bad_rows: list[str] = field(default_factory=list)

    @property
    def margin(self) -> int:
        return self.revenue - self.cost

    def add_cdr(self, line: RatedCdr, top_charge: tuple[int, str] | None, catalog: Catalog) -> None:
        if line.status != "rated":
            self.unrated[line.reason] += 1
            if len(self.bad_rows) < MAX_LISTED:
                self.bad_rows.append(f"{line.source or line.cdr_id}: {line.reason}: {line.detail}")
            return
        self.rated += 1
        assert line.start is not None and line.cost is not None and line.provider_cost is not None
        at = int(line.start.timestamp())
        amount, currency = top_charge or (line.cost, line.currency)
        revenue = self._convert(catalog, "revenue", amount, currency, at)
        cost = self._convert(catalog, "cost", line.provider_cost, line.provider_currency, at)
        totals = self.by_provider.setdefault(line.provider, [0, 0])
        if revenue is not None:
            self.revenue += revenue
            totals[0] += revenue
        if cost is not None:
            self.cost += cost
            totals[1] += cost

    def _convert(
        self, catalog: Catalog, what: str, amount: int, currency: str, at: int
    ) -> int | None:
        factor = catalog.exchange_rates.factor(currency, self.currency, at)
        if factor is None:
            self.unconverted[(what, currency)] += amount
            return None
        return convert(amount, factor)

    def add_alerts(self, alerts: tuple[Alert, ...]) -> None:
        for alert in alerts:
            self.alerts[alert.kind.value] += 1

    def render(self) -> str:
        total = self.rated + sum(self.unrated.values())
        lines = [
            f"CDRs: {total}  rated: {self.rated}  unrated: {sum(self.unrated.values())}",
        ]
        for reason, count in sorted(self.unrated.items()):
            lines.append(f"  unrated {reason}: {count}")
        c = self.currency
        lines.append(
            f"revenue: {format_micro(self.revenue)} {c}  cost: {format_micro(self.cost)} {c}  "
            f"margin: {format_micro(self.margin)} {c}"
        )
        for provider, (revenue, cost) in sorted(self.by_provider.items()):
            lines.append(
                f"  provider {provider}: revenue {format_micro(revenue)}  cost "
                f"{format_micro(cost)}  margin {format_micro(revenue - cost)} {c}"
            )
        for (what, currency), amount in sorted(self.unconverted.items()):
            lines.append(
                f"  {what} not converted to {c} (no exchange rate, left out above): "
                f"{format_micro(amount)} {currency}"
            )
        lines.append(f"payments: {self.payments}")
        if self.duplicates:
            lines.append(f"duplicates skipped (CDR or payment ids seen before): {self.duplicates}")
        alerts = ", ".join(f"{kind} {n}" for kind, n in sorted(self.alerts.items())) or "none"
        lines.append(f"alerts: {alerts}")
        if self.bad_rows:
            lines.append(f"first {len(self.bad_rows)} unrated rows:")
            lines.extend(f"  {row}" for row in self.bad_rows)
        return "\n".join(lines)
