"""The fake Alpaca's order book: Alpaca's validation rules, the simulated venue's matching.

Every method runs under one lock (the HTTP server is threaded); each state change is
published as a trade-update message through ``publish`` (the WebSocket hub).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from execledger.domain.ticks import tick_for
from execledger.domain.types import OrderType, Quote, Side, TimeInForce
from execledger.infrastructure.ports import BrokerOrderStatus
from execledger.infrastructure.venue.matching import Liquidity, WorkingOrder, priority, take

from tests.fake_alpaca import wire

Answer = tuple[int, Any]
INVALID = 40010001
UNPROCESSABLE = 42210000
NOT_FOUND = 40410000
MAX_CLIENT_ORDER_ID = 128
OPEN = frozenset({"new", "partially_filled", "accepted", "pending_new", "pending_cancel", "pending_replace"})


def now() -> datetime:
    return datetime.now(UTC)


class FakeBook:
    """Orders, quotes and positions of one fake account."""

    def __init__(self, publish: Callable[[dict[str, Any]], None] = lambda message: None) -> None:
        self.lock = threading.RLock()
        self.publish = publish
        self.lose_next_fill: Callable[[], bool] = lambda: False
        self.orders: dict[str, wire.AlpacaOrder] = {}
        self.by_client: dict[str, wire.AlpacaOrder] = {}
        self.books: dict[str, Liquidity] = {}
        self.untradable: set[str] = set()
        self.unfractionable: set[str] = set()
        self.positions: dict[str, tuple[Decimal, Decimal]] = {}
        self._seq = itertools.count(1)

    # -- queries ---------------------------------------------------------------------

    def get(self, broker_order_id: str) -> Answer:
        with self.lock:
            order = self.orders.get(broker_order_id)
            if order is None:
                return 404, wire.error(NOT_FOUND, "order not found")
            return 200, order.to_json()

    def get_by_client(self, client_order_id: str) -> Answer:
        with self.lock:
            order = self.by_client.get(client_order_id)
            if order is None:
                return 404, wire.error(NOT_FOUND, "order not found")
            return 200, order.to_json()

    def list(self, status: str, symbols: set[str] | None) -> Answer:
        with self.lock:
            chosen = [
                order
                for order in self.orders.values()
                if (status == "all" or (order.status_text in OPEN) == (status == "open"))
                and (not symbols or order.working.symbol in symbols)
            ]
            chosen.sort(key=lambda order: order.working.seq, reverse=True)
            return 200, [order.to_json() for order in chosen]

    def asset(self, symbol: str) -> Answer:
        with self.lock:
            if symbol not in self.books:
                return 404, wire.error(NOT_FOUND, "asset not found")
            return 200, wire.asset(
                symbol, tradable=symbol not in self.untradable, fractionable=symbol not in self.unfractionable
            )

    def position(self, symbol: str) -> Answer:
        with self.lock:
            held = self.positions.get(symbol)
            if held is None or held[0] == 0:
                return 404, wire.error(NOT_FOUND, "position does not exist")
            quantity, cost = held
            return 200, wire.position(symbol, quantity, cost / quantity)

    def latest_quotes(self, symbols: list[str]) -> Answer:
        with self.lock:
            quotes = {}
            for symbol in symbols:
                book = self.books.get(symbol)
                if book is not None:
                    quote = book.quote
                    quotes[symbol] = {
                        "t": wire.iso(quote.quoted_at),
                        "bp": float(quote.bid),
                        "bs": float(quote.bid_size),
                        "ap": float(quote.ask),
                        "as": float(quote.ask_size),
                        "bx": "V",
                        "ax": "V",
                        "c": ["R"],
                        "z": "C",
                    }
            return 200, {"quotes": quotes}

    # -- commands --------------------------------------------------------------------

    def submit(self, body: dict[str, Any]) -> Answer:
        with self.lock:
            client_order_id = str(body.get("client_order_id") or uuid4())
            problem = self._problem(body, client_order_id)
            if problem is not None:
                return 422, wire.error(*problem)
            order = self._new(
                client_order_id,
                str(body["symbol"]),
                Side(str(body["side"]).upper()),
                OrderType(str(body["type"]).upper()),
                Decimal(str(body["qty"])),
                None if body.get("limit_price") is None else Decimal(str(body["limit_price"])),
                TimeInForce(str(body["time_in_force"]).upper()),
            )
            self._event("new", order)
            self._match(order)
            return 200, order.to_json()

    def cancel(self, broker_order_id: str, *, fill_first: bool = False) -> Answer:
        with self.lock:
            order = self.orders.get(broker_order_id)
            if order is None:
                return 404, wire.error(NOT_FOUND, "order not found")
            if order.status_text not in OPEN:
                return 422, wire.error(UNPROCESSABLE, "order is not cancelable")
            if fill_first:
                self._event("pending_cancel", order)
                price = order.working.limit_price or self.books[order.working.symbol].quote.mid
                self._fill(order, order.working.remaining, price)
                self._event("order_cancel_rejected", order)
                return 204, None
            order.working.status = BrokerOrderStatus.CANCELED
            order.canceled_at = order.updated_at = now()
            self._event("canceled", order)
            return 204, None

    def replace(self, broker_order_id: str, body: dict[str, Any]) -> Answer:
        with self.lock:
            old = self.orders.get(broker_order_id)
            if old is None:
                return 404, wire.error(NOT_FOUND, "order not found")
            if old.status_text not in OPEN:
                return 422, wire.error(UNPROCESSABLE, "order is not replaceable")
            client_order_id = str(body.get("client_order_id") or uuid4())
            merged = {
                "symbol": old.working.symbol,
                "side": old.working.side.value,
                "type": old.working.order_type.value,
                "time_in_force": old.working.time_in_force.value,
                # Alpaca's rule: without qty the new order takes the old one's FULL quantity.
                "qty": body.get("qty", old.working.quantity),
                "limit_price": body.get("limit_price", old.working.limit_price),
            }
            problem = self._problem(merged, client_order_id)
            if problem is not None:
                return 422, wire.error(*problem)
            new = self._new(
                client_order_id,
                old.working.symbol,
                old.working.side,
                old.working.order_type,
                Decimal(str(merged["qty"])),
                Decimal(str(merged["limit_price"])),
                old.working.time_in_force,
            )
            new.replaces = old.working.broker_order_id
            old.replaced_by = new.working.broker_order_id
            old.working.status = BrokerOrderStatus.REPLACED
            old.updated_at = now()
            self._event("replaced", old)
            self._event("new", new)
            self._match(new)
            return 200, new.to_json()

    def set_quote(self, quote: Quote) -> None:
        """A new tape quote: its sizes are on offer afresh; resting orders match in priority."""
        with self.lock:
            book = Liquidity.fresh(quote)
            self.books[quote.symbol] = book
            resting = [o for o in self.orders.values() if o.working.symbol == quote.symbol]
            for order in sorted(
                (o for o in resting if o.status_text in OPEN), key=lambda o: priority(o.working)
            ):
                self._take(order, book)

    # -- internals ---------------------------------------------------------------------

    def _problem(self, body: dict[str, Any], client_order_id: str) -> tuple[int, str] | None:
        if len(client_order_id) > MAX_CLIENT_ORDER_ID:
            return INVALID, "client_order_id must be no more than 128 characters"
        if client_order_id in self.by_client:
            return INVALID, "client_order_id must be unique"
        symbol = str(body.get("symbol", ""))
        if symbol not in self.books:
            return UNPROCESSABLE, f"asset {symbol} not found"
        if symbol in self.untradable:
            return UNPROCESSABLE, f"asset {symbol} is not tradable"
        if body.get("qty") is None or Decimal(str(body["qty"])) <= 0:
            return INVALID, "qty must be > 0"
        quantity = Decimal(str(body["qty"]))
        kind = str(body.get("type", "")).lower()
        if kind not in ("limit", "market"):
            return INVALID, f"unsupported order type {kind}"
        if quantity != quantity.to_integral_value():
            if symbol in self.unfractionable:
                return UNPROCESSABLE, f"asset {symbol} is not fractionable"
            if kind != "market" or str(body.get("time_in_force")).lower() != "day":
                return UNPROCESSABLE, "fractional orders must be market orders with time_in_force day"
        if kind == "limit":
            if body.get("limit_price") is None:
                return INVALID, "limit_price is required for limit orders"
            price = Decimal(str(body["limit_price"]))
            if price <= 0 or price % tick_for(price) != 0:
                return (
                    UNPROCESSABLE,
                    f"invalid limit_price {price}. sub-penny increment does not fulfill minimum "
                    "pricing criteria",
                )
        return None

    def _new(
        self,
        client_order_id: str,
        symbol: str,
        side: Side,
        kind: OrderType,
        quantity: Decimal,
        limit_price: Decimal | None,
        time_in_force: TimeInForce,
    ) -> wire.AlpacaOrder:
        moment = now()
        working = WorkingOrder(
            seq=next(self._seq),
            client_order_id=client_order_id,
            broker_order_id=str(uuid4()),
            symbol=symbol,
            side=side,
            order_type=kind,
            quantity=quantity,
            limit_price=limit_price if kind is OrderType.LIMIT else None,
            time_in_force=time_in_force,
        )
        order = wire.AlpacaOrder(working=working, created_at=moment, updated_at=moment)
        self.orders[working.broker_order_id] = order
        self.by_client[client_order_id] = order
        return order

    def _match(self, order: wire.AlpacaOrder) -> None:
        book = self.books.get(order.working.symbol)
        if book is not None:
            self._take(order, book)
        if order.working.time_in_force is TimeInForce.IOC and order.working.is_open:
            order.working.status = BrokerOrderStatus.CANCELED
            order.canceled_at = now()
            self._event("canceled", order)

    def _take(self, order: wire.AlpacaOrder, book: Liquidity) -> None:
        fill = take(order.working, book)
        if fill is not None:
            self._fill(order, *fill)

    def _fill(self, order: wire.AlpacaOrder, quantity: Decimal, price: Decimal) -> None:
        if quantity <= 0:
            return
        order.working.record_fill(quantity, price)
        order.status = None
        order.updated_at = now()
        signed = quantity if order.working.side is Side.BUY else -quantity
        held, cost = self.positions.get(order.working.symbol, (Decimal(0), Decimal(0)))
        self.positions[order.working.symbol] = (held + signed, cost + signed * price)
        done = order.working.status is BrokerOrderStatus.FILLED
        if done:
            order.filled_at = order.updated_at
        execution_id = str(uuid4())
        order.executions.append({"execution_id": execution_id, "qty": quantity, "price": price})
        if self.lose_next_fill():
            return
        self._event(
            "fill" if done else "partial_fill",
            order,
            execution_id=execution_id,
            price=wire.plain(price),
            qty=wire.plain(quantity),
            position_qty=wire.plain(held + signed),
        )

    def _event(self, event: str, order: wire.AlpacaOrder, **extra: Any) -> None:
        data = {"event": event, "order": order.to_json(), "timestamp": wire.iso(now()), **extra}
        self.publish({"stream": "trade_updates", "data": data})
