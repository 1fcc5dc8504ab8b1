"""Alpaca's models to ours and back: Decimal through ``str`` in, tick-checked floats out.

alpaca-py's request fields are floats; prices go out as the on-tick Decimal converted
once. Numbers coming back (strings in orders, floats in trade updates and quotes) are
read through ``str`` so that no float reaches the domain.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from alpaca.data.models import Quote as AlpacaQuote
from alpaca.trading.enums import OrderSide
from alpaca.trading.enums import TimeInForce as AlpacaTimeInForce
from alpaca.trading.models import Order, TradeUpdate
from execledger.domain.ticks import tick_for
from execledger.domain.types import OrderType, Quote, QuoteSource, Side, TimeInForce
from execledger.infrastructure.errors import BrokerError, OrderRejected
from execledger.infrastructure.ports import (
    BrokerOrder,
    BrokerOrderStatus,
    Execution,
    OrderUpdate,
    PlacementFields,
)

#: Alpaca statuses in which the order can still fill.
_OPEN = frozenset(
    {
        "new",
        "partially_filled",
        "accepted",
        "pending_new",
        "accepted_for_bidding",
        "pending_cancel",
        "pending_replace",
        "pending_review",
        "held",
        "stopped",
        "suspended",
        "calculated",
    }
)
_CLOSED = {
    "filled": BrokerOrderStatus.FILLED,
    "canceled": BrokerOrderStatus.CANCELED,
    "expired": BrokerOrderStatus.EXPIRED,
    "done_for_day": BrokerOrderStatus.EXPIRED,
    "replaced": BrokerOrderStatus.REPLACED,
    "rejected": BrokerOrderStatus.REJECTED,
}
FILL_EVENTS = frozenset({"fill", "partial_fill"})


def _text(value: object) -> str:
    """An SDK enum's wire value (or a plain string as sent)."""
    return "" if value is None else str(getattr(value, "value", value))


def decimal(value: float | str | None) -> Decimal | None:
    """A wire number as Decimal, through its text (a float's shortest repr)."""
    return None if value is None or value == "" else Decimal(str(value))


def wire_price(price: Decimal) -> float:
    """The float the SDK sends for ``price``; refuses a price off its tick (nothing sent)."""
    if not price.is_finite() or price <= 0 or price % tick_for(price) != 0:
        raise OrderRejected("invalid_tick", f"limit price {price} is not on a {tick_for(price)} tick")
    return float(price)


def wire_side(side: Side) -> OrderSide:
    return OrderSide.BUY if side is Side.BUY else OrderSide.SELL


def wire_time_in_force(time_in_force: TimeInForce) -> AlpacaTimeInForce:
    return AlpacaTimeInForce(time_in_force.value.lower())


def wire_order(order: PlacementFields) -> dict[str, Any]:
    """The fields every Alpaca order request carries, from a placement's (the quantity as
    a float only here, at alpaca-py's boundary)."""
    return {
        "symbol": order["symbol"],
        "qty": float(order["quantity"]),
        "side": wire_side(order["side"]),
        "time_in_force": wire_time_in_force(order["time_in_force"]),
        "client_order_id": order["client_order_id"],
    }


def status_of(alpaca_status: str, filled: Decimal) -> BrokerOrderStatus:
    """Our status for Alpaca's: open states are NEW or PARTIALLY_FILLED by quantity."""
    if alpaca_status in _CLOSED:
        return _CLOSED[alpaca_status]
    if alpaca_status in _OPEN:
        return BrokerOrderStatus.PARTIALLY_FILLED if filled > 0 else BrokerOrderStatus.NEW
    raise BrokerError(f"unknown Alpaca order status {alpaca_status!r}")


def broker_order(order: Order) -> BrokerOrder:
    """Our view of an Alpaca order."""
    filled = decimal(order.filled_qty) or Decimal(0)
    kind = _text(order.order_type or order.type).lower()
    if kind not in ("limit", "market"):
        raise BrokerError(f"order {order.id} has unsupported type {kind!r}")
    return BrokerOrder(
        client_order_id=order.client_order_id,
        broker_order_id=str(order.id),
        symbol=str(order.symbol),
        side=Side.BUY if order.side == OrderSide.BUY else Side.SELL,
        order_type=OrderType(kind.upper()),
        quantity=decimal(order.qty) or Decimal(0),
        limit_price=decimal(order.limit_price),
        time_in_force=TimeInForce(_text(order.time_in_force).upper()),
        status=status_of(_text(order.status), filled),
        filled_quantity=filled,
        average_fill_price=decimal(order.filled_avg_price),
    )


def order_update(update: TradeUpdate) -> OrderUpdate:
    """A trade update as our OrderUpdate: fills carry an Execution keyed by Alpaca's id."""
    order = broker_order(update.order)
    event = _text(update.event)
    execution = None
    if event in FILL_EVENTS and update.execution_id is not None:
        quantity, price = decimal(update.qty), decimal(update.price)
        if quantity is None or price is None:
            raise BrokerError(f"{event} of {order.client_order_id} has no price or quantity")
        execution = Execution(
            execution_id=str(update.execution_id),
            client_order_id=order.client_order_id,
            broker_order_id=order.broker_order_id,
            quantity=quantity,
            price=price,
            executed_at=update.timestamp,
        )
    return OrderUpdate(order=order, execution=execution, at=update.timestamp)


def quote(symbol: str, alpaca: AlpacaQuote, source: QuoteSource) -> Quote:
    """An Alpaca quote as ours (prices and sizes through ``str``)."""
    return Quote(
        symbol=symbol,
        bid=decimal(alpaca.bid_price) or Decimal(0),
        ask=decimal(alpaca.ask_price) or Decimal(0),
        bid_size=decimal(alpaca.bid_size) or Decimal(0),
        ask_size=decimal(alpaca.ask_size) or Decimal(0),
        quoted_at=alpaca.timestamp,
        source=source,
    )
