"""OrderWorker: the task that works one smart order from request to a terminal state."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import structlog
from execledger.domain.errors import DomainError, InvalidQuote, Overfill
from execledger.domain.order import SmartOrder
from execledger.domain.preflight import no_quote_action, preflight, remaining_too_small
from execledger.domain.pricing import price_order
from execledger.domain.quotes import QuoteChoice
from execledger.domain.repeg import decide_repeg, repeg_due
from execledger.domain.status import LIVE_STATUSES, OrderStatus
from execledger.domain.types import OrderType, Urgency
from execledger.infrastructure.engine.broker_calls import CANCELED_STATES, BrokerCalls
from execledger.infrastructure.engine.commit_group import OrderWriter
from execledger.infrastructure.engine.quoting import QuoteFetcher, reference_price
from execledger.infrastructure.engine.retry import Retrier
from execledger.infrastructure.logging import correlation
from execledger.infrastructure.ports import (
    AssetDirectory,
    BrokerOrder,
    BrokerOrderStatus,
    Clock,
    Execution,
    OrderUpdate,
)

log = structlog.get_logger(__name__)


class RecordFill(Protocol):
    """SmartOrder.record_fill or SmartOrder.record_overfill."""

    def __call__(
        self,
        client_order_id: str,
        *,
        execution_id: str,
        quantity: Decimal,
        price: Decimal,
        broker_order_id: str,
        occurred_at: datetime,
        executed_at: datetime | None = None,
        broker_filled_quantity: Decimal | None = None,
    ) -> bool: ...


@dataclass(frozen=True)
class WorkerContext:
    """What every worker of a session shares."""

    ledger: OrderWriter
    calls: BrokerCalls
    quotes: QuoteFetcher
    assets: AssetDirectory
    retrier: Retrier
    clock: Clock
    session_end: datetime | None


class OrderWorker:
    """Works one order: preflight, price, place, absorb fills, re-peg, escalate, finish."""

    def __init__(self, order: SmartOrder, context: WorkerContext) -> None:
        self.order = order
        self.inbox: deque[OrderUpdate] = deque()
        self._ctx = context

    async def run(self) -> SmartOrder:
        """Work the order until it is terminal; returns it."""
        order = self.order
        with correlation(order.correlation_id, order_id=str(order.id), symbol=order.symbol):
            await self._recover()
            while not order.is_terminal:
                self.absorb_updates()
                if order.is_terminal:
                    break
                if self._session_over():
                    await self._wrap_up()
                    break
                if await self._step():
                    await self._ctx.clock.sleep(order.config.repeg_check_interval_seconds)
            log.info("order_finished", status=order.status.value, filled=str(order.filled_quantity))
        return order

    # ---- one step: returns True when the worker should wait before the next ----------

    async def _step(self) -> bool:
        order = self.order
        if order.overfilled or order.remaining_quantity <= 0:
            return await self._stop_working()
        if order.status is OrderStatus.NEW:
            await self._preflight()
            return False
        if order.status is OrderStatus.FILLED:
            self._finish_complete("filled")
            return False
        if order.status in (OrderStatus.ACCEPTED, OrderStatus.CANCELED):
            await self._place_next()
            return True
        if order.status in LIVE_STATUSES:
            acted = await self._watch_working()
            return not acted
        return True  # PENDING_NEW / PENDING_CANCEL: an answer is on its way

    async def _stop_working(self) -> bool:
        """Nothing more to buy or sell (or a breach): cancel what still works, then close."""
        order = self.order
        if order.status in LIVE_STATUSES:
            reason = "overfilled" if order.overfilled else "filled on an earlier broker order"
            await self._cancel(reason)
            return False
        if order.live_client_order_id is not None:
            return True  # PENDING_NEW / PENDING_CANCEL: an answer is on its way
        if order.overfilled:
            order.fail(
                f"overfilled: the broker filled {order.filled_quantity} of {order.quantity}",
                occurred_at=self._now(),
            )
            self._save()
        else:
            self._finish_complete("filled")
        return False

    async def _preflight(self) -> None:
        order, now = self.order, self._ctx.clock.now()
        asset = await self._ctx.retrier.call("asset", lambda: self._ctx.assets.asset(order.symbol))
        decision = preflight(order.quantity, tradable=asset.tradable, fractionable=asset.fractionable)
        if decision.outcome == "denied":
            order.deny(decision.reason, occurred_at=now)
        elif decision.outcome == "adjusted":
            order.adjust_quantity(
                decision.quantity, fractionable=asset.fractionable, reason=decision.reason, occurred_at=now
            )
        else:
            order.validate(tradable=True, fractionable=asset.fractionable, occurred_at=now)
        self._save()

    async def _place_next(self) -> None:
        order = self.order
        if order.escalated:
            await self._ctx.calls.place(order, OrderType.MARKET, None)
            return
        if order.filled_quantity > 0 and self._too_small():
            self._finish_complete("remaining quantity too small to trade")
            return
        if order.decided_price is not None:
            await self._ctx.calls.place(order, OrderType.LIMIT, order.decided_price)
            return
        choice = await self._quote()
        if choice is None:
            await self._no_quote()
            return
        try:
            decision = price_order(order.side, order.remaining_quantity, choice.quote, order.config)
        except InvalidQuote as error:
            log.warning("quote_unpriceable", reasons=error.reasons)
            await self._no_quote()
            return
        order.price(
            decision.limit_price,
            method=decision.method,
            tick=decision.tick,
            metadata=decision.metadata,
            occurred_at=self._ctx.clock.now(),
        )
        await self._ctx.calls.place(order, OrderType.LIMIT, decision.limit_price)

    async def _no_quote(self) -> None:
        order, now = self.order, self._ctx.clock.now()
        attempts = order.config.quote_retry_attempts
        if no_quote_action(order.urgency) == "market":
            order.escalate(
                f"no valid quote after {attempts} attempts; urgency HIGH goes to market", occurred_at=now
            )
            self._save()
            await self._ctx.calls.place(order, OrderType.MARKET, None)
        else:
            order.fail(
                f"no valid quote after {attempts} attempts (urgency {order.urgency.value})", occurred_at=now
            )
            self._save()

    async def _watch_working(self) -> bool:
        """Re-peg or escalate a working order when due; True when a cancel went out."""
        order = self.order
        if order.filled_quantity > 0 and self._too_small():
            await self._cancel("remaining quantity too small to trade")
            return True
        assert order.last_placed_at is not None
        if not repeg_due(order.last_placed_at, self._ctx.clock.now(), order.config):
            return False
        choice = await self._quote()
        if choice is None:
            if order.urgency is not Urgency.HIGH:
                return False
            await self._escalate("no valid quote for the re-peg; urgency HIGH")
            return True
        assert order.limit_price is not None
        try:
            decision = decide_repeg(
                side=order.side,
                quote=choice.quote,
                last_price=order.limit_price,
                price_history=order.price_history,
                repegs_done=order.repegs,
                config=order.config,
            )
        except InvalidQuote as error:
            log.warning("quote_unpriceable", reasons=error.reasons)
            return False
        if decision.action == "escalate":
            await self._escalate("; ".join(decision.reasons))
            return True
        assert decision.new_price is not None
        order.repeg(
            decision.new_price,
            bid=choice.quote.bid,
            ask=choice.quote.ask,
            reasons=list(decision.reasons),
            occurred_at=self._ctx.clock.now(),
        )
        await self._cancel(f"re-peg {order.repegs}")
        return True

    async def _escalate(self, reason: str) -> None:
        self.order.escalate(reason, occurred_at=self._ctx.clock.now())
        await self._cancel("escalation to market")

    # ---- cancels, updates, the end ----------------------------------------------------

    async def _cancel(self, reason: str) -> None:
        answer = await self._ctx.calls.cancel(self.order, reason)
        self._settle_cancel(answer, reason)

    def _settle_cancel(self, answer: BrokerOrder | None, reason: str) -> None:
        """Record the broker's answer to the pending cancel, after any racing fills."""
        order = self.order
        self.absorb_updates()
        if order.cancel_pending_for is None:
            return  # a racing update already settled it
        now = self._ctx.clock.now()
        if answer is not None and answer.status in CANCELED_STATES:
            order.record_canceled(reason, occurred_at=now)
        else:
            order.record_cancel_rejected("broker refused the cancel (filled first)", occurred_at=now)
        self._save()

    def absorb_updates(self) -> None:
        """Record what the venue pushed for this order: fills, and cancels it made itself."""
        order = self.order
        while self.inbox:
            update = self.inbox.popleft()
            try:
                self._absorb(update)
            except DomainError as error:
                log.warning("update_ignored", error=str(error), status=update.order.status.value)
        if order.pending_events:
            self._save()

    def _absorb(self, update: OrderUpdate) -> None:
        order, execution = self.order, update.execution
        if execution is not None:
            try:
                self._record_execution(order.record_fill, update, execution)
            except Overfill as error:
                log.error("overfill_recorded", error=str(error), execution_id=execution.execution_id)
                self._record_execution(order.record_overfill, update, execution)
            return
        unsolicited = (
            update.order.status in (BrokerOrderStatus.CANCELED, BrokerOrderStatus.EXPIRED)
            and order.live_client_order_id == update.order.client_order_id
            and order.cancel_pending_for is None
        )
        if unsolicited:
            order.record_canceled(f"broker {update.order.status.value}", occurred_at=update.at)

    def _record_execution(self, command: RecordFill, update: OrderUpdate, execution: Execution) -> None:
        command(
            execution.client_order_id,
            execution_id=execution.execution_id,
            quantity=execution.quantity,
            price=execution.price,
            broker_order_id=execution.broker_order_id,
            executed_at=execution.executed_at,
            broker_filled_quantity=update.order.filled_quantity,
            occurred_at=self._now(),
        )

    async def _wrap_up(self) -> None:
        """The session is over: cancel what works, then close the order one way or another."""
        order = self.order
        if order.status in LIVE_STATUSES:
            await self._cancel("session ended")
        if order.status is OrderStatus.FILLED:
            self._finish_complete("filled")
        elif order.is_terminal:
            return
        elif order.live_client_order_id is None:
            order.expire("session ended before the order completed", occurred_at=self._now())
            self._save()
        else:
            order.fail(
                f"session ended with broker order {order.live_client_order_id} still "
                f"{order.status.value}; check it at the broker",
                occurred_at=self._now(),
            )
            self._save()

    async def _recover(self) -> None:
        """After a restart: settle what was sent but never answered, by client order id."""
        order = self.order
        live = order.live_placement
        if live is None or order.is_terminal:
            return
        found = await self._ctx.calls.find(live.client_order_id)
        if order.status is OrderStatus.PENDING_NEW:
            if found is not None:
                self._ctx.calls.record_placed(order, live.client_order_id, found)
                return
            order.record_placement_rejected(
                live.client_order_id,
                error_code="not_found",
                reason="not at the broker after a restart",
                occurred_at=self._now(),
            )
        elif found is None or found.status in CANCELED_STATES:
            order.record_canceled("not working at the broker after a restart", occurred_at=self._now())
        elif order.status is OrderStatus.PENDING_CANCEL:
            self._settle_cancel(await self._ctx.calls.send_cancel(order), "cancel resent after a restart")
            return
        else:
            return
        self._save()

    # ---- helpers --------------------------------------------------------------------

    async def _quote(self) -> QuoteChoice | None:
        order = self.order
        choice = await self._ctx.quotes.choose(order.symbol, order.config)
        if choice is not None:
            order.record_quote(
                choice.quote,
                suspicion_reasons=list(choice.suspicion_reasons),
                fallback_used=choice.fallback_used,
                occurred_at=self._now(),
            )
        return choice

    def _too_small(self) -> bool:
        """Whether the remainder is below the tradable minimum, judged at the last mid."""
        order = self.order
        quote = order.last_quote
        mid = (quote["bid"] + quote["ask"]) / 2 if quote is not None else None
        price = reference_price(mid, order.limit_price)
        if price is None or order.fractionable is None:
            return False
        return remaining_too_small(
            order.remaining_quantity, price, fractionable=order.fractionable, config=order.config
        )

    def _finish_complete(self, reason: str) -> None:
        self.order.complete(reason, occurred_at=self._now())
        self._save()

    def _session_over(self) -> bool:
        end = self._ctx.session_end
        return end is not None and self._now() >= end

    def _now(self) -> datetime:
        return self._ctx.clock.now()

    def _save(self) -> None:
        self._ctx.ledger.save_order(self.order)
