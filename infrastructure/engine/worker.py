"""OrderWorker: the task that works one smart order from request to a terminal state.

The worker is the one component that records and saves its order: it records each
intent before the broker call (write-ahead) and the broker's answer after it. Every
answer that carries a broker order's cumulative filled quantity (a placement's answer, a
cancel's, a lookup's, a pushed update) is compared with the ledger's, so fills the
update stream never delivered are recorded (inferred). When the broker's answer is
missing (a failed call, a dropped stream, a restart), the worker does not guess: it
keeps the order as recorded and looks the broker order up again, with backoff.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from execledger.domain.errors import DomainError, InvalidQuote
from execledger.domain.order import SmartOrder
from execledger.domain.preflight import no_quote_action, preflight, remaining_too_small
from execledger.domain.pricing import price_order
from execledger.domain.quotes import QuoteChoice
from execledger.domain.refused_quotes import PRICING, refused_entry
from execledger.domain.repeg import decide_repeg, repeg_due
from execledger.domain.status import LIVE_STATUSES, OrderStatus
from execledger.domain.types import OrderType, TimeInForce, Urgency
from execledger.infrastructure.engine.broker_calls import (
    BrokerCalls,
    BrokerUnavailable,
)
from execledger.infrastructure.engine.broker_view import absorb_update, apply_broker_view
from execledger.infrastructure.engine.commit_group import OrderWriter
from execledger.infrastructure.engine.quoting import QuoteFetcher, reference_price
from execledger.infrastructure.engine.retry import Retrier
from execledger.infrastructure.errors import OrderRejected
from execledger.infrastructure.logging import correlation
from execledger.infrastructure.ports import (
    AssetDirectory,
    BrokerOrder,
    BrokerOrderStatus,
    Clock,
    OrderUpdate,
)

log = structlog.get_logger(__name__)
OPEN_AT_BROKER = frozenset(
    {BrokerOrderStatus.NEW, BrokerOrderStatus.PARTIALLY_FILLED, BrokerOrderStatus.PENDING_CANCEL}
)


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


@dataclass
class _CancelRetry:
    """A refused cancel being retried until ``until`` (cancel_confirm_timeout_seconds)."""

    reason: str
    until: datetime
    attempts: int = 0


class OrderWorker:
    """Works one order: preflight, price, place, absorb fills, re-peg, escalate, finish."""

    def __init__(self, order: SmartOrder, context: WorkerContext) -> None:
        self.order = order
        self.inbox: deque[OrderUpdate] = deque()
        self._ctx = context
        self.needs_lookup = False  # the broker's view of the live order is unknown
        self._lookups_failed = 0
        self._next_lookup_at: datetime | None = None
        self._cancel_sent_at: datetime | None = None
        self._cancel_retry: _CancelRetry | None = None
        #: The quotes the last search refused (domain.refused_quotes).
        self._refused_quotes: list[dict[str, Any]] = []

    async def run(self) -> SmartOrder:
        """Work the order until it is terminal; returns it."""
        order = self.order
        with correlation(order.correlation_id, order_id=str(order.id), symbol=order.symbol):
            self.needs_lookup = order.live_client_order_id is not None  # after a restart
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

    def broker_view_lost(self) -> None:
        """The update stream dropped: what the broker did meanwhile must be looked up."""
        if self.order.live_client_order_id is not None:
            self.needs_lookup = True

    # ---- one step: returns True when the worker should wait before the next ----------

    async def _step(self) -> bool:
        order = self.order
        if self.needs_lookup and order.live_client_order_id is not None:
            return not await self._reconcile()
        if order.overfilled or (order.status is not OrderStatus.NEW and order.remaining_quantity <= 0):
            return await self._stop_working()
        if order.status is OrderStatus.NEW:
            await self._preflight()
            return False
        if order.status in (OrderStatus.ACCEPTED, OrderStatus.CANCELED):
            await self._place_next()
            return True
        if order.status in LIVE_STATUSES:
            if self._cancel_retry is not None:
                return await self._retry_cancel()
            acted = await self._watch_working()
            return not acted
        if order.status is OrderStatus.PENDING_NEW:
            self._await_answer(order.config.placement_send_window_seconds, since=self._requested_at())
        elif order.status is OrderStatus.PENDING_CANCEL:
            self._await_answer(order.config.cancel_confirm_timeout_seconds, since=self._cancel_sent_at)
        return True

    def _await_answer(self, patience: Decimal, *, since: datetime | None) -> None:
        """An answer is on its way; past ``patience`` without one, look the order up."""
        if since is None or self._now() >= since + timedelta(seconds=float(patience)):
            self.needs_lookup = True

    async def _preflight(self) -> None:
        order, now = self.order, self._now()
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
            await self._place(OrderType.MARKET, None)
            return
        if order.filled_quantity > 0 and self._too_small():
            self._finish_complete("remaining quantity too small to trade")
            return
        if order.decided_price is not None:
            await self._place(OrderType.LIMIT, order.decided_price)
            return
        choice = await self._quote()
        if choice is None:
            await self._no_quote()
            return
        try:
            decision = price_order(order.side, order.remaining_quantity, choice.quote, order.config)
        except InvalidQuote as error:
            log.warning("quote_unpriceable", reasons=error.reasons)
            quote = choice.quote
            self._refused_quotes = [
                refused_entry(1, quote.source, self._now(), quote, error.reasons, PRICING)
            ]
            await self._no_quote()
            return
        order.price(
            decision.limit_price,
            method=decision.method,
            tick=decision.tick,
            metadata=decision.metadata,
            occurred_at=self._now(),
        )
        await self._place(OrderType.LIMIT, decision.limit_price)

    async def _no_quote(self) -> None:
        """No usable quote: HIGH goes to market, else the order fails; either way the
        quotes refused on the way are recorded (``_quote`` gathered them)."""
        order, now, refused = self.order, self._now(), self._refused_quotes
        attempts = order.config.quote_retry_attempts
        if no_quote_action(order.urgency) == "market":
            order.escalate(
                f"no valid quote after {attempts} attempts; urgency HIGH goes to market",
                occurred_at=now,
                refused_quotes=refused,
            )
            self._save()
            await self._place(OrderType.MARKET, None)
        else:
            order.fail(
                f"no valid quote after {attempts} attempts (urgency {order.urgency.value})",
                occurred_at=now,
                refused_quotes=refused,
            )
            self._save()

    async def _watch_working(self) -> bool:
        """Re-peg or escalate a working order when due; True when a cancel went out."""
        order = self.order
        if order.filled_quantity > 0 and self._too_small():
            await self._cancel("remaining quantity too small to trade")
            return True
        if order.escalated:
            return False  # escalated, its cancel refused: it works on until it can be canceled
        assert order.last_placed_at is not None
        if not repeg_due(order.last_placed_at, self._now(), order.config):
            return False
        choice = await self._quote()
        if choice is None:
            if order.urgency is not Urgency.HIGH:
                return False
            await self._escalate("no valid quote for the re-peg; urgency HIGH", self._refused_quotes)
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
            occurred_at=self._now(),
        )
        await self._cancel(f"re-peg {order.repegs}")
        return True

    async def _escalate(self, reason: str, refused_quotes: list[dict[str, Any]] | None = None) -> None:
        self.order.escalate(reason, occurred_at=self._now(), refused_quotes=refused_quotes or ())
        await self._cancel("escalation to market")

    async def _stop_working(self) -> bool:
        """Nothing more to buy or sell (or a breach): cancel what still works, then close."""
        order = self.order
        if order.status in LIVE_STATUSES:
            if self._cancel_retry is not None:
                return await self._retry_cancel()
            reason = "overfilled" if order.overfilled else "filled on an earlier broker order"
            await self._cancel(reason)
            return False
        if order.live_client_order_id is not None:
            return True  # PENDING_NEW / PENDING_CANCEL: its answer is awaited
        if order.overfilled:
            order.fail(
                f"overfilled: the broker filled {order.filled_quantity} of {order.quantity}",
                occurred_at=self._now(),
            )
            self._save()
        else:
            self._finish_complete("filled")
        return False

    # ---- placing ----------------------------------------------------------------------

    async def _place(self, order_type: OrderType, limit_price: Decimal | None) -> None:
        """Record the intent, send it, record the answer. No answer: look it up later."""
        order = self.order
        client_order_id = order.request_placement(
            order_type=order_type,
            quantity=order.remaining_quantity,
            limit_price=limit_price,
            time_in_force=TimeInForce.DAY,
            occurred_at=self._now(),
        )
        self._save()
        placement = order.placements[client_order_id]
        log.info(
            "placement_requested",
            client_order_id=client_order_id,
            order_type=order_type.value,
            quantity=str(placement.quantity),
            limit_price=str(limit_price) if limit_price is not None else None,
        )
        try:
            answer = await self._ctx.calls.place(order, placement)
        except OrderRejected as rejection:
            now = self._now()
            order.record_placement_rejected(
                client_order_id, error_code=rejection.code, reason=str(rejection), occurred_at=now
            )
            order.fail(f"placement rejected: {rejection}", occurred_at=now)
            self._save()
            log.warning("placement_rejected", client_order_id=client_order_id, code=rejection.code)
            return
        except BrokerUnavailable as error:
            log.warning("placement_unanswered", client_order_id=client_order_id, error=str(error))
            self.needs_lookup = True  # it may be at the broker: never send it twice
            return
        await self._hear_the_stream()
        self._apply_broker_view(client_order_id, answer)
        self._save()

    # ---- what the broker says ---------------------------------------------------------

    async def _reconcile(self) -> bool:
        """Look up the live (or cancel-pending) broker order and record what the broker
        did. True when the broker answered; False when the lookup failed or is backing off."""
        order, now = self.order, self._now()
        if self._next_lookup_at is not None and now < self._next_lookup_at:
            return False
        client_order_id = order.cancel_pending_for or order.live_client_order_id
        assert client_order_id is not None
        try:
            found = await self._ctx.calls.lookup(client_order_id)
        except BrokerUnavailable as error:
            self._back_off_lookup(client_order_id, str(error))
            return False
        await self._hear_the_stream()
        if order.live_client_order_id is None and order.cancel_pending_for is None:
            self._lookup_settled()
            return True  # an update settled it meanwhile
        if found is None:
            return self._not_found(client_order_id)
        self._lookup_settled()
        self._apply_broker_view(client_order_id, found)
        if order.status is OrderStatus.PENDING_CANCEL and found.status in OPEN_AT_BROKER:
            if found.status is not BrokerOrderStatus.PENDING_CANCEL:
                self._save()
                await self._send_cancel("cancel resent: the broker order is still open")
                return True
            self._cancel_sent_at = self._now()
        self._save()
        return True

    def _not_found(self, client_order_id: str) -> bool:
        """The broker says it has no such order. Before the placement's send window has
        passed that proves nothing (the request may still arrive): ask again later."""
        order, now = self.order, self._now()
        placement = order.placements[client_order_id]
        window = timedelta(seconds=float(order.config.placement_send_window_seconds))
        if placement.broker_order_id is not None:
            # The broker accepted it and now has no such order (e.g. a DAY order gone with
            # its session): it cannot fill any more, so it is no longer working.
            self._lookup_settled()
            log.warning("broker_order_not_found", client_order_id=client_order_id, status=order.status.value)
            if order.status is OrderStatus.PENDING_CANCEL or order.status in LIVE_STATUSES:
                order.record_canceled("not at the broker any more (looked up)", occurred_at=now)
                self._cancel_settled()
                self._save()
            return True
        if now < placement.requested_at + window:
            self._back_off_lookup(client_order_id, "not found yet; within the send window")
            return False
        self._lookup_settled()
        order.record_placement_rejected(
            client_order_id,
            error_code="not_found",
            reason=f"not at the broker {order.config.placement_send_window_seconds}s after it was requested",
            occurred_at=now,
        )
        self._save()
        return True

    def _back_off_lookup(self, client_order_id: str, why: str) -> None:
        self.needs_lookup = True
        self._lookups_failed += 1
        delay = self._ctx.retrier.backoff(self._lookups_failed)
        self._next_lookup_at = self._now() + timedelta(seconds=float(delay))
        log.warning("broker_lookup_pending", client_order_id=client_order_id, reason=why, retry_in=str(delay))

    def _lookup_settled(self) -> None:
        self.needs_lookup = False
        self._lookups_failed = 0
        self._next_lookup_at = None

    def _apply_broker_view(self, client_order_id: str, view: BrokerOrder) -> None:
        if apply_broker_view(self.order, client_order_id, view, self._now()):
            self._cancel_settled()

    # ---- cancels ----------------------------------------------------------------------

    async def _cancel(self, reason: str) -> None:
        """Record the intent to cancel the live broker order, then send it."""
        self.order.request_cancel(reason, occurred_at=self._now())
        self._save()
        await self._send_cancel(reason)

    async def _send_cancel(self, reason: str) -> None:
        """Send the recorded cancel; record the answer, the refusal (and what a lookup then
        shows), or nothing when no answer came (the order stays PENDING_CANCEL)."""
        order = self.order
        client_order_id = order.cancel_pending_for
        assert client_order_id is not None
        broker_order_id = order.placements[client_order_id].broker_order_id
        assert broker_order_id is not None
        self._cancel_sent_at = self._now()
        try:
            answer = await self._ctx.calls.cancel(broker_order_id)
        except BrokerUnavailable as error:
            log.warning("cancel_unanswered", broker_order_id=broker_order_id, error=str(error))
            self.needs_lookup = True
            return
        await self._hear_the_stream()
        if order.cancel_pending_for != client_order_id:
            return  # an update settled it meanwhile
        if answer.order is not None:
            self._apply_broker_view(client_order_id, answer.order)
        else:
            await self._refused(client_order_id, reason, answer.refusal or "refused")
        self._save()

    async def _refused(self, client_order_id: str, reason: str, refusal: str) -> None:
        """The broker refused the cancel: look the order up and record what it shows."""
        order = self.order
        try:
            found = await self._ctx.calls.lookup(client_order_id)
        except BrokerUnavailable:
            found = None
        await self._hear_the_stream()
        if found is not None:
            self._apply_broker_view(client_order_id, found)
        if order.cancel_pending_for != client_order_id:
            return  # the lookup settled it (filled, or canceled after all)
        shown = f"; the broker order is {found.status.value}" if found is not None else ""
        for_repeg = order.pending_repeg is not None
        order.record_cancel_rejected(f"{refusal}{shown}", occurred_at=self._now())
        if for_repeg:
            return  # the re-peg is withdrawn; the next one is decided afresh when due
        if order.live_client_order_id == client_order_id and self._cancel_retry is None:
            timeout = timedelta(seconds=float(order.config.cancel_confirm_timeout_seconds))
            self._cancel_retry = _CancelRetry(reason, until=self._now() + timeout)

    async def _retry_cancel(self) -> bool:
        """Retry a refused cancel, with backoff, until cancel_confirm_timeout_seconds."""
        retry = self._cancel_retry
        assert retry is not None
        if self._now() >= retry.until:
            log.warning("cancel_retries_exhausted", reason=retry.reason)
            self._cancel_retry = None
            return True
        retry.attempts += 1
        await self._ctx.clock.sleep(self._ctx.retrier.backoff(retry.attempts))
        self.absorb_updates()
        if self.order.status in LIVE_STATUSES:
            await self._cancel(retry.reason)
        return False

    def _cancel_settled(self) -> None:
        self._cancel_sent_at = None
        self._cancel_retry = None

    # ---- updates pushed by the venue --------------------------------------------------

    async def _hear_the_stream(self) -> None:
        """Let the update stream hand over what the venue pushed before its answer, then
        record it: real executions first, so the cumulative comparison that follows
        infers only what the stream did not deliver."""
        await asyncio.sleep(0)
        self.absorb_updates()

    def absorb_updates(self) -> None:
        """Record what the venue pushed for this order: fills, and cancels it made itself."""
        order = self.order
        while self.inbox:
            update = self.inbox.popleft()
            try:
                if absorb_update(self.order, update, self._now()):
                    self._cancel_settled()
            except DomainError as error:
                log.warning("update_ignored", error=str(error), status=update.order.status.value)
        if order.pending_events:
            self._save()

    # ---- the end ----------------------------------------------------------------------

    async def _wrap_up(self) -> None:
        """The session is over: cancel what works (asking again within the configured
        waits), then close the order; what still works at the broker is reported."""
        order, config = self.order, self.order.config
        patience = config.cancel_confirm_timeout_seconds + config.placement_send_window_seconds
        give_up_at = self._now() + timedelta(seconds=float(patience))
        self._cancel_retry = None
        while order.live_client_order_id is not None and self._now() < give_up_at:
            self.absorb_updates()
            if order.status in LIVE_STATUSES and not self.needs_lookup:
                await self._cancel("session ended")
                if order.status in LIVE_STATUSES:  # refused: back off, then ask again
                    self._lookups_failed += 1
                    await self._ctx.clock.sleep(self._ctx.retrier.backoff(self._lookups_failed))
                continue
            if order.live_client_order_id is None:
                break
            self.needs_lookup = True  # PENDING_NEW / PENDING_CANCEL: ask the broker
            answered = await self._reconcile()
            if not answered or order.status not in LIVE_STATUSES:
                await self._ctx.clock.sleep(config.repeg_check_interval_seconds)
        self.absorb_updates()
        self._close_at_session_end()

    def _close_at_session_end(self) -> None:
        order = self.order
        if order.is_terminal:
            return
        if order.live_client_order_id is not None:
            order.fail(
                f"session ended with broker order {order.live_client_order_id} still "
                f"{order.status.value}; check it at the broker",
                occurred_at=self._now(),
            )
            log.error("broker_order_left_working", client_order_id=order.live_client_order_id)
        elif order.overfilled:
            order.fail(
                f"overfilled: the broker filled {order.filled_quantity} of {order.quantity}",
                occurred_at=self._now(),
            )
        elif order.status is OrderStatus.FILLED:
            order.complete("filled", occurred_at=self._now())
        else:
            order.expire("session ended before the order completed", occurred_at=self._now())
        self._save()

    # ---- helpers --------------------------------------------------------------------

    async def _quote(self) -> QuoteChoice | None:
        """A usable quote, recorded; None when there is none (the quotes refused on the
        way are kept in ``_refused_quotes`` for the no-quote decision)."""
        order = self.order
        self._refused_quotes = []
        choice = await self._ctx.quotes.choose(order.symbol, order.config, self._refused_quotes)
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

    def _requested_at(self) -> datetime | None:
        live = self.order.live_placement
        return live.requested_at if live is not None else None

    def _finish_complete(self, reason: str) -> None:
        self.order.complete(reason, occurred_at=self._now())
        self._save()

    def _session_over(self) -> bool:
        end = self._ctx.session_end
        return end is not None and self._now() >= end

    def _now(self) -> datetime:
        return self._ctx.clock.now()

    def _save(self) -> None:
        if self.order.pending_events:
            self._ctx.ledger.save_order(self.order)
