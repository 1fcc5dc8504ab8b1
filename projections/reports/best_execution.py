"""The best-execution report: per order the execution-quality figures, and aggregates laid
out after the amended SEC Rule 605 tables (by symbol, day, order type, order size).

Per-order figures come from the execution_quality read model (docs/metrics.md). The
aggregates weight by shares as Rule 605 does; docs/compliance.md defines each column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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


def order_entry(row: Row, status: str | None) -> dict[str, Any]:
    """One order's figures (typed values; ``json_ready`` turns them into JSON)."""
    spread = None
    if row["arrival_bid"] is not None:
        spread = row["arrival_ask"] - row["arrival_bid"]
    entry = {key: row.get(key) for key in ORDER_KEYS}
    entry.update(
        order_type=order_type(row),
        size_bucket=size_bucket(row),
        status=status,
        quoted_spread=spread,
        improvement_quantity=row["improvement_quantity"],
    )
    return entry


def _weighted(entries: Sequence[dict[str, Any]], key: str, weight: str = "filled_quantity") -> Decimal | None:
    pairs = [(e[weight], e[key]) for e in entries if e[key] is not None and e[weight]]
    total = sum((w for w, _ in pairs), Decimal(0))
    if total == 0:
        return None
    return sum((w * v for w, v in pairs), Decimal(0)) / total


def aggregate(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Rule 605-style figures of a group of orders (share-weighted)."""
    shares = sum((e["quantity"] for e in entries), Decimal(0))
    filled = sum((e["filled_quantity"] for e in entries), Decimal(0))
    cancelled = sum((e["unfilled_quantity"] for e in entries if e["status"] in CLOSED), Decimal(0))
    priced = [e for e in entries if e["effective_spread"] is not None]
    effective = _weighted(priced, "effective_spread")
    quoted = _weighted(priced, "quoted_spread")
    ratio = effective / quoted if effective is not None and quoted else None
    time = _weighted(entries, "time_to_first_fill_seconds")
    return {
        "orders": len(entries),
        "orders_without_quote": sum(1 for e in entries if e["arrival_mid"] is None),
        "escalated_orders": sum(1 for e in entries if e["escalated"]),
        "shares": shares,
        "filled_shares": filled,
        "cancelled_shares": cancelled,
        "fill_rate": rounded(filled / shares, "0.0001") if shares else None,
        "average_slippage_bps": _round(_weighted(entries, "slippage_bps"), "0.01"),
        "average_effective_spread": _round(effective, "0.0001"),
        "average_quoted_spread": _round(quoted, "0.0001"),
        "effective_to_quoted_spread": _round(ratio, "0.0001"),
        "average_price_improvement": _round(
            _weighted(entries, "price_improvement", "improvement_quantity"), "0.0001"
        ),
        "average_time_to_execution_seconds": _round(time, "0.001"),
        "opportunity_cost": sum(
            (e["opportunity_cost"] for e in entries if e["opportunity_cost"] is not None), Decimal(0)
        ),
    }


def _round(value: Decimal | None, step: str) -> Decimal | None:
    return None if value is None else rounded(value, step)


def grouped(
    entries: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], str], name: str
) -> list[dict[str, Any]]:
    """Aggregates per value of ``key``, in sorted order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        groups.setdefault(key(entry), []).append(entry)
    return [{name: value, **aggregate(groups[value])} for value in sorted(groups)]


def best_execution(rows: Iterable[Row], statuses: dict[Any, str]) -> dict[str, Any]:
    """The report (typed values): orders, overall and grouped aggregates."""
    entries = [order_entry(row, statuses.get(row["order_id"])) for row in rows]
    return {
        "orders": entries,
        "overall": aggregate(entries),
        "by_symbol": grouped(entries, lambda e: str(e["symbol"]), "symbol"),
        "by_day": grouped(entries, lambda e: e["requested_at"].date().isoformat(), "day"),
        "by_order_type": grouped(entries, lambda e: str(e["order_type"]), "order_type"),
        "by_size": grouped(entries, lambda e: str(e["size_bucket"]), "size_bucket"),
    }


def as_json(report: dict[str, Any]) -> dict[str, Any]:
    """The report with every value JSON-ready (Decimals, times, ids as strings)."""
    ready: dict[str, Any] = json_ready(report)
    return ready
