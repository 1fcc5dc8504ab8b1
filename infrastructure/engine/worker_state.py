"""The state one order's worker keeps beside the ledger, and how it records and saves.

WorkerState is the base the worker's steps build on (engine.cancels, engine.lookups,
engine.placing, engine.worker): what the broker conversation left unknown (a lookup is
due, a cancel is on its way or being retried), and the primitives every step uses:
record what the venue pushed, record a broker answer, save the order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from execledger.domain.errors import DomainError
from execledger.domain.order import SmartOrder
from execledger.infrastructure.engine.broker_calls import BrokerCalls
from execledger.infrastructure.engine.broker_view import absorb_update, apply_broker_view
from execledger.infrastructure.engine.commit_group import OrderWriter
from execledger.infrastructure.engine.quoting import QuoteFetcher
from execledger.infrastructure.engine.retry import Retrier
from execledger.infrastructure.ports import (
    AssetDirectory,
    BrokerOrder,
    Clock,
    OrderUpdate,
)

log = structlog.get_logger(__name__)


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
class CancelRetry:
    """A refused cancel being retried until ``until`` (cancel_confirm_timeout_seconds)."""

    reason: str
    until: datetime
    attempts: int = 0


class WorkerState:
    """One order, the session's shared context, and what the worker knows beyond the ledger."""

    def __init__(self, order: SmartOrder, context: WorkerContext) -> None:
        self.order = order
        self.inbox: deque[OrderUpdate] = deque()
        self._ctx = context
        self.needs_lookup = False  # the broker's view of the live order is unknown
        self._lookups_failed = 0
        self._next_lookup_at: datetime | None = None
        self._cancel_sent_at: datetime | None = None
        self._cancel_retry: CancelRetry | None = None
        #: The quotes the last search refused (domain.refused_quotes).
        self._refused_quotes: list[dict[str, Any]] = []

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

    async def _hear_the_stream(self) -> None:
        """Let the update stream hand over what the venue pushed before its answer, then
        record it: real executions first, so the cumulative comparison that follows
        infers only what the stream did not deliver."""
        await asyncio.sleep(0)
        self.absorb_updates()

    def _apply_broker_view(self, client_order_id: str, view: BrokerOrder) -> None:
        if apply_broker_view(self.order, client_order_id, view, self._now()):
            self._cancel_settled()

    def _cancel_settled(self) -> None:
        self._cancel_sent_at = None
        self._cancel_retry = None

    def _lookup_settled(self) -> None:
        self.needs_lookup = False
        self._lookups_failed = 0
        self._next_lookup_at = None

    def _back_off_lookup(self, client_order_id: str, why: str) -> None:
        self.needs_lookup = True
        self._lookups_failed += 1
        delay = self._ctx.retrier.backoff(self._lookups_failed)
        self._next_lookup_at = self._now() + timedelta(seconds=float(delay))
        log.warning("broker_lookup_pending", client_order_id=client_order_id, reason=why, retry_in=str(delay))

    def _now(self) -> datetime:
        return self._ctx.clock.now()

    def _save(self) -> None:
        if self.order.pending_events:
            self._ctx.ledger.save_order(self.order)
