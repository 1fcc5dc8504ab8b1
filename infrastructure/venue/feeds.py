"""The simulated venue's push side: order updates and the end of the tape."""

from __future__ import annotations

from execledger.infrastructure.ports import OrderUpdate
from execledger.infrastructure.venue.clock import VirtualClock
from execledger.infrastructure.venue.clock_queue import ClockQueue


class VenueFeeds:
    """Every subscriber gets a ``ClockQueue``, so waiting on a feed counts as blocked.

    Order updates are kept: a new subscriber first receives every update since the
    session began (unless ``replay_backlog`` is off, as at Alpaca), then live ones.
    ``close`` ends every feed (later subscribers get the backlog only); ``drop`` ends the
    current update subscriptions, as a dropped connection does.
    """

    def __init__(self, clock: VirtualClock, *, replay_backlog: bool = True) -> None:
        self._clock = clock
        self._replay_backlog = replay_backlog
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
        """A new subscription: the backlog (unless the venue does not replay it), then
        live updates until ``close`` or a ``drop``."""
        queue = ClockQueue(self._clock, self._updates if self._replay_backlog else ())
        if self._closed:
            queue.close()
        else:
            self._update_queues.append(queue)
        return queue

    def drop(self) -> None:
        """The update stream drops: every subscription ends (a new one may follow)."""
        for queue in self._update_queues:
            queue.close()
        self._update_queues.clear()

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
