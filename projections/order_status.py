"""order_status: one row per order, its status the SmartOrder's own.

Status and quantities fold through the same rules as the aggregate's (each event's
``advance`` over a ``domain.lifecycle.Lifecycle``), so the two cannot drift; the
integration tests also check the projected status against the aggregate's.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from execledger.domain import order_events as ev
from execledger.domain.lifecycle import BrokerOrderFill, Lifecycle
from execledger.domain.status import OrderStatus
from execledger.projections.schema import Index, Kind, Row, Table, col
from execledger.projections.values import average_price

TABLE = Table(
    name="order_status",
    columns=(
        col("order_id", Kind.UUID, nullable=False),
        col("symbol", Kind.TEXT, nullable=False),
        col("side", Kind.TEXT, nullable=False),
        col("account", Kind.TEXT, nullable=False),
        col("correlation_id", Kind.TEXT, nullable=False),
        col("quantity", Kind.DECIMAL, nullable=False),
        col("filled_quantity", Kind.DECIMAL, nullable=False),
        col("filled_notional", Kind.DECIMAL, nullable=False),
        col("average_fill_price", Kind.DECIMAL),
        col("status", Kind.TEXT, nullable=False),
        col("limit_price", Kind.DECIMAL),
        col("repegs", Kind.INT, nullable=False),
        col("escalated", Kind.BOOL, nullable=False),
        col("client_order_ids", Kind.JSON, nullable=False),
        col("broker_order_ids", Kind.JSON, nullable=False),
        col("placements", Kind.JSON, nullable=False),  # {client id: [quantity, filled]}
        col("live_client_order_id", Kind.TEXT),
        col("cancel_pending_for", Kind.TEXT),
        col("terminal_reason", Kind.TEXT),
        col("created_at", Kind.TIME, nullable=False),
        col("updated_at", Kind.TIME, nullable=False),
        col("version", Kind.INT, nullable=False),
        col("position", Kind.INT, nullable=False),
    ),
    key=("order_id",),
    indexes=(
        Index("order_status_symbol", ("symbol", "created_at")),
        Index("order_status_status", ("status", "created_at")),
        Index("order_status_correlation", ("correlation_id",)),
        Index("order_status_created", ("created_at",)),
    ),
)


#: The row's folded Lifecycle, carried with the runner's cached row (not a column: the
#: stores write only the table's columns) so the next event need not rebuild it from them.
LIFECYCLE = "_lifecycle"


class OrderStatusProjection:
    """Where each order stands: quantities, average price, status, ids, times."""

    name = "order_status"
    state_table = TABLE
    log_table = None

    def fold(
        self, state: Row | None, event: ev.OrderEvent, position: int, fields_json: str | None = None
    ) -> tuple[Row, None]:
        """The new row; ``state`` may be updated in place (the runner passes its own copy)."""
        row = _requested(event) if state is None else state
        if type(event) in _ADVANCING:
            current = row.get(LIFECYCLE) or _lifecycle_of(row)
            row[LIFECYCLE] = advanced = event.advance(current)
            _store_lifecycle(row, advanced)
        recorder = _RECORDERS.get(type(event))
        if recorder is not None:
            recorder(row, event)
        row["updated_at"] = event.occurred_at
        row["version"] = event.originator_version
        row["position"] = position
        return row, None


def _requested(event: ev.OrderEvent) -> Row:
    assert isinstance(event, ev.Requested)
    return {
        "order_id": event.originator_id,
        "symbol": event.symbol,
        "side": event.side.value,
        "account": event.account,
        "correlation_id": event.correlation_id,
        "quantity": event.quantity,
        "filled_quantity": Decimal(0),
        "filled_notional": Decimal(0),
        "average_fill_price": None,
        "status": OrderStatus.NEW.value,
        "limit_price": None,
        "repegs": 0,
        "escalated": False,
        "client_order_ids": [],
        "broker_order_ids": [],
        "placements": {},
        "live_client_order_id": None,
        "cancel_pending_for": None,
        "terminal_reason": None,
        "created_at": event.occurred_at,
    }


# ---- the lifecycle: status rules shared with the aggregate (domain.lifecycle) ---------


def _lifecycle_of(row: Row) -> Lifecycle:
    broker_orders = {
        client_order_id: BrokerOrderFill(Decimal(quantity), Decimal(filled))
        for client_order_id, (quantity, filled) in row["placements"].items()
    }
    return Lifecycle(
        status=_STATUS_OF[row["status"]],
        quantity=row["quantity"],
        filled_quantity=row["filled_quantity"],
        live_client_order_id=row["live_client_order_id"],
        cancel_pending_for=row["cancel_pending_for"],
        broker_orders=MappingProxyType(broker_orders),
    )


def _store_lifecycle(row: Row, state: Lifecycle) -> None:
    row["status"] = state.status.value
    row["quantity"] = state.quantity
    row["filled_quantity"] = state.filled_quantity
    row["live_client_order_id"] = state.live_client_order_id
    row["cancel_pending_for"] = state.cancel_pending_for
    row["placements"] = {
        client_order_id: [str(fill.quantity), str(fill.filled)]
        for client_order_id, fill in state.broker_orders.items()
    }


#: Event classes whose ``advance`` changes the lifecycle (the others leave it as it is).
_ADVANCING = frozenset(
    event_class for event_class in ev.CATALOGUE if event_class.advance is not ev.OrderEvent.advance
)

#: OrderStatus(value) without the Enum call's overhead (a fold does it for most events).
_STATUS_OF: dict[str, OrderStatus] = {status.value: status for status in OrderStatus}


# ---- what the read model shows beyond the lifecycle ------------------------------------


def _placement_requested(row: Row, event: Any) -> None:
    row["client_order_ids"] = [*row["client_order_ids"], event.client_order_id]
    if event.limit_price is not None:
        row["limit_price"] = event.limit_price


def _placed(row: Row, event: Any) -> None:
    row["broker_order_ids"] = [*row["broker_order_ids"], event.broker_order_id]


def _fill(row: Row, event: Any) -> None:
    row["filled_notional"] = row["filled_notional"] + event.quantity * event.price
    row["average_fill_price"] = average_price(row["filled_notional"], row["filled_quantity"])


def _repegged(row: Row, event: Any) -> None:
    row["repegs"] = event.repeg_number


def _cancel_rejected(row: Row, event: Any) -> None:
    if event.withdrawn_repeg is not None:
        row["repegs"] = event.withdrawn_repeg - 1  # that re-peg never reached the venue


def _escalated(row: Row, event: Any) -> None:
    row["escalated"] = True


def _closed(row: Row, event: Any) -> None:
    row["terminal_reason"] = event.reason


_Recorder = Callable[[Row, Any], None]
_RECORDERS: dict[type[Any], _Recorder] = {
    ev.PlacementRequested: _placement_requested,
    ev.Placed: _placed,
    ev.PartiallyFilled: _fill,
    ev.Filled: _fill,
    ev.Repegged: _repegged,
    ev.CancelRejected: _cancel_rejected,
    ev.Escalated: _escalated,
    ev.Denied: _closed,
    ev.Completed: _closed,
    ev.Expired: _closed,
    ev.Failed: _closed,
}
