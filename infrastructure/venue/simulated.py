"""SimulatedVenue: a deterministic Broker and MarketData on a VirtualClock, fed by a tape.

Virtual time starts at the tape's first timestamp (the quotes stamped then are current at
once); each later tape moment is a clock timer that makes its quotes current, offers their
displayed sizes afresh and re-matches every open order of the symbol (rules in
``matching``). A placement is matched at once against what the current quote still
offers. The last quote of a symbol stands until the tape ends; then ``is_finished`` is
true, quote streams end and new placements are rejected (``session_closed``); orders
still open stay open for the engine to cancel.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from uuid import NAMESPACE_URL, uuid5

from execledger.domain.ids import MAX_CLIENT_ORDER_ID_LENGTH
from execledger.domain.ticks import tick_for
from execledger.domain.types import OrderType, Quote, Side, TimeInForce
from execledger.infrastructure.errors import BrokerOrderNotFound, CancelRejected, OrderRejected, TapeError
from execledger.infrastructure.ports import BrokerOrder, BrokerOrderStatus, Execution, OrderUpdate
from execledger.infrastructure.venue.clock import VirtualClock
from execledger.infrastructure.venue.feeds import VenueFeeds
from execledger.infrastructure.venue.matching import Liquidity, WorkingOrder, priority, take

#: Namespace of simulated broker order ids: uuid5(namespace, client order id).
BROKER_ORDER_NAMESPACE = uuid5(NAMESPACE_URL, "execledger:simulated-venue")


def broker_order_id_for(client_order_id: str) -> str:
    """The simulated venue's broker order id for a client order id."""
    return str(uuid5(BROKER_ORDER_NAMESPACE, client_order_id))


