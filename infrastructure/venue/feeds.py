"""The simulated venue's push side: order updates and the end of the tape."""

from __future__ import annotations

from execledger.infrastructure.ports import OrderUpdate
from execledger.infrastructure.venue.clock import VirtualClock
from execledger.infrastructure.venue.clock_queue import ClockQueue


class VenueFeeds:
    """Every subscriber gets a ``ClockQueue``, so waiting on a feed counts as blocked.

    Order updates are kept: a new subscriber first receives every update since the
    session began, then live ones. ``close`` ends every feed (later subscribers get the
    backlog only).
    """

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._updates: list[OrderUpdate] = []
        self._update_queues: list[ClockQueue[OrderUpdate]] = []
        self._finish_queues: list[ClockQueue[None]] = []
        self._finished = False
        self._closed = False

    @property
    def finished(self) -> bool:
        """Whether ``finish`` was called (the tape has ended)."""
        return self._finished

    def order_updates(self) -> ClockQueue[OrderUpdate]:
        """A new subscription: the backlog, then live updates until ``close``."""
        queue = ClockQueue(self._clock, self._updates)
        if self._closed:
            queue.close()
        else:
            self._update_queues.append(queue)
        return queue

    def publish(self, update: OrderUpdate) -> None:
        """Record ``update`` and hand it to every open subscription."""
        self._updates.append(update)
        for queue in self._update_queues:
            if not queue.closed:
                queue.put_nowait(update)

    async def wait_finished(self) -> None:
        """Wait (on the clock) until ``finish``."""
        if not self._finished:
            queue: ClockQueue[None] = ClockQueue(self._clock)
            self._finish_queues.append(queue)
            await queue.get()

    def finish(self) -> None:
        """The tape has ended: ``wait_finished`` returns."""
        self._finished = True
        for waiter in self._finish_queues:
            waiter.put_nowait(None)
        self._finish_queues.clear()

    def close(self) -> None:
        """End every feed."""
        self._closed = True
        for queue in self._update_queues:
            queue.close()
