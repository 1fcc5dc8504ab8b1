"""SimulatedSession: the driver that runs a simulated venue's tape on virtual time."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from decimal import Decimal
from typing import Any, TypeVar

from infrastructure.venue.clock import VirtualClock, seconds_to_timedelta
from infrastructure.venue.simulated import SimulatedVenue

T = TypeVar("T")


class SimulatedSession:
    """Drives ``venue.clock`` until the engine's tasks are done (see ``clock`` for the contract).

    ``overrun_seconds`` is how long past the tape's end the tasks may still run (to
    cancel and record what was working) before ``ClockStalledError`` is raised.
    """

    def __init__(self, venue: SimulatedVenue, *, overrun_seconds: Decimal = Decimal(3600)) -> None:
        self.venue = venue
        self.clock: VirtualClock = venue.clock
        self._overrun = seconds_to_timedelta(overrun_seconds)

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str | None = None) -> asyncio.Task[T]:
        """Start ``coro`` as a participant task on the session's clock."""
        return self.clock.spawn(coro, name=name)

    async def run(self, tasks: Iterable[asyncio.Task[Any]]) -> None:
        """Move virtual time until every task is done (results are left in the tasks)."""
        await self.clock.run(tasks, until=self.venue.tape_end + self._overrun)

    async def run_to_end(self) -> None:
        """Move virtual time through the whole tape, up to and including its end."""
        await self.clock.run_until(self.venue.tape_end)
