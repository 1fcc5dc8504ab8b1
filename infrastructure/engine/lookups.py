"""When to ask the broker, and what its answer to a lookup means.

A placement or cancel whose answer did not come within its configured wait, a dropped
update stream, or a restart make the broker order's state unknown: the worker looks it
up, backing off while lookups fail, and never takes a failed lookup for "not found".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import structlog
from execledger.domain.status import LIVE_STATUSES, OrderStatus
from execledger.infrastructure.engine.broker_calls import BrokerUnavailable
from execledger.infrastructure.engine.cancels import CancelSteps
from execledger.infrastructure.ports import BrokerOrderStatus

log = structlog.get_logger(__name__)

OPEN_AT_BROKER = frozenset(
    {BrokerOrderStatus.NEW, BrokerOrderStatus.PARTIALLY_FILLED, BrokerOrderStatus.PENDING_CANCEL}
)


class LookupSteps(CancelSteps):
    """The worker's lookup steps."""

    def broker_view_lost(self) -> None:
        """The update stream dropped: what the broker did meanwhile must be looked up."""
        if self.order.live_client_order_id is not None:
            self.needs_lookup = True

    def _await_answer(self, patience: Decimal, *, since: datetime | None) -> None:
        """An answer is on its way; past ``patience`` without one, look the order up."""
        if since is None or self._now() >= since + timedelta(seconds=float(patience)):
            self.needs_lookup = True

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
