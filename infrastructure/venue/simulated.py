"""SimulatedVenue: a deterministic Broker and MarketData on a VirtualClock, fed by a tape.

Virtual time starts at the tape's first timestamp (the quotes stamped then are current at
once); each later tape moment is a clock timer that makes its quotes current, offers their
displayed sizes afresh and re-matches every open order of the symbol (rules in
``matching``). A placement is matched at once against what the current quote still
offers. The last quote of a symbol stands until the tape ends; then ``is_finished`` is
true, quote streams end and new placements are rejected (``session_closed``); orders
still open stay open for the engine to cancel. ``faults`` (venue.faults.VenueFaults) make it
as unkind as a real broker: delayed cancels, refused cancels, failed lookups, lost answers,
no backlog after a reconnect, dropped streams and quiet quote feeds.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Unpack
from uuid import NAMESPACE_URL, uuid5

from execledger.domain.ids import MAX_CLIENT_ORDER_ID_LENGTH
from execledger.domain.ticks import tick_for
from execledger.domain.types import OrderType, Quote, TimeInForce
from execledger.infrastructure.errors import (
    BrokerOrderNotFound,
    CancelRejected,
    OrderRejected,
    TapeError,
    TransientBrokerError,
)
from execledger.infrastructure.ports import (
    BrokerOrder,
    BrokerOrderStatus,
    Execution,
    OrderUpdate,
    PlacementFields,
)
from execledger.infrastructure.venue.clock import VirtualClock, seconds_to_timedelta
from execledger.infrastructure.venue.faults import VenueFaults
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
        faults: VenueFaults | None = None,
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
        self.faults = faults or VenueFaults()
        self._feeds = VenueFeeds(self.clock, replay_backlog=self.faults.replay_backlog)
        self._shown: dict[str, Quote] = {}  # what the quote feed last said, per symbol
        self._cancel_requests: Counter[str] = Counter()
        self._lookups: Counter[str] = Counter()
        self._lost_answers = 0
        self._cursor = 0
        while self._cursor < len(self._tape) and self._tape[self._cursor].quoted_at <= self.now:
            self._apply(self._tape[self._cursor])
            self._cursor += 1
        self._schedule_next()
        for drop in self.faults.stream_drops:
            self.clock.call_at(self.tape_start + seconds_to_timedelta(drop), self._feeds.drop)

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
        """The symbol's current tape quote, or None before its first quote. In a quiet
        spell, the quote the feed last gave, stamped no later than the spell's start."""
        quote = self._shown.get(symbol)
        if quote is None:
            return None
        quiet_since = self._quiet_since()
        if quiet_since is not None:
            return quote.model_copy(update={"quoted_at": min(quote.quoted_at, quiet_since)})
        if self._restamp:
            return quote.model_copy(update={"quoted_at": self.now})
        return quote

    # -- Broker ------------------------------------------------------------------------

    async def place_limit(self, *, limit_price: Decimal, **order: Unpack[PlacementFields]) -> BrokerOrder:
        """Place a limit order (idempotent per client order id); matched at once."""
        return self._answer(self._accept(self._new(order, OrderType.LIMIT, limit_price)))

    async def place_market(self, **order: Unpack[PlacementFields]) -> BrokerOrder:
        """Place a market order (idempotent per client order id); fills at the touch."""
        return self._answer(self._accept(self._new(order, OrderType.MARKET, None)))

    async def cancel(self, broker_order_id: str) -> BrokerOrder:
        """Cancel an open order; CancelRejected when it is already filled or closed (or the
        faults refuse it). With a cancel delay the answer is ``pending_cancel`` and the
        order can still fill until the cancel settles."""
        order = self._open_order(broker_order_id)
        self._cancel_requests[broker_order_id] += 1
        if self._cancel_requests[broker_order_id] <= self.faults.refused_cancels:
            raise CancelRejected(f"order {broker_order_id} is not cancelable at this time")
        if order.status is BrokerOrderStatus.PENDING_CANCEL:
            return order.snapshot()
        if self.faults.cancel_delay_seconds > 0:
            order.status = BrokerOrderStatus.PENDING_CANCEL
            self._publish(order, None)
            settle_at = self.now + seconds_to_timedelta(self.faults.cancel_delay_seconds)
            self.clock.call_at(settle_at, lambda: self._settle_cancel(order))
            return order.snapshot()
        order.status = BrokerOrderStatus.CANCELED
        self._publish(order, None)
        return order.snapshot()

    async def get_by_client_order_id(self, client_order_id: str) -> BrokerOrder | None:
        """The order placed under ``client_order_id``, or None (definitely not here).
        The faults may fail a lookup transiently (TransientBrokerError)."""
        self._lookups[client_order_id] += 1
        if self._lookups[client_order_id] <= self.faults.failed_lookups:
            raise TransientBrokerError(f"503 looking up {client_order_id}")
        order = self._by_client.get(client_order_id)
        return order.snapshot() if order else None

    def get_order(self, broker_order_id: str) -> BrokerOrder:
        """The order with ``broker_order_id``; BrokerOrderNotFound if unknown."""
        order = self._orders.get(broker_order_id)
        if order is None:
            raise BrokerOrderNotFound(f"no order {broker_order_id}")
        return order.snapshot()

    def orders(self) -> list[BrokerOrder]:
        """Every order placed at the venue, in the order they were placed."""
        return [order.snapshot() for order in sorted(self._orders.values(), key=lambda o: o.seq)]

    def order_updates(self) -> AsyncIterator[OrderUpdate]:
        """Every update since the session began (the backlog first), then live ones;
        after ``close`` just the backlog."""
        return self._feeds.order_updates()

    def close(self) -> None:
        """End every order-update and quote stream."""
        self._feeds.close()

    # -- internals -------------------------------------------------------------------

    def _new(
        self, fields: PlacementFields, order_type: OrderType, limit_price: Decimal | None
    ) -> WorkingOrder:
        existing = self._by_client.get(fields["client_order_id"])
        if existing is not None:
            return existing
        order = WorkingOrder(
            seq=next(self._seq),
            broker_order_id=broker_order_id_for(fields["client_order_id"]),
            order_type=order_type,
            limit_price=limit_price,
            **fields,
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

    def _answer(self, answer: BrokerOrder) -> BrokerOrder:
        """The placement's answer, unless the faults lose it (the order stands)."""
        if self._lost_answers < self.faults.lost_placement_answers:
            self._lost_answers += 1
            raise TransientBrokerError("connection reset after the request was sent")
        return answer

    def _settle_cancel(self, order: WorkingOrder) -> None:
        if order.status is BrokerOrderStatus.PENDING_CANCEL:
            order.status = BrokerOrderStatus.CANCELED
            self._publish(order, None)

    def _quiet_since(self) -> datetime | None:
        """When the quote feed's current quiet spell began, or None if it is not quiet."""
        for spell in self.faults.quiet_quotes:
            start = self.tape_start + seconds_to_timedelta(spell.start)
            if start <= self.now < start + seconds_to_timedelta(spell.seconds):
                return start
        return None

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
        if self._quiet_since() is None:
            self._shown[quote.symbol] = quote

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
