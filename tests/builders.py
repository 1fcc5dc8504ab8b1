"""Test builders: requests, quotes and SmartOrders brought to a state through real events.

Every builder drives the aggregate through its public commands, so an order built
here carries the same events (and hash chain) a real run would record. Times are
fixed and aware UTC: ``T0`` and ``at(seconds)``. The last section reads and writes
stored records directly (SQLite ``stored_events``, PostgreSQL ``<schema>.execledger_events``)
for the tamper and upcast tests.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from execledger.domain.config import ExecutionConfig
from execledger.domain.order import SmartOrder
from execledger.domain.order_events import OrderEvent
from execledger.domain.requests import OrderRequest
from execledger.domain.types import OrderType, Quote, QuoteSource, TimeInForce
from execledger.infrastructure.database_url import parse_database_url

#: The business time every builder starts from.
T0 = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)

#: The limit price the builders place at, and the quote it comes from.
LIMIT_PRICE = Decimal("100.01")
BROKER_ORDER_ID = "B-1"


def at(seconds: float) -> datetime:
    """``seconds`` after T0 (aware UTC)."""
    return T0 + timedelta(seconds=seconds)


def a_request(**overrides: Any) -> OrderRequest:
    """A valid request: BUY 10 AAPL, NORMAL urgency; any field can be overridden."""
    fields: dict[str, Any] = {
        "symbol": "AAPL",
        "side": "BUY",
        "quantity": Decimal("10"),
        "urgency": "NORMAL",
        "account": "acct-1",
        "correlation_id": "corr-1",
    }
    fields.update(overrides)
    return OrderRequest(**fields)


def a_config(**overrides: Any) -> ExecutionConfig:
    """The default execution config with ``overrides``."""
    return ExecutionConfig(**overrides)


def a_quote(**overrides: Any) -> Quote:
    """A streamed AAPL quote 100.00 / 100.50 (sizes 300 / 200) at T0."""
    fields: dict[str, Any] = {
        "symbol": "AAPL",
        "bid": Decimal("100.00"),
        "ask": Decimal("100.50"),
        "bid_size": Decimal("300"),
        "ask_size": Decimal("200"),
        "quoted_at": T0,
        "source": QuoteSource.STREAM,
    }
    fields.update(overrides)
    return Quote(**fields)


def new_order(request: OrderRequest | None = None, config: ExecutionConfig | None = None) -> SmartOrder:
    """An order just requested (status NEW): one Requested event."""
    return SmartOrder.request(request or a_request(), config or a_config(), T0)


def accepted_order(**request_overrides: Any) -> SmartOrder:
    """An order through preflight (ACCEPTED): Requested, Validated."""
    config = request_overrides.pop("config", None)
    order = new_order(a_request(**request_overrides), config)
    order.validate(tradable=True, fractionable=True, occurred_at=at(1))
    return order


def pending_order(limit_price: Decimal = LIMIT_PRICE, **request_overrides: Any) -> SmartOrder:
    """A limit placement requested, no broker answer yet (PENDING_NEW).

    Events: Requested, Validated, Quoted, Priced, PlacementRequested.
    """
    order = accepted_order(**request_overrides)
    order.record_quote(a_quote(), suspicion_reasons=[], fallback_used=False, occurred_at=at(2))
    order.price(
        limit_price,
        method="liquidity_aware",
        tick=Decimal("0.01"),
        metadata={"liquidity_score": "80"},
        occurred_at=at(2),
    )
    place_limit(order, limit_price, when=at(3))
    return order


def working_order(
    limit_price: Decimal = LIMIT_PRICE,
    broker_order_id: str = BROKER_ORDER_ID,
    **request_overrides: Any,
) -> SmartOrder:
    """A limit order working at the broker (WORKING): pending_order's events, then Placed."""
    order = pending_order(limit_price, **request_overrides)
    assert order.live_client_order_id is not None
    order.record_placed(
        order.live_client_order_id,
        broker_order_id=broker_order_id,
        broker_status="new",
        occurred_at=at(4),
    )
    return order


def place_limit(order: SmartOrder, limit_price: Decimal, *, when: datetime) -> str:
    """Request a DAY limit placement of the whole remaining quantity at ``limit_price``
    (Priced first, unless that price is already the decided one)."""
    if order.decided_price != limit_price:
        order.price(
            limit_price, method="liquidity_aware", tick=Decimal("0.01"), metadata={}, occurred_at=when
        )
    return order.request_placement(
        order_type=OrderType.LIMIT,
        quantity=order.remaining_quantity,
        limit_price=limit_price,
        time_in_force=TimeInForce.DAY,
        occurred_at=when,
    )


