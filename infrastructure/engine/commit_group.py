"""Group commit: the saves of one event-loop round, committed in one transaction.

A worker saves after every decision, and an intent must be durable before the broker
hears of it. Committing each save alone costs one fsync (SQLite) or one table lock and
round trip (PostgreSQL) per event: a rebalance of 10,000 orders spent its time waiting
on them. ``CommitGroup`` stages each order's new events and commits every order staged
in the same round of the event loop in one transaction; ``durable()`` waits for that
commit. ``WriteAheadBroker`` puts ``durable()`` in front of every broker command, so
"saved before sent" holds as before: nothing reaches the broker until every event
recorded before it is committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol, Unpack
from uuid import UUID

from eventsourcing.persistence import RecordConflictError
from execledger.domain.order import SmartOrder
from execledger.infrastructure.errors import ConcurrentUpdate
from execledger.infrastructure.ledger import Ledger
from execledger.infrastructure.ports import Broker, BrokerOrder, OrderUpdate, PlacementFields


class OrderWriter(Protocol):
    """Where a worker saves its order (the ledger itself, or a ``CommitGroup``)."""

    def save_order(self, order: SmartOrder) -> int | None: ...


class CommitGroup:
    """Stages orders' new events; one transaction per event-loop round commits them all.

    Outside a running event loop ``save_order`` commits at once, like the ledger. A
    failed commit is retried order by order, so that one order's conflict does not
    cost the others their events; the failure is raised in the task that staged the
    order, at its next ``save_order`` or ``durable()``.
    """

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._staged: dict[UUID, tuple[SmartOrder, asyncio.Task[Any] | None]] = {}
        self._round: asyncio.Future[None] | None = None
        self._failures: dict[asyncio.Task[Any] | None, BaseException] = {}
        self.transactions = 0

    def save_order(self, order: SmartOrder) -> int | None:
        """Stage the order's pending events for this round's commit (None: not yet known)."""
        self._raise_failure()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.transactions += 1
            return self._ledger.save_order(order)
        self._staged[order.id] = (order, asyncio.current_task())
        if self._round is None:
            self._round = loop.create_future()
            loop.call_soon(self._commit_round)
        return None

    async def durable(self) -> None:
        """Wait until everything staged so far is committed; raise this task's failure."""
        if self._round is not None:
            await asyncio.shield(self._round)
        self._raise_failure()

    def _commit_round(self) -> None:
        round_, self._round = self._round, None
        staged, self._staged = list(self._staged.values()), {}
        batches = [(task, order.collect_events()) for order, task in staged]
        try:
            self._save([event for _, events in batches for event in events])
        except Exception:
            for task, events in batches:
                try:
                    self._save(events)
                except RecordConflictError as conflict:
                    self._failures[task] = ConcurrentUpdate(
                        f"order {events[0].originator_id} was changed by another writer"
                    ).with_traceback(conflict.__traceback__)
                except Exception as error:
                    self._failures[task] = error
        assert round_ is not None
        round_.set_result(None)

    def _save(self, events: Sequence[Any]) -> None:
        if events:
            self._ledger.save(*events)
            self.transactions += 1

    def _raise_failure(self) -> None:
        if not self._failures:
            return
        error = self._failures.pop(_current_task(), None)
        if error is not None:
            raise error

    def failures(self) -> list[BaseException]:
        """Failures no task has picked up yet (the session reports them at its end)."""
        left = list(self._failures.values())
        self._failures.clear()
        return left


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


class WriteAheadBroker:
    """A ``Broker`` whose every command waits until the staged events are durable.

    ``guard`` (e.g. the lease check) runs before each command too; it raises to refuse.
    """

    def __init__(self, broker: Broker, commits: CommitGroup, guard: Callable[[], None]) -> None:
        self._broker = broker
        self._commits = commits
        self._guard = guard

    async def _ready(self) -> None:
        await self._commits.durable()
        self._guard()

    async def place_limit(self, *, limit_price: Decimal, **order: Unpack[PlacementFields]) -> BrokerOrder:
        await self._ready()
        return await self._broker.place_limit(limit_price=limit_price, **order)

    async def place_market(self, **order: Unpack[PlacementFields]) -> BrokerOrder:
        await self._ready()
        return await self._broker.place_market(**order)

    async def cancel(self, broker_order_id: str) -> BrokerOrder:
        await self._ready()
        return await self._broker.cancel(broker_order_id)

    async def get_by_client_order_id(self, client_order_id: str) -> BrokerOrder | None:
        await self._ready()
        return await self._broker.get_by_client_order_id(client_order_id)

    def order_updates(self) -> AsyncIterator[OrderUpdate]:
        return self._broker.order_updates()