class SimulatedVenue:
    """Broker and MarketData over a quote tape, on virtual time."""

    def __init__(
        self,
        tape: Sequence[Quote],
        *,
        clock: VirtualClock | None = None,
        not_tradable: Iterable[str] = (),
        not_fractionable: Iterable[str] = (),
        restamp_quotes: bool = False,
    ) -> None:
        if not tape:
            raise TapeError("the tape has no quotes")
        self._tape = sorted(tape, key=lambda quote: quote.quoted_at)
        self.clock = clock or VirtualClock(self._tape[0].quoted_at)
        self._symbols = frozenset(quote.symbol for quote in self._tape)
        self._not_tradable = frozenset(not_tradable)
        self._not_fractionable = frozenset(not_fractionable)
        self._restamp = restamp_quotes
        self._books: dict[str, Liquidity] = {}
        self._orders: dict[str, WorkingOrder] = {}
        self._by_client: dict[str, WorkingOrder] = {}
        self._resting: dict[str, list[WorkingOrder]] = {}
        self._seq = itertools.count(1)
        self._feeds = VenueFeeds(self.clock)
        self._cursor = 0
        while self._cursor < len(self._tape) and self._tape[self._cursor].quoted_at <= self.now:
            self._apply(self._tape[self._cursor])
            self._cursor += 1
        self._schedule_next()

    # -- what the engine asks about the session ----------------------------------------

    @property
    def now(self) -> datetime:
        """The venue's (virtual) time."""
        return self.clock.now()

    @property
    def symbols(self) -> frozenset[str]:
        """Every symbol on the tape."""
        return self._symbols

    @property
    def tape_start(self) -> datetime:
        """Time of the tape's first quote."""
        return self._tape[0].quoted_at

    @property
    def tape_end(self) -> datetime:
        """Time of the tape's last quote: the session ends then."""
        return self._tape[-1].quoted_at

    @property
    def is_finished(self) -> bool:
        """Whether the tape has ended (its last moment has been matched)."""
        return self._feeds.finished

    async def finished(self) -> None:
        """Wait (on the clock) until the tape has ended."""
        await self._feeds.wait_finished()

    def tradable(self, symbol: str) -> bool:
        """Whether ``symbol`` is on the tape and not configured untradable."""
        return symbol in self._symbols and symbol not in self._not_tradable

    def fractionable(self, symbol: str) -> bool:
        """Whether ``symbol`` accepts fractional quantities (configurable)."""
        return symbol in self._symbols and symbol not in self._not_fractionable

    # -- MarketData ------------------------------------------------------------------

    async def latest_quote(self, symbol: str) -> Quote | None:
        """The symbol's current tape quote, or None before its first quote."""
        book = self._books.get(symbol)
        if book is None:
            return None
        if self._restamp:
            return book.quote.model_copy(update={"quoted_at": self.now})
        return book.quote

    # -- Broker ------------------------------------------------------------------------

    async def place_limit(
        self,
        *,
        client_order_id: str,
        symbol: str,
        side: Side,
        quantity: Decimal,
        limit_price: Decimal,
        time_in_force: TimeInForce,
    ) -> BrokerOrder:
        """Place a limit order (idempotent per client order id); matched at once."""
        order = self._new(
            client_order_id, symbol, side, OrderType.LIMIT, quantity, limit_price, time_in_force
        )
        return self._accept(order)

    async def place_market(
        self,
        *,
        client_order_id: str,
        symbol: str,
        side: Side,
        quantity: Decimal,
        time_in_force: TimeInForce,
    ) -> BrokerOrder:
        """Place a market order (idempotent per client order id); fills at the touch."""
        order = self._new(client_order_id, symbol, side, OrderType.MARKET, quantity, None, time_in_force)
        return self._accept(order)

    async def cancel(self, broker_order_id: str) -> BrokerOrder:
        """Cancel an open order; CancelRejected when it is already filled or closed."""
        order = self._open_order(broker_order_id)
        order.status = BrokerOrderStatus.CANCELED
        self._publish(order, None)
        return order.snapshot()

    async def get_by_client_order_id(self, client_order_id: str) -> BrokerOrder | None:
        """The order placed under ``client_order_id``, or None."""
        order = self._by_client.get(client_order_id)
        return order.snapshot() if order else None

    def get_order(self, broker_order_id: str) -> BrokerOrder:
        """The order with ``broker_order_id``; BrokerOrderNotFound if unknown."""
        order = self._orders.get(broker_order_id)
        if order is None:
            raise BrokerOrderNotFound(f"no order {broker_order_id}")
        return order.snapshot()

    def order_updates(self) -> AsyncIterator[OrderUpdate]:
        """Every update since the session began (the backlog first), then live ones;
        after ``close`` just the backlog."""
        return self._feeds.order_updates()

    def close(self) -> None:
        """End every order-update and quote stream."""
        self._feeds.close()

    # -- internals -------------------------------------------------------------------

    def _new(
        self,
        client_order_id: str,
        symbol: str,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
        limit_price: Decimal | None,
        time_in_force: TimeInForce,
    ) -> WorkingOrder:
        existing = self._by_client.get(client_order_id)
        if existing is not None:
            return existing
        order = WorkingOrder(
            seq=next(self._seq),
            client_order_id=client_order_id,
            broker_order_id=broker_order_id_for(client_order_id),
            symbol=symbol,
            side=side,
            order_type=order_type,
            quantity=quantity,
            limit_price=limit_price,
            time_in_force=time_in_force,
        )
        problem = self._problem(order)
        if problem is not None:
            order.status = BrokerOrderStatus.REJECTED
            self._publish(order, None)
            raise OrderRejected(*problem)
        return order

    def _problem(self, order: WorkingOrder) -> tuple[str, str] | None:
        symbol, quantity, price = order.symbol, order.quantity, order.limit_price
        if not order.client_order_id or len(order.client_order_id) > MAX_CLIENT_ORDER_ID_LENGTH:
            return "invalid_client_order_id", "client order id must be 1 to 128 characters"
        if symbol not in self._symbols:
            return "unknown_symbol", f"{symbol} is not on the tape"
        if not self.tradable(symbol):
            return "not_tradable", f"{symbol} is not tradable"
        if not quantity.is_finite() or quantity <= 0:
            return "invalid_quantity", f"quantity must be positive, got {quantity}"
        if quantity != quantity.to_integral_value() and not self.fractionable(symbol):
            return "not_fractionable", f"{symbol} trades in whole shares, got {quantity}"
        if price is not None and (not price.is_finite() or price <= 0):
            return "invalid_price", f"limit price must be positive, got {price}"
        if price is not None and price % tick_for(price) != 0:
            return "invalid_tick", f"limit price {price} is not a multiple of {tick_for(price)}"
        if self.is_finished:
            return "session_closed", "the tape has ended"
        return None

    def _accept(self, order: WorkingOrder) -> BrokerOrder:
        if order.client_order_id in self._by_client:
            return order.snapshot()
        self._orders[order.broker_order_id] = order
        self._by_client[order.client_order_id] = order
        self._publish(order, None)
        book = self._books.get(order.symbol)
        if book is not None:
            self._fill(order, book)
        if order.time_in_force is TimeInForce.IOC and order.is_open:
            order.status = BrokerOrderStatus.CANCELED
            self._publish(order, None)
        if order.is_open:
            self._resting.setdefault(order.symbol, []).append(order)
        return order.snapshot()

    def _open_order(self, broker_order_id: str) -> WorkingOrder:
        order = self._orders.get(broker_order_id)
        if order is None:
            raise BrokerOrderNotFound(f"no order {broker_order_id}")
        if not order.is_open:
            raise CancelRejected(f"order {broker_order_id} is {order.status.value}")
        return order

    def _fill(self, order: WorkingOrder, book: Liquidity) -> None:
        fill = take(order, book)
        if fill is None:
            return
        quantity, price = fill
        number = order.record_fill(quantity, price)
        execution = Execution(
            execution_id=f"{order.broker_order_id}-{number}",
            client_order_id=order.client_order_id,
            broker_order_id=order.broker_order_id,
            quantity=quantity,
            price=price,
            executed_at=self.now,
        )
        self._publish(order, execution)

    def _publish(self, order: WorkingOrder, execution: Execution | None) -> None:
        self._feeds.publish(OrderUpdate(order=order.snapshot(), execution=execution, at=self.now))

    def _apply(self, quote: Quote) -> None:
        book = Liquidity.fresh(quote)
        self._books[quote.symbol] = book
        resting = sorted((o for o in self._resting.get(quote.symbol, []) if o.is_open), key=priority)
        for order in resting:
            self._fill(order, book)
        self._resting[quote.symbol] = [order for order in resting if order.is_open]

    def _on_tape(self) -> None:
        moment = self._tape[self._cursor].quoted_at
        while self._cursor < len(self._tape) and self._tape[self._cursor].quoted_at == moment:
            self._apply(self._tape[self._cursor])
            self._cursor += 1
        self._schedule_next()

    def _schedule_next(self) -> None:
        if self._cursor < len(self._tape):
            self.clock.call_at(self._tape[self._cursor].quoted_at, self._on_tape)
        else:
            self.clock.call_at(self.tape_end, self._feeds.finish)
