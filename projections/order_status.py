"""order_status: one row per order, its status mirroring the SmartOrder's own.

The status rules follow ``domain.order_events`` (each event's ``change``); the
integration tests check the projected status against the aggregate's for every order.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from domain import order_events as ev
from domain.status import LIVE_STATUSES, OrderStatus
from projections.schema import Index, Kind, Row, Table, col
from projections.values import average_price

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


class OrderStatusProjection:
    """Where each order stands: quantities, average price, status, ids, times."""

    name = "order_status"
    state_table = TABLE
    log_table = None

    def fold(
        self, state: Row | None, event: ev.OrderEvent, position: int, fields_json: str | None = None
    ) -> tuple[Row, None]:
        """The new row; ``state`` may be updated in place (the runner passes its own copy)."""
        if state is None:
            row = _requested(event)
        else:
            row = state
            handler = _HANDLERS.get(type(event))
            if handler is not None:
                row["status"] = handler(row, event, _STATUS_OF[row["status"]]).value
        row["updated_at"] = event.occurred_at
        row["version"] = event.originator_version
        row["position"] = position
        return row, None


def _requested(event: ev.OrderEvent) -> Row:
    assert isinstance(event, ev.Requested)
    return {
        "order_id": event.originator_id, "symbol": event.symbol, "side": event.side.value,
        "account": event.account, "correlation_id": event.correlation_id,
        "quantity": event.quantity, "filled_quantity": Decimal(0),
        "filled_notional": Decimal(0), "average_fill_price": None,
        "status": OrderStatus.NEW.value, "limit_price": None, "repegs": 0,
        "escalated": False, "client_order_ids": [], "broker_order_ids": [],
        "placements": {}, "live_client_order_id": None, "cancel_pending_for": None,
        "terminal_reason": None, "created_at": event.occurred_at,
    }  # fmt: skip


def _validated(row: Row, event: Any, status: OrderStatus) -> OrderStatus:
    if isinstance(event, ev.QuantityAdjusted):
        row["quantity"] = event.new_quantity
    return OrderStatus.ACCEPTED


def _placement_requested(row: Row, event: Any, status: OrderStatus) -> OrderStatus:
    row["placements"] = {**row["placements"], event.client_order_id: [str(event.quantity), "0"]}
    row["client_order_ids"] = [*row["client_order_ids"], event.client_order_id]
    row["live_client_order_id"] = event.client_order_id
    if event.limit_price is not None:
        row["limit_price"] = event.limit_price
    return OrderStatus.PENDING_NEW


def _placed(row: Row, event: Any, status: OrderStatus) -> OrderStatus:
    row["broker_order_ids"] = [*row["broker_order_ids"], event.broker_order_id]
    if status is OrderStatus.PENDING_NEW:
        filled = _placement(row, event.client_order_id)[1]
        return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.WORKING
    return status


def _placement_rejected(row: Row, event: Any, status: OrderStatus) -> OrderStatus:
    row["live_client_order_id"] = None
    return OrderStatus.ACCEPTED


def _cancel_requested(row: Row, event: Any, status: OrderStatus) -> OrderStatus:
    row["cancel_pending_for"] = event.client_order_id
    return OrderStatus.PENDING_CANCEL


def _cancel_rejected(row: Row, event: Any, status: OrderStatus) -> OrderStatus:
    row["cancel_pending_for"] = None
    live = row["live_client_order_id"]
    if status is OrderStatus.PENDING_CANCEL and live is not None:
        filled = _placement(row, live)[1]
        return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.WORKING
    return status


def _repegged(row: Row, event: Any, status: OrderStatus) -> OrderStatus:
    row["repegs"] = event.repeg_number
    return status


def _escalated(row: Row, event: Any, status: OrderStatus) -> OrderStatus:
    row["escalated"] = True
    return status


def _terminal(row: Row, event: Any, status: OrderStatus) -> OrderStatus:
    row["terminal_reason"] = event.reason
    return _TERMINAL[type(event)]


_TERMINAL: dict[type[Any], OrderStatus] = {
    ev.Denied: OrderStatus.DENIED,
    ev.Completed: OrderStatus.COMPLETED,
    ev.Expired: OrderStatus.EXPIRED,
    ev.Failed: OrderStatus.FAILED,
}


def _placement(row: Row, client_order_id: str) -> tuple[Decimal, Decimal]:
    quantity, filled = row["placements"][client_order_id]
    return Decimal(quantity), Decimal(filled)


def _fill(row: Row, event: Any, status: OrderStatus) -> OrderStatus:
    row["filled_quantity"] = row["filled_quantity"] + event.quantity
    row["filled_notional"] = row["filled_notional"] + event.quantity * event.price
    row["average_fill_price"] = average_price(row["filled_notional"], row["filled_quantity"])
    quantity, filled = _placement(row, event.client_order_id)
    filled += event.quantity
    row["placements"] = {**row["placements"], event.client_order_id: [str(quantity), str(filled)]}
    if status.is_terminal:
        return status  # a late fill is recorded; the terminal status stands
    if row["quantity"] - row["filled_quantity"] == 0:
        row["live_client_order_id"] = None
        return OrderStatus.FILLED
    if filled >= quantity and row["live_client_order_id"] == event.client_order_id:
        row["live_client_order_id"] = None
        return OrderStatus.ACCEPTED
    if status in LIVE_STATUSES:  # PENDING_NEW stays until Placed, as on the aggregate
        return OrderStatus.PARTIALLY_FILLED
    return status


def _canceled(row: Row, event: Any, status: OrderStatus) -> OrderStatus:
    row["cancel_pending_for"] = None
    if row["live_client_order_id"] == event.client_order_id:
        row["live_client_order_id"] = None
    if not status.is_terminal and status is not OrderStatus.FILLED:
        return OrderStatus.CANCELED
    return status


#: OrderStatus(value) without the Enum call's overhead (a fold does it for most events).
_STATUS_OF: dict[str, OrderStatus] = {status.value: status for status in OrderStatus}

_Handler = Callable[[Row, Any, OrderStatus], OrderStatus]
_HANDLERS: dict[type[Any], _Handler] = {
    ev.Validated: _validated, ev.QuantityAdjusted: _validated,
    ev.PlacementRequested: _placement_requested, ev.Placed: _placed,
    ev.PlacementRejected: _placement_rejected, ev.PartiallyFilled: _fill, ev.Filled: _fill,
    ev.CancelRequested: _cancel_requested, ev.Canceled: _canceled,
    ev.CancelRejected: _cancel_rejected, ev.Repegged: _repegged, ev.Escalated: _escalated,
    ev.Denied: _terminal, ev.Completed: _terminal, ev.Expired: _terminal, ev.Failed: _terminal,
}  # fmt: skip
