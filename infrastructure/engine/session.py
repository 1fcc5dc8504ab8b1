"""ExecutionSession: submit a batch, work every open order to a terminal state."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import structlog
from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import DomainError
from execledger.domain.order import SmartOrder
from execledger.domain.requests import OrderRequest
from execledger.infrastructure.engine.broker_calls import BrokerCalls
from execledger.infrastructure.engine.commit_group import CommitGroup, WriteAheadBroker
from execledger.infrastructure.engine.quoting import QuoteFetcher
from execledger.infrastructure.engine.retry import Retrier
from execledger.infrastructure.engine.worker import OrderWorker
from execledger.infrastructure.engine.worker_state import WorkerContext
from execledger.infrastructure.errors import InfrastructureError
from execledger.infrastructure.leases import OrderLeases
from execledger.infrastructure.ledger import Ledger
from execledger.infrastructure.ports import OrderUpdate, Venue

log = structlog.get_logger(__name__)
ProgressCallback = Callable[[SmartOrder], None]
#: How long past the session's end workers may still run to cancel and record.
_OVERRUN = timedelta(hours=1)
#: Orders worked at once by default: enough to keep a venue busy, few enough that one
#: event-loop round (and its one commit) stays short.
DEFAULT_MAX_ACTIVE_ORDERS = 500
#: Orders claimed (leased) per transaction, as lanes need them.
_CLAIM_BATCH = 100


@dataclass
class SessionResult:
    """What a session did: every order of the batch, which were new, which were skipped.

    ``skipped`` maps the orders another process held the lease of, when this process
    reached them, to that owner: those are the other process's to work and report.
    """

    orders: list[SmartOrder] = field(default_factory=list)
    created: int = 0
    already_finished: int = 0
    skipped: dict[UUID, str] = field(default_factory=dict)
    worked: set[UUID] = field(default_factory=set)

    @property
    def all_terminal(self) -> bool:
        """Whether every order this session was to work (not skipped) is terminal."""
        return all(order.is_terminal for order in self.orders if order.id not in self.skipped)


class ExecutionSession:
    """Works a batch of orders at one venue.

    At most ``max_active_orders`` orders are worked at once, each by its own asyncio
    task (a *lane* takes the next order when its order is done), and the saves of all
    of them in one event-loop round are committed together (``CommitGroup``): the
    writer is shared, so ten thousand concurrent orders would only queue on it. With
    ``leases`` the session claims orders ``claim_batch`` at a time before working them
    and skips those another process holds.
    """

    def __init__(
        self,
        ledger: Ledger,
        venue: Venue,
        config: ExecutionConfig,
        *,
        seed: int = 0,
        max_active_orders: int = DEFAULT_MAX_ACTIVE_ORDERS,
        leases: OrderLeases | None = None,
    ) -> None:
        if max_active_orders < 1:
            raise ValueError("max_active_orders must be at least 1")
        self._ledger = ledger
        self._venue = venue
        self._config = config
        self._max_active = max_active_orders
        self._leases = leases
        self.commits = CommitGroup(ledger)
        retrier = Retrier(config, venue.clock, seed=seed)
        broker = WriteAheadBroker(venue.broker, self.commits, leases.check if leases else _no_guard)
        self._context = WorkerContext(
            ledger=self.commits,
            calls=BrokerCalls(broker, retrier),
            quotes=QuoteFetcher(venue.market_data, venue.rest_market_data, venue.clock, retrier),
            assets=venue.assets,
            retrier=retrier,
            clock=venue.clock,
            session_end=venue.session_end,
        )
        self._workers: dict[UUID, OrderWorker] = {}
        #: Updates for orders of the batch whose lane has not started yet (a resumed order's).
        self._early: dict[UUID, list[OrderUpdate]] = {}

    def submit(self, requests: Sequence[OrderRequest]) -> SessionResult:
        """Record every request (idempotently); the same request twice is one order."""
        result = SessionResult()
        for order, created in self._ledger.submit_many(requests, self._config, self._venue.clock.now()):
            result.orders.append(order)
            result.created += int(created)
            result.already_finished += int(order.is_terminal)
        return result

    async def run(
        self, requests: Sequence[OrderRequest], on_finished: ProgressCallback | None = None
    ) -> SessionResult:
        """Submit the batch and work every open order (this process owns) until terminal."""
        result = self.submit(requests)
        clock = self._venue.clock
        backlog = _Backlog([order for order in result.orders if not order.is_terminal])
        worked: dict[UUID, SmartOrder] = {}
        self._workers = {}
        self._early = {order.id: [] for order in backlog.waiting}
        dispatcher = self._spawn(self._dispatch(), "dispatcher")
        lanes = [
            self._spawn(self._lane(backlog, result, worked, on_finished), f"lane-{number}")
            for number in range(min(self._max_active, len(backlog.waiting)))
        ]
        until = self._venue.session_end
        try:
            await clock.run(lanes, until=None if until is None else until + _OVERRUN)
        finally:
            dispatcher.cancel()
            for lane in lanes:
                lane.cancel()
            outcomes = await asyncio.gather(dispatcher, *lanes, return_exceptions=True)
        _raise_unexpected(outcomes)
        for error in self.commits.failures():
            log.error("order_save_failed", error=str(error), error_type=type(error).__name__)
        result.orders = [worked.get(order.id, order) for order in result.orders]
        return result

    async def _lane(
        self,
        backlog: _Backlog,
        result: SessionResult,
        worked: dict[UUID, SmartOrder],
        on_finished: ProgressCallback | None,
    ) -> None:
        """Work the backlog's orders one after the other."""
        while (order := self._next_owned(backlog, result, worked)) is not None:
            worker = OrderWorker(order, self._context)
            worker.inbox.extend(self._early.pop(order.id, ()))
            self._workers[order.id] = worker
            result.worked.add(order.id)
            worked[order.id] = order
            await self._work(worker, on_finished)
            worked[order.id] = worker.order
            del self._workers[order.id]
            backlog.done.append(order.id)

    def _next_owned(
        self, backlog: _Backlog, result: SessionResult, worked: dict[UUID, SmartOrder]
    ) -> SmartOrder | None:
        """The next order to work: claimed (with leases), and reloaded under its lease, as
        another process may have worked it since this session loaded it."""
        while True:
            if not backlog.claimed and not self._claim(backlog, result):
                return None
            order = backlog.claimed.popleft()
            if self._leases is None:
                return order
            current = self._ledger.order(order.id)
            if not current.is_terminal:
                return current
            result.already_finished += 1
            worked[current.id] = current
            backlog.done.append(current.id)

    def _claim(self, backlog: _Backlog, result: SessionResult) -> bool:
        """Move the next batch of the backlog to ``claimed``; False when none is left."""
        while backlog.waiting:
            batch = [backlog.waiting.popleft() for _ in range(min(_CLAIM_BATCH, len(backlog.waiting)))]
            if self._leases is None:
                backlog.claimed.extend(batch)
                return True
            self._leases.release(backlog.done)
            backlog.done.clear()
            claim = self._leases.claim([order.id for order in batch])
            for order_id, owner in claim.held_by_others.items():
                result.skipped[order_id] = owner
                log.info("order_skipped", order_id=str(order_id), owner=owner)
            backlog.claimed.extend(order for order in batch if order.id in claim.owned)
            if backlog.claimed:
                return True
        return False

    async def _work(self, worker: OrderWorker, on_finished: ProgressCallback | None) -> None:
        """Run one worker; a known failure stops that order (as recorded), not the batch."""
        try:
            order = await worker.run()
            await self.commits.durable()
        except (InfrastructureError, DomainError) as error:
            log.error(
                "order_worker_stopped",
                order_id=str(worker.order.id),
                correlation_id=worker.order.correlation_id,
                error=str(error),
                error_type=type(error).__name__,
            )
            order = worker.order
        if on_finished is not None:
            on_finished(order)

    async def _dispatch(self) -> None:
        """Route every venue update to the worker of the order it belongs to (or keep it
        for an order whose lane has not started). When the stream drops, subscribe again;
        updates missed meanwhile may never be replayed, so every worker looks its broker
        order up (engine.worker reconciles)."""
        subscriptions = 0
        while True:
            subscriptions += 1
            if subscriptions > 1:
                log.warning("order_updates_reconnected", subscription=subscriptions)
                for worker in self._workers.values():
                    worker.broker_view_lost()
            async for update in self._venue.broker.order_updates():
                order_id = _order_id_of(update)
                if order_id is None:
                    continue
                target = self._workers.get(order_id)
                if target is not None:
                    target.inbox.append(update)
                elif order_id in self._early:
                    self._early[order_id].append(update)
            await self._venue.clock.sleep(self._config.retry_initial_backoff_seconds)

    def _spawn(self, coroutine: Any, name: str) -> asyncio.Task[Any]:
        return self._venue.clock.spawn(coroutine, name=name)


class _Backlog:
    """Orders not yet started, ``waiting`` (unclaimed) and ``claimed`` (ours, in order),
    and those ``done`` since the last claim (their leases go back with the next one)."""

    def __init__(self, orders: list[SmartOrder]) -> None:
        self.waiting: deque[SmartOrder] = deque(orders)
        self.claimed: deque[SmartOrder] = deque()
        self.done: list[UUID] = []


def _no_guard() -> None:
    """No leases: nothing to check before a broker command."""


def _raise_unexpected(outcomes: list[Any]) -> None:
    """A worker that died of anything but cancellation is a bug: surface it."""
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
            raise outcome


def _order_id_of(update: OrderUpdate) -> UUID | None:
    """Client order ids are ``<order id>-<placement number>``: the order id is the prefix."""
    prefix = update.order.client_order_id.rsplit("-", 1)[0]
    try:
        return UUID(prefix)
    except ValueError:
        return None
