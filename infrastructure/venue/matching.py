"""The simulated venue's matching rules: a working order against a quote's displayed size.

- Each tape quote offers its displayed size afresh (``Liquidity.fresh``); orders matched
  against the same quote share it, in price-time priority.
- A marketable BUY limit (limit >= ask) fills at the ask up to the ask size left; a
  marketable SELL limit (limit <= bid) at the bid up to the bid size left; the rest rests.
- A market order fills its whole remaining quantity at the touch (ask for BUY, bid for
  SELL), however small the displayed size, and uses the displayed size up.
- A side whose price is not positive offers nothing: orders facing it wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from execledger.domain.types import OrderType, Quote, Side, TimeInForce
from execledger.infrastructure.ports import BrokerOrder, BrokerOrderStatus

ZERO = Decimal(0)
OPEN_STATUSES = frozenset(
    {BrokerOrderStatus.NEW, BrokerOrderStatus.PARTIALLY_FILLED, BrokerOrderStatus.PENDING_CANCEL}
)


@dataclass
class Liquidity:
    """What a symbol's current quote still offers on each side."""

    quote: Quote
    bid_size: Decimal
    ask_size: Decimal

    @classmethod
    def fresh(cls, quote: Quote) -> Liquidity:
        """A new quote: its full displayed sizes are on offer."""
        return cls(quote=quote, bid_size=max(quote.bid_size, ZERO), ask_size=max(quote.ask_size, ZERO))


@dataclass(eq=False)
class WorkingOrder:
    """The venue's mutable record of one broker order."""

    seq: int
    client_order_id: str
    broker_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None
    time_in_force: TimeInForce
    status: BrokerOrderStatus = BrokerOrderStatus.NEW
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    executions: int = 0

    @property
    def remaining(self) -> Decimal:
        """Quantity still to fill."""
        return self.quantity - self.filled

    @property
    def is_open(self) -> bool:
        """Whether the order can still fill or be canceled (a pending cancel can still fill)."""
        return self.status in OPEN_STATUSES

    def record_fill(self, quantity: Decimal, price: Decimal) -> int:
        """Apply a fill; returns the execution's number (from 1)."""
        self.filled += quantity
        self.notional += quantity * price
        self.executions += 1
        done = self.filled >= self.quantity
        if done:
            self.status = BrokerOrderStatus.FILLED
        elif self.status is not BrokerOrderStatus.PENDING_CANCEL:
            self.status = BrokerOrderStatus.PARTIALLY_FILLED
        return self.executions

    def snapshot(self) -> BrokerOrder:
        """The order as the Broker port reports it."""
        return BrokerOrder(
            client_order_id=self.client_order_id,
            broker_order_id=self.broker_order_id,
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            quantity=self.quantity,
            limit_price=self.limit_price,
            time_in_force=self.time_in_force,
            status=self.status,
            filled_quantity=self.filled,
            average_fill_price=self.notional / self.filled if self.filled else None,
        )


def priority(order: WorkingOrder) -> tuple[int, Decimal, int]:
    """Price-time priority: market orders first, then the best limit, then the oldest."""
    if order.order_type is OrderType.MARKET or order.limit_price is None:
        return (0, ZERO, order.seq)
    price = -order.limit_price if order.side is Side.BUY else order.limit_price
    return (1, price, order.seq)


def take(order: WorkingOrder, liquidity: Liquidity) -> tuple[Decimal, Decimal] | None:
    """The fill ``order`` gets from ``liquidity`` now, as (quantity, price), using it up."""
    if not order.is_open or order.remaining <= 0:
        return None
    buying = order.side is Side.BUY
    price = liquidity.quote.ask if buying else liquidity.quote.bid
    offered = liquidity.ask_size if buying else liquidity.bid_size
    if price <= 0:
        return None
    if order.order_type is OrderType.MARKET:
        quantity = order.remaining
    else:
        assert order.limit_price is not None
        marketable = order.limit_price >= price if buying else order.limit_price <= price
        if not marketable or offered <= 0:
            return None
        quantity = min(order.remaining, offered)
    left = max(offered - quantity, ZERO)
    if buying:
        liquidity.ask_size = left
    else:
        liquidity.bid_size = left
    return quantity, price
