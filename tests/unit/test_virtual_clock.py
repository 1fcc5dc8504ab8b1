"""The virtual clock: time moves only when every participant waits on it."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from execledger.infrastructure.venue import ClockQueue, ClockStalledError, VirtualClock, WallClock

START = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """START plus ``seconds`` (test helper only)."""
    return START + timedelta(seconds=seconds)


def test_sleepers_wake_at_their_virtual_times() -> None:
    """Two participants sleeping 5 s and 3 s wake at +3 and +5, in that order."""
    clock = VirtualClock(START)
    woke: list[tuple[str, datetime]] = []

    async def sleeper(name: str, seconds: str) -> None:
        await clock.sleep(Decimal(seconds))
        woke.append((name, clock.now()))

    async def main() -> None:
        tasks = [clock.spawn(sleeper("slow", "5")), clock.spawn(sleeper("fast", "3"))]
        await clock.run(tasks)

    asyncio.run(main())

    assert woke == [("fast", at(3)), ("slow", at(5))]


def test_fractional_sleeps_add_up_exactly() -> None:
    """Four Decimal quarter-second sleeps make exactly one second."""
    clock = VirtualClock(START)

    async def sleeper() -> None:
        for _ in range(4):
            await clock.sleep(Decimal("0.25"))

    async def main() -> None:
        await clock.run([clock.spawn(sleeper())])

    asyncio.run(main())

    assert clock.now() == at(1)


def test_time_stands_still_while_a_participant_is_busy() -> None:
    """A participant yielding to the loop (not waiting on the clock) holds time back."""
    clock = VirtualClock(START)
    seen: list[datetime] = []

    async def busy() -> None:
        for _ in range(200):
            await asyncio.sleep(0)
        seen.append(clock.now())

    async def sleeper() -> None:
        await clock.sleep(Decimal("1"))

    async def main() -> None:
        await clock.run([clock.spawn(sleeper()), clock.spawn(busy())])

    asyncio.run(main())

    assert seen == [START]


def test_timers_run_before_the_sleepers_of_the_same_moment() -> None:
    """A timer at +2 runs before a sleeper due at +2 wakes; same-moment sleepers keep order."""
    clock = VirtualClock(START)
    log: list[str] = []

    async def sleeper(name: str) -> None:
        await clock.sleep(Decimal("2"))
        log.append(name)

    async def main() -> None:
        tasks = [clock.spawn(sleeper("first")), clock.spawn(sleeper("second"))]
        clock.call_at(at(2), lambda: log.append("timer"))
        await clock.run(tasks)

    asyncio.run(main())

    assert log == ["timer", "first", "second"]


def test_a_clock_queue_hands_items_over_at_the_producers_time() -> None:
    """A consumer blocked on a ClockQueue gets each item when the producer puts it."""
    clock = VirtualClock(START)
    queue: ClockQueue[int] = ClockQueue(clock)
    received: list[tuple[int, datetime]] = []

    async def producer() -> None:
        for n in range(3):
            await clock.sleep(Decimal("10"))
            queue.put_nowait(n)
        queue.close()

    async def consumer() -> None:
        async for item in queue:
            received.append((item, clock.now()))

    async def main() -> None:
        await clock.run([clock.spawn(consumer()), clock.spawn(producer())])

    asyncio.run(main())

    assert received == [(0, at(10)), (1, at(20)), (2, at(30))]


def test_wait_counts_a_foreign_await_as_blocked() -> None:
    """Awaiting an asyncio.Queue through clock.wait lets time move, and nothing is missed."""
    clock = VirtualClock(START)
    queue: asyncio.Queue[str] = asyncio.Queue()
    received: list[tuple[str, datetime]] = []

    async def producer() -> None:
        await clock.sleep(Decimal("4"))
        queue.put_nowait("hello")
        await clock.sleep(Decimal("100"))

    async def consumer() -> None:
        received.append((await clock.wait(queue.get()), clock.now()))

    async def main() -> None:
        await clock.run([clock.spawn(consumer()), clock.spawn(producer())])

    asyncio.run(main())

    assert received == [("hello", at(4))]
    assert clock.now() == at(104)


def test_a_canceled_sleeper_does_not_move_time() -> None:
    """Cancelling a sleeping task removes its wake-up."""
    clock = VirtualClock(START)

    async def main() -> None:
        long_sleeper = clock.spawn(clock.sleep(Decimal("1000")))
        short_sleeper = clock.spawn(clock.sleep(Decimal("5")))
        await clock.settle()
        long_sleeper.cancel()
        await clock.run([short_sleeper, long_sleeper])

    asyncio.run(main())

    assert clock.now() == at(5)
    assert clock.next_moment is None


def test_a_deadlock_raises_instead_of_hanging() -> None:
    """Every participant waiting and nothing scheduled: ClockStalledError names the task."""
    clock = VirtualClock(START)
    queue: ClockQueue[int] = ClockQueue(clock)

    async def main() -> None:
        task = clock.spawn(queue.get(), name="forever")
        try:
            await clock.run([task])
        finally:
            task.cancel()

    with pytest.raises(ClockStalledError, match="forever"):
        asyncio.run(main())


def test_a_participant_busy_on_real_time_stalls_the_clock() -> None:
    """A participant that never waits on the clock for stall_seconds raises, naming it."""
    clock = VirtualClock(START, stall_seconds=0.2)

    async def spinning() -> None:
        while True:
            await asyncio.sleep(0.01)  # real time: the clock cannot see this wait

    async def main() -> None:
        task = clock.spawn(spinning(), name="spinner")
        try:
            await clock.run([task])
        finally:
            task.cancel()

    with pytest.raises(ClockStalledError, match="spinner"):
        asyncio.run(main())


def test_many_participants_busy_at_one_moment_are_not_a_stall() -> None:
    """The stall limit is per participant's progress, not per moment: a crowd at one moment
    whose work adds up past stall_seconds, each piece short, runs to the end."""
    clock = VirtualClock(START, stall_seconds=0.2)
    finished: list[datetime] = []

    async def worker() -> None:
        for _ in range(2):
            time.sleep(0.01)  # a blocking write, e.g. a commit
            await clock.sleep(Decimal("1"))
        finished.append(clock.now())

    async def main() -> None:
        await clock.run([clock.spawn(worker(), name=f"w{n}") for n in range(40)])

    asyncio.run(main())

    assert finished == [at(2)] * 40


def test_a_deadline_stops_a_run_that_never_ends() -> None:
    """run(until=...) refuses to move past the deadline while tasks still run."""
    clock = VirtualClock(START)

    async def ticker() -> None:
        while True:
            await clock.sleep(Decimal("1"))

    async def main() -> None:
        task = clock.spawn(ticker(), name="ticker")
        try:
            await clock.run([task], until=at(60))
        finally:
            task.cancel()

    with pytest.raises(ClockStalledError, match="still running"):
        asyncio.run(main())
    assert clock.now() == at(60)


def test_run_until_stands_at_the_deadline() -> None:
    """run_until runs every moment up to the deadline, leaves later ones pending."""
    clock = VirtualClock(START)
    log: list[datetime] = []

    async def main() -> None:
        for seconds in (1, 2, 3):
            clock.call_at(at(seconds), lambda: log.append(clock.now()))
        await clock.run_until(at(2.5))

    asyncio.run(main())

    assert log == [at(1), at(2)]
    assert clock.now() == at(2.5)
    assert clock.next_moment == at(3)


def test_a_session_is_deterministic_and_fast() -> None:
    """100 participants over 30 virtual minutes: same log twice, well under a second each."""

    def session() -> tuple[list[tuple[int, datetime]], float]:
        clock = VirtualClock(START)
        log: list[tuple[int, datetime]] = []

        async def worker(n: int) -> None:
            for _ in range(60):
                await clock.sleep(Decimal(30 + n % 7))
                log.append((n, clock.now()))

        async def main() -> None:
            await clock.run([clock.spawn(worker(n)) for n in range(100)])

        began = time.perf_counter()
        asyncio.run(main())
        return log, time.perf_counter() - began

    first, elapsed = session()
    second, _ = session()

    assert first == second
    assert len(first) == 6000
    assert elapsed < 3.0


def test_the_wall_clock_is_real_utc_time() -> None:
    """WallClock: aware UTC now, real sleep, spawn and wait as plain asyncio."""
    clock = WallClock()

    async def main() -> str:
        before = clock.now()
        await clock.sleep(Decimal("0.01"))
        assert clock.now() - before >= timedelta(milliseconds=10)
        task = clock.spawn(asyncio.sleep(0, result="done"))
        return await clock.wait(task)

    assert asyncio.run(main()) == "done"
    assert clock.now().tzinfo is UTC


def test_a_naive_start_is_refused() -> None:
    """Virtual time is aware UTC from the start."""
    with pytest.raises(ValueError, match="timezone-aware"):
        VirtualClock(datetime(2024, 3, 1, 14, 30))


def test_waiting_on_a_spawned_child_that_uses_the_clock() -> None:
    """wait(spawn(coro)): the child's own yields hold time back, its sleeps move it."""
    clock = VirtualClock(START)
    seen: list[datetime] = []

    async def child() -> str:
        await clock.sleep(Decimal("3"))
        for _ in range(50):
            await asyncio.sleep(0)
        seen.append(clock.now())
        return "child done"

    async def parent() -> str:
        return await clock.wait(clock.spawn(child()))

    async def other() -> None:
        await clock.sleep(Decimal("4"))
        seen.append(clock.now())

    async def main() -> str:
        task = clock.spawn(parent())
        await clock.run([task, clock.spawn(other())])
        return task.result()

    assert asyncio.run(main()) == "child done"
    assert seen == [at(3), at(4)]


def test_an_item_delivered_to_a_getter_canceled_before_it_ran_is_kept() -> None:
    """Cancellation racing a delivery puts the item back at the head of the queue."""
    clock = VirtualClock(START)
    queue: ClockQueue[int] = ClockQueue(clock)

    async def main() -> list[int]:
        getter = clock.spawn(queue.get())
        await clock.settle()
        queue.put_nowait(1)
        queue.put_nowait(2)
        getter.cancel()
        await clock.settle()
        return queue.drain()

    assert asyncio.run(main()) == [1, 2]
