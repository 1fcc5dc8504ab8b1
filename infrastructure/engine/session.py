"""ExecutionSession: submit a batch, work every open order to a terminal state."""

from __future__ import annotations

import asyncio
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
from execledger.infrastructure.engine.quoting import QuoteSource
from execledger.infrastructure.engine.retry import Retrier
from execledger.infrastructure.engine.worker import OrderWorker, WorkerContext
from execledger.infrastructure.errors import InfrastructureError
from execledger.infrastructure.ledger import Ledger
from execledger.infrastructure.ports import OrderUpdate, Venue
from execledger.infrastructure.venue.clock import VirtualClock

log = structlog.get_logger(__name__)
ProgressCallback = Callable[[SmartOrder], None]
#: How long past the session's end workers may still run to cancel and record.
_OVERRUN = timedelta(hours=1)


@dataclass
class SessionResult:
    """What a session did: every order of the batch, and which were new."""

    orders: list[SmartOrder] = field(default_factory=list)
    created: int = 0
    already_finished: int = 0

    @property
    def all_terminal(self) -> bool:
        return all(order.is_terminal for order in self.orders)


class ExecutionSession:
    """Works a batch of orders at one venue; one asyncio task per open order."""

    def __init__(self, ledger: Ledger, venue: Venue, config: ExecutionConfig, *, seed: int = 0) -> None:
        self._ledger = ledger
        self._venue = venue
        self._config = config
        retrier = Retrier(config, venue.clock, seed=seed)
        self._context = WorkerContext(
            ledger=ledger,
            calls=BrokerCalls(ledger, venue.broker, venue.clock, retrier),
            quotes=QuoteSource(venue.market_data, venue.rest_market_data, venue.clock, retrier),
            assets=venue.assets,
            retrier=retrier,
            clock=venue.clock,
            session_end=venue.session_end,
        )
        self._workers: dict[UUID, OrderWorker] = {}

    def submit(self, requests: Sequence[OrderRequest]) -> SessionResult:
        """Record every request (idempotently); the same request twice is one order."""
        result = SessionResult()
        for request in requests:
            order, created = self._ledger.submit(request, self._config, self._venue.clock.now())
            result.orders.append(order)
            result.created += int(created)
            result.already_finished += int(order.is_terminal)
        return result

    async def run(
        self, requests: Sequence[OrderRequest], on_finished: ProgressCallback | None = None
    ) -> SessionResult:
        """Submit the batch and work every open order until each is terminal."""
        result = self.submit(requests)
        clock = self._venue.clock
        open_orders = [order for order in result.orders if not order.is_terminal]
        workers = {order.id: OrderWorker(order, self._context) for order in open_orders}
        self._workers = workers
        dispatcher = self._spawn(self._dispatch(), "dispatcher")
        tasks = [
            self._spawn(self._work(worker, on_finished), f"order-{order_id}")
            for order_id, worker in workers.items()
        ]
        try:
            if isinstance(clock, VirtualClock):
                until = self._venue.session_end
                await clock.run(tasks, until=None if until is None else until + _OVERRUN)
            else:
                await asyncio.gather(*tasks)
        finally:
            dispatcher.cancel()
            for task in tasks:
                task.cancel()
            outcomes = await asyncio.gather(dispatcher, *tasks, return_exceptions=True)
        _raise_unexpected(outcomes)
        result.orders = [workers[o.id].order if o.id in workers else o for o in result.orders]
        return result

    async def _work(self, worker: OrderWorker, on_finished: ProgressCallback | None) -> None:
        """Run one worker; a known failure stops that order (as recorded), not the batch."""
        try:
            order = await worker.run()
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
        """Route every venue update to the worker of the order it belongs to."""
        async for update in self._venue.broker.order_updates():
            order_id = _order_id_of(update)
            worker = self._workers.get(order_id) if order_id is not None else None
            if worker is not None:
                worker.inbox.append(update)

    def _spawn(self, coroutine: Any, name: str) -> asyncio.Task[Any]:
        clock = self._venue.clock
        if isinstance(clock, VirtualClock):
            return clock.spawn(coroutine, name=name)
        return asyncio.get_running_loop().create_task(coroutine, name=name)


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
