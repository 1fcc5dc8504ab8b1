"""Cancels: record the intent, send it, record the answer; a refused cancel is looked
up and, when the order still works, retried with backoff until the configured wait.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from execledger.domain.status import LIVE_STATUSES
from execledger.infrastructure.engine.broker_calls import BrokerUnavailable
from execledger.infrastructure.engine.worker_state import CancelRetry, WorkerState

log = structlog.get_logger(__name__)


class CancelSteps(WorkerState):
    """The worker's cancel steps."""

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
            self._cancel_retry = CancelRetry(reason, until=self._now() + timeout)

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
