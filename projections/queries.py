"""Queries on the read models: orders, an order's timeline, execution quality.

Each returns JSON-ready dicts (Decimals and times as strings) in the shapes the
CLI prints with ``--json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any
from uuid import UUID

from execledger.projections import execution_quality, generation, order_status, poison, timeline
from execledger.projections.errors import AmbiguousOrderId, UnknownOrderId
from execledger.projections.registry import ALL_PROJECTIONS
from execledger.projections.schema import Row, Table
from execledger.projections.store import ProjectionStore
from execledger.projections.values import json_ready, shown

ORDER_KEYS = (
    "order_id",
    "symbol",
    "side",
    "quantity",
    "filled_quantity",
    "average_fill_price",
    "status",
    "limit_price",
    "repegs",
    "escalated",
    "correlation_id",
    "client_order_ids",
    "broker_order_ids",
    "account",
    "terminal_reason",
    "created_at",
    "updated_at",
)
TIMELINE_KEYS = (
    "order_id",
    "version",
    "type",
    "occurred_at",
    "since_previous_seconds",
    "correlation_id",
    "client_order_id",
    "broker_order_id",
    "replaces_client_order_id",
)
QUALITY_KEYS = (
    "order_id",
    "symbol",
    "side",
    "quantity",
    "filled_quantity",
    "arrival_bid",
    "arrival_ask",
    "arrival_mid",
    "average_fill_price",
    "slippage_bps",
    "effective_spread",
    "price_improvement",
    "time_to_first_fill_seconds",
    "time_to_complete_seconds",
    "repegs",
    "escalated",
    "fill_rate",
)


def _narrowed(table: Table, keys: tuple[str, ...]) -> Table:
    """The table spec with only the columns a query shows (fewer to read and convert)."""
    return replace(table, columns=tuple(c for c in table.columns if c.name in keys))


_ORDERS_TABLE = _narrowed(order_status.TABLE, ORDER_KEYS)
_QUALITY_TABLE = _narrowed(execution_quality.TABLE, QUALITY_KEYS)
_ORDER_IDS = _narrowed(order_status.TABLE, ("order_id",))
#: What may be a prefix of an order id's text form (never a LIKE wildcard).
ORDER_ID_PREFIX = re.compile(r"[0-9a-f][0-9a-f-]{0,35}")
#: Candidates an ambiguous prefix lists.
CANDIDATES_SHOWN = 10


def orders(
    store: ProjectionStore, *, status: str | None = None, symbol: str | None = None
) -> list[dict[str, Any]]:
    """One dict per order, oldest first, optionally of one status and/or symbol."""
    where: dict[str, Any] = {}
    if status:
        where["status"] = status.strip().lower()
    if symbol:
        where["symbol"] = symbol.strip().upper()
    rows = store.select(_ORDERS_TABLE, where, order_by=("created_at", "order_id"))
    untrusted = untrusted_order_ids(store)
    return [_trusted(_pick(row, ORDER_KEYS), untrusted) for row in rows]


def order_ids_for(store: ProjectionStore, identifier: str) -> list[UUID]:
    """Orders an id names: an order id, a client or broker order id, or a correlation id."""
    identifier = identifier.strip()
    found: list[UUID] = []
    try:
        order_id = UUID(identifier)
    except ValueError:
        order_id = None
    if order_id is not None and store.select(order_status.TABLE, {"order_id": order_id}):
        return [order_id]
    for column in ("client_order_id", "broker_order_id"):
        rows = store.select(timeline.TABLE, {column: identifier}, limit=1)
        if rows:
            return [rows[0]["order_id"]]
    rows = store.select(
        order_status.TABLE, {"correlation_id": identifier}, order_by=("created_at", "order_id")
    )
    found.extend(row["order_id"] for row in rows)
    return found


def resolve_order_ids(store: ProjectionStore, identifier: str) -> list[UUID]:
    """The orders an id names: an order id, a client or broker order id, a correlation id,
    or else a unique prefix of an order id (as the tables print them).

    Raises ``UnknownOrderId`` when nothing matches and ``AmbiguousOrderId`` (listing the
    candidates) when a prefix matches several orders; the CLI exits 2 for both.
    """
    found = order_ids_for(store, identifier)
    if found:
        return found
    prefix = identifier.strip().lower()
    if ORDER_ID_PREFIX.fullmatch(prefix):
        rows = store.select(
            _ORDER_IDS, starting=("order_id", prefix), order_by=("order_id",), limit=CANDIDATES_SHOWN + 1
        )
        if len(rows) == 1:
            return [rows[0]["order_id"]]
        if rows:
            shown = ", ".join(str(row["order_id"]) for row in rows[:CANDIDATES_SHOWN])
            more = " and more" if len(rows) > CANDIDATES_SHOWN else ""
            raise AmbiguousOrderId(f"order id prefix {identifier!r} matches several orders: {shown}{more}")
    raise UnknownOrderId(f"no order matches {identifier!r}")


def timeline_of(store: ProjectionStore, identifier: str) -> list[dict[str, Any]]:
    """Every event of the order(s) the id names (see ``resolve_order_ids``), order by
    order, in version order."""
    result: list[dict[str, Any]] = []
    untrusted = untrusted_order_ids(store)
    for order_id in resolve_order_ids(store, identifier):
        rows = store.select(timeline.TABLE, {"order_id": order_id}, order_by=("version",))
        result.extend(_trusted(timeline_entry(row), untrusted) for row in rows)
    return result


def timeline_entry(row: Row) -> dict[str, Any]:
    """A timeline row as JSON: the row's keys, then the event's fields by catalogue name."""
    entry = _pick(row, TIMELINE_KEYS)
    for name, value in json.loads(row["fields"]).items():
        entry.setdefault(name, shown(name, value))
    return entry


def quality(store: ProjectionStore, *, symbol: str | None = None) -> list[dict[str, Any]]:
    """Execution-quality figures per order, oldest first, optionally of one symbol."""
    where = {"symbol": symbol.strip().upper()} if symbol else {}
    rows = store.select(_QUALITY_TABLE, where, order_by=("requested_at", "order_id"))
    return [_pick(row, QUALITY_KEYS) for row in rows]


def projection_errors(store: ProjectionStore) -> list[dict[str, Any]]:
    """Every event the serving read models set aside as poison (``projections status``,
    ``verify``): projection, position, order id, version, error."""
    generations = store.generations()
    serving = {
        generation.tracking_name(p.name, generation.serving_generation(p, generations)): p.name
        for p in ALL_PROJECTIONS
    }
    rows = store.select(poison.TABLE, order_by=("position", "projection"))
    return [
        {**_pick(row, poison.TABLE.column_names), "projection": serving[row["projection"]]}
        for row in rows
        if row["projection"] in serving
    ]


def untrusted_order_ids(store: ProjectionStore) -> frozenset[str]:
    """Orders with an event the read models could not apply: their rows may be wrong."""
    return frozenset(row["order_id"] for row in projection_errors(store) if row["order_id"])


def _trusted(entry: dict[str, Any], untrusted: frozenset[str]) -> dict[str, Any]:
    entry["trustworthy"] = entry["order_id"] not in untrusted
    return entry


def _pick(row: Row, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: shown(key, json_ready(row[key])) for key in keys}
