"""Clocks: ``WallClock`` (real time) and ``VirtualClock``, a discrete-event scheduler for asyncio.

The contract the engine follows so that a session runs on virtual time, fast and
deterministically (``WallClock`` offers the same methods, so the engine code is one):

1. Every task whose progress matters is a *participant*: start it with
   ``clock.spawn(coro)``. It is registered before it first runs and unregistered when
   it ends. (``clock.register(task)`` does the same for a task made elsewhere.)
2. A participant waits only *through the clock*: ``await clock.sleep(seconds)``,
   ``await queue.get()`` on a ``ClockQueue`` (module ``clock_queue``), the venue's
   ``order_updates()`` and ``quote_stream()`` iterators, or ``await clock.wait(aw)``
   for anything else (an ``asyncio.Queue.get()``, an ``Event.wait()``, a task,
   ``asyncio.gather(...)``). While it waits like that it counts as *blocked*; awaiting
   a task directly counts as busy. Work that itself uses the clock goes in its own
   participant: ``await clock.wait(clock.spawn(coro))`` (a bare coroutine given to
   ``wait`` runs in an unregistered task, whose clock waits are not seen).
   Never ``asyncio.sleep(x > 0)`` or another real-time wait in a participant: time
   would stand still while it waits. Awaits that complete without time passing (the
   simulated venue's calls, SQLite writes) are fine anywhere. Prefer
   ``asyncio.timeout()`` to ``asyncio.wait_for()``: the latter runs the call in a new,
   unregistered task.
3. One driver moves time: ``clock.run(tasks)`` (the engine's ExecutionSession). It
   *settles* (yields to the event loop until every participant is blocked and nothing
   changed for ``settle_rounds`` loop rounds), then jumps to the earliest scheduled
   moment. At a moment, timers (the venue's tape events) run first, in the order they
   were scheduled, and the loop settles; then the sleepers due at that moment wake, in
   the order they went to sleep, and the loop settles again.
4. A wait that can never end (every participant blocked, nothing scheduled) or
   participants that stay busy for ``stall_seconds`` of wall time with no progress
   (none parked, woke, started or ended meanwhile) raise
   ``ClockStalledError`` naming the tasks, instead of hanging.

Same inputs and same code give the same order of wake-ups, hence the same events.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any, TypeVar

from execledger.infrastructure.errors import ClockStalledError

T = TypeVar("T")

_TIMER = 0
_SLEEPER = 1
_BUSY_SPIN_ROUNDS = 1000


@functools.lru_cache(maxsize=256)
def seconds_to_timedelta(seconds: Decimal) -> timedelta:
    """``seconds`` as a timedelta, rounded up to the microsecond."""
    return timedelta(microseconds=int((seconds * 1_000_000).to_integral_value(ROUND_CEILING)))


class WallClock:
    """Real time in UTC; ``sleep`` is ``asyncio.sleep``."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)

    async def sleep(self, seconds: Decimal) -> None:
        """Sleep for real (asyncio takes a float, so the Decimal is converted here)."""
        await asyncio.sleep(float(max(seconds, Decimal(0))))

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str | None = None) -> asyncio.Task[T]:
        """Start ``coro`` as a task."""
        return asyncio.get_running_loop().create_task(coro, name=name)

    def register(self, task: asyncio.Task[Any]) -> None:
        """Nothing to do on real time."""

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable``."""
        return await awaitable

    async def run(self, tasks: Iterable[asyncio.Task[Any]], *, until: datetime | None = None) -> None:
        """Wait until every task is done; ``ClockStalledError`` if some still run at ``until``."""
        pending = {task for task in tasks if not task.done()}
        if not pending:
            return
        timeout = None if until is None else max(0.0, (until - self.now()).total_seconds())
        _, pending = await asyncio.wait(pending, timeout=timeout)
        if pending:
            assert until is not None
            names = ", ".join(sorted(task.get_name() for task in pending))
            raise ClockStalledError(f"still running at {until.isoformat()}: {names}")


@dataclass(eq=False)
class Waiter:
    """A parked wait on the virtual clock (see ``VirtualClock.park``)."""

    future: asyncio.Future[Any]
    task: asyncio.Task[Any] | None  # the participant counted as blocked, if any


class VirtualClock:
    """Virtual UTC time that moves only when every participant is blocked on it."""

    def __init__(self, start: datetime, *, settle_rounds: int = 3, stall_seconds: float = 30.0) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be timezone-aware")
        if settle_rounds < 1:
            raise ValueError("settle_rounds must be at least 1")
        self._now = start.astimezone(UTC)
        self._settle_rounds = settle_rounds
        self._stall_seconds = stall_seconds
        self._heap: list[tuple[datetime, int, int, Any]] = []
        self._seq = itertools.count()
        self._participants: set[asyncio.Task[Any]] = set()
        self._held: set[asyncio.Task[Any]] = set()
        self._epoch = 0

    def now(self) -> datetime:
        """The current virtual time."""
        return self._now

    async def sleep(self, seconds: Decimal) -> None:
        """Wake up ``seconds`` of virtual time from now; zero or less just yields once."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        waiter = self.park()
        entry = (self._now + seconds_to_timedelta(seconds), _SLEEPER, next(self._seq), waiter)
        heapq.heappush(self._heap, entry)
        await self.hold(waiter)

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str | None = None) -> asyncio.Task[T]:
        """Start ``coro`` as a participant task (registered before it first runs)."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.register(task)
        return task

    def register(self, task: asyncio.Task[Any]) -> None:
        """Make ``task`` a participant until it ends."""
        if task.done() or task in self._participants:
            return
        self._participants.add(task)
        self._epoch += 1
        task.add_done_callback(self._unregister)

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """Await anything, counting as blocked until it completes. A coroutine runs in an
        unregistered task: to wait for clock-using work, ``spawn`` it and wait on the task."""
        future = asyncio.ensure_future(awaitable)
        if future.done():
            return future.result()
        waiter = self.park()
        future.add_done_callback(lambda _: self.release(waiter))
        try:
            return await future
        finally:
            self.release(waiter)

    def call_at(self, when: datetime, callback: Callable[[], None]) -> None:
        """Run ``callback`` when virtual time reaches ``when`` (before that moment's sleepers)."""
        entry = (max(when, self._now), _TIMER, next(self._seq), callback)
        heapq.heappush(self._heap, entry)

    @property
    def next_moment(self) -> datetime | None:
        """The earliest scheduled wake-up or timer, if any."""
        self._prune()
        return self._heap[0][0] if self._heap else None

    @property
    def is_quiescent(self) -> bool:
        """Whether every participant is blocked on the clock right now."""
        return len(self._held) == len(self._participants)

    # -- the driver -----------------------------------------------------------------

    async def settle(self) -> None:
        """Yield until every participant is blocked and nothing changed for a few rounds.

        The stall limit counts wall time *without progress* (no participant parked,
        woke, started or ended), not the moment's total: a thousand orders each
        committing for a few milliseconds at one moment are progress, one participant
        spinning on real time is a stall.
        """
        quiet, busy = 0, 0
        epoch = self._epoch
        progressed = time.monotonic()
        while quiet < self._settle_rounds:
            await asyncio.sleep(0 if busy < _BUSY_SPIN_ROUNDS else 0.001)
            if self.is_quiescent and self._epoch == epoch:
                quiet += 1
                continue
            if self._epoch != epoch:
                progressed, busy = time.monotonic(), 0
            quiet, busy, epoch = 0, busy + 1, self._epoch
            if time.monotonic() - progressed > self._stall_seconds:
                raise ClockStalledError(
                    f"participants busy for {self._stall_seconds}s without progress: {self._busy()}"
                )

    async def advance(self) -> bool:
        """Run the next scheduled moment and settle; False when nothing is scheduled."""
        self._prune()
        if not self._heap:
            return False
        when, kind, _, _ = self._heap[0]
        self._now = max(self._now, when)
        while self._heap and self._heap[0][0] == when and self._heap[0][1] == kind:
            _, _, _, item = heapq.heappop(self._heap)
            if kind == _TIMER:
                item()
            else:
                self.wake(item, None)
        await self.settle()
        return True

    async def run_until(self, deadline: datetime) -> None:
        """Run every moment up to and including ``deadline``, then stand at ``deadline``."""
        await self.settle()
        while (moment := self.next_moment) is not None and moment <= deadline:
            await self.advance()
        self._now = max(self._now, deadline)

    async def run(self, tasks: Iterable[asyncio.Task[Any]], *, until: datetime | None = None) -> None:
        """Drive virtual time until every task in ``tasks`` is done.

        Raises ``ClockStalledError`` when they can never finish (nothing scheduled) or are
        still running when the next moment would pass ``until``. Task results and
        exceptions are left for the caller to await.
        """
        pending = list(tasks)
        await self.settle()
        while True:
            if pending and pending[0].done():
                pending = [task for task in pending if not task.done()]
            if not pending:
                return
            moment = self.next_moment
            if moment is None:
                names = self._names(pending)
                raise ClockStalledError(f"all waiting and nothing scheduled: {names}")
            if until is not None and moment > until:
                raise ClockStalledError(f"still running at {until.isoformat()}: {self._names(pending)}")
            await self.advance()

    # -- blocking primitives (used by ClockQueue and the venue) -------------------------

    def park(self) -> Waiter:
        """A future for the current task to wait on; a participant counts as blocked."""
        task = asyncio.current_task()
        counted = task is not None and task in self._participants and task not in self._held
        if counted:
            assert task is not None
            self._held.add(task)
            self._epoch += 1
        return Waiter(asyncio.get_running_loop().create_future(), task if counted else None)

    async def hold(self, waiter: Waiter) -> Any:
        """Wait on a parked waiter; whatever happens, it stops counting as blocked."""
        try:
            return await waiter.future
        finally:
            self.release(waiter)

    def wake(self, waiter: Waiter, value: Any) -> None:
        """Resolve a parked waiter; its task counts as busy from this instant."""
        if not waiter.future.done():
            waiter.future.set_result(value)
        self.release(waiter)

    def release(self, waiter: Waiter) -> None:
        """Stop counting a parked waiter's task as blocked (idempotent)."""
        if waiter.task is not None:
            self._held.discard(waiter.task)
            waiter.task = None
            self._epoch += 1

    def _unregister(self, task: asyncio.Task[Any]) -> None:
        self._participants.discard(task)
        self._held.discard(task)
        self._epoch += 1

    def _prune(self) -> None:
        while self._heap and self._heap[0][1] == _SLEEPER and self._heap[0][3].future.done():
            heapq.heappop(self._heap)

    def _busy(self) -> str:
        return self._names(task for task in self._participants if task not in self._held)

    @staticmethod
    def _names(tasks: Iterable[asyncio.Task[Any]]) -> str:
        return ", ".join(sorted(task.get_name() for task in tasks)) or "(none)"