def place_market(order: SmartOrder, *, when: datetime) -> str:
    """Request a DAY market placement of the whole remaining quantity (Escalated first,
    unless the order already is)."""
    if not order.escalated:
        order.escalate("test escalation", occurred_at=when)
    return order.request_placement(
        order_type=OrderType.MARKET,
        quantity=order.remaining_quantity,
        limit_price=None,
        time_in_force=TimeInForce.DAY,
        occurred_at=when,
    )


def accept(order: SmartOrder, client_order_id: str, broker_order_id: str, *, when: datetime) -> None:
    """The broker accepts ``client_order_id`` under ``broker_order_id``."""
    order.record_placed(
        client_order_id, broker_order_id=broker_order_id, broker_status="new", occurred_at=when
    )


def fill(
    order: SmartOrder,
    quantity: Decimal | str,
    *,
    execution_id: str,
    price: Decimal | str = LIMIT_PRICE,
    client_order_id: str | None = None,
    when: datetime | None = None,
) -> bool:
    """Record a fill on ``client_order_id`` (default: the live placement)."""
    target = client_order_id or order.live_client_order_id
    assert target is not None, "no placement to fill"
    placement = order.placements[target]
    return order.record_fill(
        target,
        execution_id=execution_id,
        quantity=Decimal(quantity),
        price=Decimal(price),
        broker_order_id=placement.broker_order_id or "unknown",
        occurred_at=when or at(5),
    )


def cancel(order: SmartOrder, *, when: datetime) -> None:
    """Request a cancel of the working broker order and have the broker confirm it."""
    order.request_cancel("test", occurred_at=when)
    order.record_canceled("canceled by request", occurred_at=when)


def event_names(events: list[OrderEvent] | list[Any]) -> list[str]:
    """The class names of ``events``, in order."""
    return [type(event).__name__ for event in events]


def pending_names(order: SmartOrder) -> list[str]:
    """The class names of the order's events not yet saved."""
    return event_names(list(order.pending_events))


# ---- raw stored records: for tests that tamper with, or hand-write, the event store ----


def _raw_connection(database_url: str) -> tuple[Any, str, str]:
    """A DB-API connection, the events table and the parameter style for ``database_url``."""
    database = parse_database_url(database_url)
    if database.is_sqlite:
        return sqlite3.connect(database.env["SQLITE_DBNAME"]), "stored_events", "?"
    import psycopg

    connection = psycopg.connect(database_url.split("?")[0], autocommit=True)
    return connection, f"{database.schema or 'public'}.execledger_events", "%s"


def _record_key(database_url: str, order_id: UUID) -> Any:
    return order_id.hex if parse_database_url(database_url).is_sqlite else order_id


def execute_on_store(database_url: str, sql: str, *params: Any) -> list[Any]:
    """Run ``sql`` on the events table ({table} and {p} are filled in) outside the ledger."""
    connection, table, p = _raw_connection(database_url)
    try:
        cursor = connection.execute(sql.format(table=table, p=p), params)
        rows = cursor.fetchall() if cursor.description else []
        connection.commit()
        return list(rows)
    finally:
        connection.close()


def stored_state(database_url: str, order_id: UUID, version: int) -> bytes:
    """The stored state bytes of one event, read straight from the table."""
    rows = execute_on_store(
        database_url,
        "SELECT state FROM {table} WHERE originator_id = {p} AND originator_version = {p}",
        _record_key(database_url, order_id),
        version,
    )
    return bytes(rows[0][0])


def overwrite_state(database_url: str, order_id: UUID, version: int, state: bytes) -> None:
    """Replace one event's stored state bytes behind the ledger's back."""
    execute_on_store(
        database_url,
        "UPDATE {table} SET state = {p} WHERE originator_id = {p} AND originator_version = {p}",
        state,
        _record_key(database_url, order_id),
        version,
    )


def delete_record(database_url: str, order_id: UUID, version: int) -> None:
    """Delete one stored event behind the ledger's back."""
    execute_on_store(
        database_url,
        "DELETE FROM {table} WHERE originator_id = {p} AND originator_version = {p}",
        _record_key(database_url, order_id),
        version,
    )


def insert_record(database_url: str, order_id: UUID, version: int, topic: str, state: bytes) -> None:
    """Append a hand-written stored event (e.g. an old class version) behind the ledger's back."""
    execute_on_store(
        database_url,
        "INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES ({p}, {p}, {p}, {p})",
        _record_key(database_url, order_id),
        version,
        topic,
        state,
    )
