"""AlpacaBroker: the Broker port on alpaca-py's TradingClient and TradingStream.

A placement whose answer is lost (timeout, dropped connection, 429/5xx, or a 422
"client_order_id must be unique" on a resend) is settled by looking the client order id
up, never by sending blind: found, it is the answer; not there, the caller may resend
under the same client order id, which Alpaca keeps unique. Every order it has seen is
watched; whenever the trade-updates stream (re)connects, each open one is read over REST,
because Alpaca does not replay what was sent while the stream was down.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar, Unpack

import structlog
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
)
from execledger.infrastructure.alpaca.calls import AlpacaRefusal, call, call_idempotent
from execledger.infrastructure.alpaca.settings import AlpacaSettings
from execledger.infrastructure.alpaca.trade_stream import TradeUpdateFeed
from execledger.infrastructure.alpaca.translation import (
    broker_order,
    wire_order,
    wire_price,
)
from execledger.infrastructure.errors import (
    BrokerError,
    BrokerOrderNotFound,
    CancelRejected,
    OrderRejected,
    TransientBrokerError,
)
from execledger.infrastructure.ports import BrokerOrder, BrokerOrderStatus, OrderUpdate, PlacementFields

T = TypeVar("T")
log = structlog.get_logger(__name__)
OPEN = frozenset({BrokerOrderStatus.NEW, BrokerOrderStatus.PARTIALLY_FILLED})
DUPLICATE = "must be unique"
CANCEL_POLL_SECONDS = 0.1


class AlpacaBroker:
    """Places, cancels and looks up orders at Alpaca; streams their updates."""

    def __init__(
        self,
        trading: TradingClient,
        settings: AlpacaSettings,
        feed: TradeUpdateFeed | None = None,
        *,
        cancel_confirm_seconds: Decimal = Decimal("5"),
    ) -> None:
        self._trading = trading
        self._settings = settings
        self._feed = feed
        self._cancel_confirm = float(cancel_confirm_seconds)
        self._watched: set[str] = set()

    # -- placements ------------------------------------------------------------------

    async def place_limit(self, *, limit_price: Decimal, **order: Unpack[PlacementFields]) -> BrokerOrder:
        """A limit order under our client order id (its price checked on tick, sent once)."""
        request = LimitOrderRequest(**wire_order(order), limit_price=wire_price(limit_price))
        return await self._place(order["client_order_id"], lambda: self._trading.submit_order(request))

    async def place_market(self, **order: Unpack[PlacementFields]) -> BrokerOrder:
        """A market order under our client order id."""
        request = MarketOrderRequest(**wire_order(order))
        return await self._place(order["client_order_id"], lambda: self._trading.submit_order(request))

    async def replace(
        self,
        broker_order_id: str,
        *,
        client_order_id: str,
        quantity: Decimal,
        limit_price: Decimal,
    ) -> BrokerOrder:
        """Alpaca's replace (PATCH) with an explicit whole-share quantity (see docs/alpaca.md)."""
        if quantity != quantity.to_integral_value() or quantity <= 0:
            raise OrderRejected("fractional_replace", f"Alpaca replaces whole shares only, got {quantity}")
        request = ReplaceOrderRequest(
            qty=int(quantity), limit_price=wire_price(limit_price), client_order_id=client_order_id
        )
        return await self._place(
            client_order_id, lambda: self._trading.replace_order_by_id(broker_order_id, request)
        )

    async def _place(self, client_order_id: str, send: Callable[[], Order | object]) -> BrokerOrder:
        try:
            sent = await call("place", send)
        except TransientBrokerError as lost:
            log.warning("placement_answer_lost", client_order_id=client_order_id, error=str(lost))
            return await self._settle_lost(client_order_id, lost)
        except AlpacaRefusal as refusal:
            if refusal.status == 422 and DUPLICATE in refusal.message:
                log.info("placement_already_at_broker", client_order_id=client_order_id)
                return await self._settle_lost(client_order_id, refusal)
            raise OrderRejected(str(refusal.code or refusal.status), refusal.message) from None
        return self._watch(broker_order(_order(sent)))

    async def _settle_lost(self, client_order_id: str, cause: BrokerError) -> BrokerOrder:
        """The broker's answer to a placement we did not hear: look it up, never resend."""
        found = await self.get_by_client_order_id(client_order_id)
        if found is None:
            raise TransientBrokerError(f"placement {client_order_id} is not at the broker ({cause})")
        return found

    # -- cancels ---------------------------------------------------------------------

    async def cancel(self, broker_order_id: str) -> BrokerOrder:
        """Cancel, then wait (bounded) for Alpaca to confirm; returns the order's final state.

        A fill that wins the race comes back as the filled order. Refused (already
        closed): CancelRejected; unknown id: BrokerOrderNotFound; unconfirmed within the
        wait: TransientBrokerError (outcome unknown, ask again).
        """
        try:
            await call("cancel", lambda: self._trading.cancel_order_by_id(broker_order_id))
        except AlpacaRefusal as refusal:
            if refusal.status == 404:
                raise BrokerOrderNotFound(f"no order {broker_order_id}") from None
            raise CancelRejected(f"{broker_order_id}: {refusal.message}") from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._cancel_confirm
        while True:
            order = await self.get_by_broker_order_id(broker_order_id)
            if order.status not in OPEN:
                return order
            if loop.time() >= deadline:
                raise TransientBrokerError(f"cancel of {broker_order_id} not confirmed yet")
            await asyncio.sleep(CANCEL_POLL_SECONDS)

    # -- lookups ---------------------------------------------------------------------

    async def get_by_client_order_id(self, client_order_id: str) -> BrokerOrder | None:
        """The order placed under ``client_order_id``; None only when Alpaca says 404."""
        try:
            order = await self._read(
                "get_by_client_order_id", lambda: self._trading.get_order_by_client_id(client_order_id)
            )
        except AlpacaRefusal as refusal:
            if refusal.status == 404:
                return None
            raise BrokerError(f"lookup of {client_order_id} refused: {refusal}") from None
        return self._watch(broker_order(_order(order)))

    async def get_by_broker_order_id(self, broker_order_id: str) -> BrokerOrder:
        """The order with Alpaca id ``broker_order_id``; BrokerOrderNotFound on 404."""
        try:
            order = await self._read("get_order", lambda: self._trading.get_order_by_id(broker_order_id))
        except AlpacaRefusal as refusal:
            if refusal.status == 404:
                raise BrokerOrderNotFound(f"no order {broker_order_id}") from None
            raise BrokerError(f"lookup of {broker_order_id} refused: {refusal}") from None
        return self._watch(broker_order(_order(order)))

    async def open_orders(self) -> list[BrokerOrder]:
        """Every open order of the account (the reconciler reports those we never sent)."""
        request = GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500)
        orders = await self._read("get_orders", lambda: self._trading.get_orders(request))
        return [broker_order(order) for order in orders if isinstance(order, Order)]

    async def _read(self, operation: str, function: Callable[[], T]) -> T:
        settings = self._settings
        return await call_idempotent(
            operation, function, settings.get_retries, settings.get_retry_backoff_seconds
        )

    # -- updates ---------------------------------------------------------------------

    def watch(self, client_order_id: str) -> None:
        """Check ``client_order_id`` whenever the stream (re)connects (orders of a past run)."""
        self._watched.add(client_order_id)

    def _watch(self, order: BrokerOrder) -> BrokerOrder:
        if order.status in OPEN:
            self._watched.add(order.client_order_id)
        else:
            self._watched.discard(order.client_order_id)
        return order

    async def order_updates(self) -> AsyncIterator[OrderUpdate]:
        """Trade updates as they come; after every (re)connect, each watched open order
        as read over REST (its cumulative fill, for fills the stream may have lost)."""
        if self._feed is None:
            raise BrokerError("no trade-updates stream configured")
        async for item in self._feed.updates():
            if item is None:
                for update in await self._resync():
                    yield update
                continue
            self._watch(item.order)
            yield item

    async def _resync(self) -> list[OrderUpdate]:
        updates = []
        for client_order_id in sorted(self._watched):
            try:
                order = await self.get_by_client_order_id(client_order_id)
            except BrokerError as error:
                log.warning("resync_lookup_failed", client_order_id=client_order_id, error=str(error))
                continue
            if order is not None:
                updates.append(OrderUpdate(order=order, execution=None, at=datetime.now(UTC)))
        log.info("orders_resynced", orders=len(updates))
        return updates


def _order(answer: object) -> Order:
    """The SDK's answer as an Order (the clients are built with raw_data=False)."""
    if not isinstance(answer, Order):
        raise BrokerError(f"unexpected answer from Alpaca: {type(answer).__name__}")
    return answer
