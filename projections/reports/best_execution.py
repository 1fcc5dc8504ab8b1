"""The best-execution report: per order the execution-quality figures, and aggregates laid
out after the amended SEC Rule 605 tables (by symbol, day, order type, order size).

Per-order figures come from the execution_quality read model (docs/metrics.md). The
aggregates weight by shares as Rule 605 does; docs/compliance.md defines each column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from execledger.projections.schema import Row
from execledger.projections.values import json_ready, rounded

ORDER_KEYS = (
    "order_id",
    "symbol",
    "side",
    "order_type",
    "size_bucket",
    "status",
    "quantity",
    "filled_quantity",
    "unfilled_quantity",
    "arrival_bid",
    "arrival_ask",
    "arrival_mid",
    "quoted_spread",
    "average_fill_price",
    "slippage_bps",
    "effective_spread",
    "price_improvement",
    "opportunity_cost",
    "time_to_first_fill_seconds",
    "time_to_complete_seconds",
    "fill_rate",
    "repegs",
    "escalated",
    "requested_at",
)

#: The execution_quality columns the report reads.
READ_COLUMNS = frozenset(
    {
        *(k for k in ORDER_KEYS if k not in ("order_type", "size_bucket", "status", "quoted_spread")),
        "first_order_type",
        "first_limit_price",
        "improvement_quantity",
    }
)

#: Order-size categories by notional value at arrival (the amended Rule 605's), upper bounds.
SIZE_BUCKETS: tuple[tuple[str, Decimal | None], ...] = (
    ("< $250", Decimal(250)),
    ("$250 to < $1,000", Decimal(1_000)),
    ("$1,000 to < $5,000", Decimal(5_000)),
    ("$5,000 to < $20,000", Decimal(20_000)),
    ("$20,000 to < $50,000", Decimal(50_000)),
    ("$50,000 to < $200,000", Decimal(200_000)),
    (">= $200,000", None),
)
FRACTIONAL = "fractional (< 1 share)"
CLOSED = frozenset({"completed", "expired", "failed", "denied"})


def order_type(row: Row) -> str:
    """Rule 605's category of the order as first sent: market, marketable limit (at or
    through the far touch at arrival) or non-marketable limit; "not sent" if never placed."""
    first = row["first_order_type"]
    if first is None:
        return "not sent"
    if first == "MARKET":
        return "market"
    limit: Decimal = row["first_limit_price"]
    far = row["arrival_ask"] if row["side"] == "BUY" else row["arrival_bid"]
    if far is None:
        return "limit (no arrival quote)"
    marketable = limit >= far if row["side"] == "BUY" else limit <= far
    return "marketable limit" if marketable else "non-marketable limit"


def size_bucket(row: Row) -> str:
    """The order's size category: fractional, else by notional at the arrival mid (or the
    average fill price when no quote was had)."""
    quantity: Decimal = row["quantity"]
    if quantity < 1:
        return FRACTIONAL
    price = row["arrival_mid"] or row["average_fill_price"]
    if price is None:
        return "unpriced"
    notional = quantity * price
    return next(name for name, bound in SIZE_BUCKETS if bound is None or notional < bound)


#: The figures the categories and aggregates compute with (Decimals; the rest is only shown).
NUMERIC = (
    "quantity",
    "filled_quantity",
    "unfilled_quantity",
    "arrival_bid",
    "arrival_ask",
    "arrival_mid",
    "average_fill_price",
    "slippage_bps",
    "effective_spread",
    "price_improvement",
    "improvement_quantity",
    "opportunity_cost",
    "time_to_first_fill_seconds",
    "first_limit_price",
)


def order_entry(row: Row, status: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """One order: its figures as numbers (for the aggregates) and its entry JSON-ready.

    ``row`` may hold a Decimal column as a Decimal or as its stored text (the report reads
    them as text: one order's entry is one dict of strings, no round trip through Decimal).
    """
    figures: dict[str, Any] = {  # stored text or a Decimal, as a Decimal (inline: one per column)
        key: value if (value := row[key]) is None or type(value) is Decimal else Decimal(value)
        for key in NUMERIC
    }
    figures["side"] = row["side"]
    figures["first_order_type"] = row["first_order_type"]
    figures["escalated"] = row["escalated"]
    figures["status"] = status
    bid = figures["arrival_bid"]
    figures["quoted_spread"] = None if bid is None else figures["arrival_ask"] - bid
    entry = _shown_entry(row)
    entry["order_type"] = order_type(figures)
    entry["size_bucket"] = size_bucket(figures)
    entry["status"] = status
    entry["quoted_spread"] = _shown(figures["quoted_spread"])
    entry["improvement_quantity"] = _shown(figures["improvement_quantity"])
    return figures, entry


def _shown_entry(row: Row) -> dict[str, Any]:
    """The order's ORDER_KEYS, each in ``json_ready``'s form, the common cases inline (one
    entry per order): stored decimal text already is ``str(d)``, which is
    ``format(d, "f")`` unless it has an exponent."""
    entry: dict[str, Any] = {}
    for key in ORDER_KEYS:
        value: Any = row.get(key)
        kind = type(value)
        if kind is str:
            if "E" in value and key in _DECIMALS:
                value = format(Decimal(value), "f")
        elif kind is Decimal:
            value = format(value, "f")
        elif not (kind is int or kind is bool or value is None):
            value = json_ready(value)
        entry[key] = value
    return entry


def _shown(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


#: The decimal columns an order's entry shows.
_DECIMALS = frozenset(
    {
        *NUMERIC,
        "quoted_spread",
        "time_to_complete_seconds",
        "fill_rate",
    }
)


#: What ``_Totals`` sums: (weighted figure, its weight). Rule 605 weights by shares.
_WEIGHTED = (
    ("slippage_bps", "filled_quantity"),
    ("effective_spread", "filled_quantity"),
    ("price_improvement", "improvement_quantity"),
    ("time_to_first_fill_seconds", "filled_quantity"),
)
_ZERO = Decimal(0)


class _Totals:
    """Running sums of one group of orders (one pass over the orders for every grouping)."""

    __slots__ = ("cancelled", "escalated", "filled", "opportunity", "orders", "shares", "sums", "unquoted")

    def __init__(self) -> None:
        self.orders = self.unquoted = self.escalated = 0
        self.shares = self.filled = self.cancelled = self.opportunity = _ZERO
        #: per weighted figure (and the quoted spread of the priced orders): [sum w*v, sum w]
        self.sums = [[_ZERO, _ZERO] for _ in range(len(_WEIGHTED) + 1)]

    def add(self, entry: dict[str, Any], products: list[tuple[Decimal, Decimal] | None]) -> None:
        self.orders += 1
        self.shares += entry["quantity"]
        self.filled += entry["filled_quantity"]
        if entry["arrival_mid"] is None:
            self.unquoted += 1
        if entry["escalated"]:
            self.escalated += 1
        if entry["status"] in CLOSED:
            self.cancelled += entry["unfilled_quantity"]
        if entry["opportunity_cost"] is not None:
            self.opportunity += entry["opportunity_cost"]
        for pair, product in zip(self.sums, products, strict=True):
            if product is not None:
                pair[0] += product[0]
                pair[1] += product[1]

    def merge(self, other: _Totals) -> None:
        """Add another group's sums to this one's."""
        self.orders += other.orders
        self.unquoted += other.unquoted
        self.escalated += other.escalated
        self.shares += other.shares
        self.filled += other.filled
        self.cancelled += other.cancelled
        self.opportunity += other.opportunity
        for pair, more in zip(self.sums, other.sums, strict=True):
            pair[0] += more[0]
            pair[1] += more[1]

    def figures(self) -> dict[str, Any]:
        """Rule 605-style figures of the group (share-weighted)."""
        slippage, effective, improvement, time, quoted = (
            (total / weight if weight else None) for total, weight in self.sums
        )
        ratio = effective / quoted if effective is not None and quoted else None
        return {
            "orders": self.orders,
            "orders_without_quote": self.unquoted,
            "escalated_orders": self.escalated,
            "shares": self.shares,
            "filled_shares": self.filled,
            "cancelled_shares": self.cancelled,
            "fill_rate": rounded(self.filled / self.shares, "0.0001") if self.shares else None,
            "average_slippage_bps": _round(slippage, "0.01"),
            "average_effective_spread": _round(effective, "0.0001"),
            "average_quoted_spread": _round(quoted, "0.0001"),
            "effective_to_quoted_spread": _round(ratio, "0.0001"),
            "average_price_improvement": _round(improvement, "0.0001"),
            "average_time_to_execution_seconds": _round(time, "0.001"),
            "opportunity_cost": self.opportunity,
        }


def _products(entry: dict[str, Any]) -> list[tuple[Decimal, Decimal] | None]:
    """(weight x figure, weight) of each weighted figure of one order (None: not counted)."""
    out: list[tuple[Decimal, Decimal] | None] = []
    for key, weight_key in _WEIGHTED:
        value, weight = entry[key], entry[weight_key]
        out.append((weight * value, weight) if value is not None and weight else None)
    spread, filled = entry["quoted_spread"], entry["filled_quantity"]
    priced = entry["effective_spread"] is not None and spread is not None and filled
    out.append((filled * spread, filled) if priced else None)
    return out


def aggregate(rows: Sequence[Row], statuses: dict[Any, str]) -> dict[str, Any]:
    """Rule 605-style figures of a group of orders (share-weighted)."""
    totals = _Totals()
    for row in rows:
        figures, _ = order_entry(row, statuses.get(row["order_id"]))
        totals.add(figures, _products(figures))
    return totals.figures()


def _round(value: Decimal | None, step: str) -> Decimal | None:
    return None if value is None else rounded(value, step)


#: The groupings of the report: (report key, the group's name), in the order of the fine key.
GROUPINGS: tuple[tuple[str, str], ...] = (
    ("by_symbol", "symbol"),
    ("by_day", "day"),
    ("by_order_type", "order_type"),
    ("by_size", "size_bucket"),
)


def best_execution(rows: Iterable[Row], statuses: dict[Any, str]) -> dict[str, Any]:
    """The report: orders (JSON-ready), overall and grouped aggregates (typed values).

    Each order is added once, to the group of its (symbol, day, type, size); those fine
    groups are then merged into each grouping (far fewer additions than one per grouping).
    """
    entries: list[dict[str, Any]] = []
    fine: dict[tuple[str, ...], _Totals] = {}
    for row in rows:
        figures, entry = order_entry(row, statuses.get(row["order_id"]))
        entries.append(entry)
        key: tuple[str, ...] = (
            str(row["symbol"]),
            _day(row["requested_at"]),
            entry["order_type"],
            entry["size_bucket"],
        )
        totals = fine.get(key)
        if totals is None:
            totals = fine[key] = _Totals()
        totals.add(figures, _products(figures))
    overall = _Totals()
    groups: list[dict[str, _Totals]] = [{} for _ in GROUPINGS]
    for key, totals in fine.items():
        overall.merge(totals)
        for found, value in zip(groups, key, strict=True):
            if value not in found:
                found[value] = _Totals()
            found[value].merge(totals)
    report: dict[str, Any] = {"orders": entries, "overall": overall.figures()}
    for found, (name, label) in zip(groups, GROUPINGS, strict=True):
        report[name] = [{label: value, **found[value].figures()} for value in sorted(found)]
    return report


def _day(requested_at: Any) -> str:
    """The UTC day an order was requested."""
    moment = requested_at if isinstance(requested_at, datetime) else datetime.fromisoformat(requested_at)
    return moment.astimezone(UTC).date().isoformat()


def as_json(report: dict[str, Any]) -> dict[str, Any]:
    """The report with every value JSON-ready (Decimals, times, ids as strings; the orders
    already are)."""
    ready: dict[str, Any] = {k: json_ready(v) for k, v in report.items() if k != "orders"}
    ready["orders"] = report["orders"]
    return ready
