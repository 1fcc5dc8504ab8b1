"""ClockQueue: a FIFO whose waits count as blocked on a ``VirtualClock``."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import Generic, TypeVar

from execledger.infrastructure.errors import QueueClosedError
from execledger.infrastructure.venue.clock import VirtualClock, Waiter

T = TypeVar("T")


_CLOSED = object()


class ClockQueue(Generic[T]):
    """An unbounded FIFO whose ``get`` counts a participant as blocked on ``clock``.

    ``put_nowait`` hands an item straight to the oldest waiting getter, which counts as
    busy from that instant, so the driver never advances past an undelivered item.
    ``close`` ends it: getters get ``QueueClosedError`` once it is empty, and ``async for``
    stops.
    """

    def __init__(self, clock: VirtualClock, items: Iterable[T] = ()) -> None:
        self._clock = clock
        self._items: deque[T] = deque(items)
        self._getters: deque[Waiter] = deque()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        return self._closed

    def put_nowait(self, item: T) -> None:
        """Deliver ``item`` to a waiting getter, or keep it for the next ``get``."""
        if self._closed:
            raise QueueClosedError("put on a closed queue")
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.future.done():
                self._clock.wake(waiter, item)
                return
        self._items.append(item)

    def close(self) -> None:
        """No more items: waiting getters end with ``QueueClosedError``."""
        self._closed = True
        while self._getters:
            self._clock.wake(self._getters.popleft(), _CLOSED)

    def drain(self) -> list[T]:
        """Every item waiting now, without blocking."""
        items = list(self._items)
        self._items.clear()
        return items

    async def get(self) -> T:
        """The next item, waiting on the clock for it."""
        if self._items:
            return self._items.popleft()
        if self._closed:
            raise QueueClosedError("the queue is closed")
        waiter = self._clock.park()
        self._getters.append(waiter)
        try:
            value = await self._clock.hold(waiter)
        except asyncio.CancelledError:
            future = waiter.future
            if future.done() and not future.cancelled() and future.result() is not _CLOSED:
                self._items.appendleft(future.result())  # delivered as we were canceled
            raise
        if value is _CLOSED:
            raise QueueClosedError("the queue is closed")
        return value  # type: ignore[no-any-return]

    def __aiter__(self) -> ClockQueue[T]:
        return self

    async def __anext__(self) -> T:
        try:
            return await self.get()
        except QueueClosedError:
            raise StopAsyncIteration from None
