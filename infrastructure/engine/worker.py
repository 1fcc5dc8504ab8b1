"""OrderWorker: the task that works one smart order from request to a terminal state.

The worker is the one component that records and saves its order: it records each
intent before the broker call (write-ahead) and the broker's answer after it. Every
answer that carries a broker order's cumulative filled quantity (a placement's answer, a
cancel's, a lookup's, a pushed update) is compared with the ledger's, so fills the
update stream never delivered are recorded (inferred). When the broker's answer is
missing (a failed call, a dropped stream, a restart), the worker does not guess: it
keeps the order as recorded and looks the broker order up again, with backoff.

The steps are layered, one idea a module: engine.worker_state (what the worker knows
beyond the ledger; recording and saving), engine.cancels, engine.lookups (when to ask
the broker), engine.placing, and here the loop, preflight, re-pegs and the session's end.
They stay one object because they share one order's state and call one another.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from execledger.domain.errors import InvalidQuote
from execledger.domain.order import SmartOrder
from execledger.domain.preflight import preflight
from execledger.domain.repeg import decide_repeg, repeg_due
from execledger.domain.status import LIVE_STATUSES, OrderStatus
from execledger.domain.types import Urgency
from execledger.infrastructure.engine.placing import PlacementSteps
from execledger.infrastructure.logging import correlation

log = structlog.get_logger(__name__)


class OrderWorker(PlacementSteps):
    """Works one order: preflight, price, place, absorb fills, re-peg, escalate, finish."""

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

    def _requested_at(self) -> datetime | None:
        live = self.order.live_placement
        return live.requested_at if live is not None else None

    def _session_over(self) -> bool:
        end = self._ctx.session_end
        return end is not None and self._now() >= end
