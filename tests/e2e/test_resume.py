"""Crash in the middle of a batch, then resume it: nothing doubled, everything finished."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

from execledger.domain.config import ExecutionConfig
from execledger.infrastructure.bootstrap import execution_session, resume_point, simulated_venue
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.venue import load_tape
from execledger.infrastructure.verification import verify_ledger

from tests.builders import place_limit
from tests.e2e.scenario import TAPES, request, run_batch, types

BATCH = [request("XYZ", "BUY", "50", idempotency_key="resume-1")]


async def _run_until_killed(ledger: Ledger, seconds: Decimal) -> None:
    ports, venue = simulated_venue(load_tape(TAPES / "escalation.csv"))
    session = execution_session(ledger, ports, ExecutionConfig())
    work = asyncio.ensure_future(session.run(BATCH))

    async def kill() -> None:
        await venue.clock.sleep(seconds)
        work.cancel()

    venue.clock.spawn(kill(), name="kill")
    with contextlib.suppress(asyncio.CancelledError):
        await work


def test_a_killed_batch_resumes_where_it_stopped(database_url: str) -> None:
    """Killed 15 s in (re-peg 1 partly filled), the batch resumes: the order completes, 50 filled once."""
    with open_ledger(database_url) as ledger:
        asyncio.run(_run_until_killed(ledger, Decimal(15)))
        interrupted = ledger.order(ledger.order(next(ledger.order_ids())).id)
        assert not interrupted.is_terminal
        assert interrupted.filled_quantity == Decimal(20)
        assert resume_point(ledger, BATCH) == interrupted.last_event_at

        result = run_batch(ledger, "escalation.csv", BATCH)
        order = result.orders[0]
        assert result.created == 0
        assert order.is_terminal and order.filled_quantity == Decimal(50)
        recorded = types(ledger, order)
        assert recorded.count("Requested") == 1
        executions = [
            e.execution_id
            for e in ledger.events_of(order.id)
            if type(e).__name__ in ("PartiallyFilled", "Filled")
        ]
        assert len(executions) == len(set(executions))
        times = [e.occurred_at for e in ledger.events_of(order.id)]
        assert times == sorted(times), "a resumed timeline never goes back in time"
        assert verify_ledger(ledger).ok


def test_resume_settles_a_placement_that_was_never_answered(database_url: str) -> None:
    """Intent recorded, broker never answered (crash): on resume the client order id is looked up first."""
    with open_ledger(database_url) as ledger:
        ports, venue = simulated_venue(load_tape(TAPES / "escalation.csv"))
        session = execution_session(ledger, ports, ExecutionConfig())
        (order,) = session.submit(BATCH).orders
        now = venue.clock.now()
        order.validate(tradable=True, fractionable=True, occurred_at=now)
        place_limit(order, Decimal("100.02"), when=now)
        ledger.save_order(order)

        result = run_batch(ledger, "escalation.csv", BATCH)
        recorded = types(ledger, result.orders[0])
        assert recorded[:6] == [
            "Requested",
            "Validated",
            "Priced",
            "PlacementRequested",
            "PlacementRejected",
            "Quoted",
        ]
        assert result.orders[0].is_terminal


def test_a_cancel_recorded_but_never_sent_is_resent_on_restart(sqlite_url: str) -> None:
    """Crash between CancelRequested and the broker call: on restart the cancel goes out, then Canceled."""
    with open_ledger(sqlite_url) as ledger:
        ports, venue = simulated_venue(load_tape(TAPES / "escalation.csv"))
        config = ExecutionConfig()

        async def first_run() -> None:
            work = asyncio.ensure_future(execution_session(ledger, ports, config).run(BATCH))

            async def kill() -> None:
                await venue.clock.sleep(Decimal(3))
                work.cancel()

            venue.clock.spawn(kill(), name="kill")
            with contextlib.suppress(asyncio.CancelledError):
                await work

        async def restart() -> None:
            order = ledger.order(next(ledger.order_ids()))
            order.request_cancel("operator asked", occurred_at=venue.clock.now())
            ledger.save_order(order)
            session = execution_session(ledger, ports, config)
            await session.run(BATCH)

        asyncio.run(first_run())
        asyncio.run(restart())
        order = ledger.order(next(ledger.order_ids()))
        recorded = types(ledger, order)
        at = recorded.index("CancelRequested")
        assert recorded[at + 1] == "Canceled"
        assert order.is_terminal and order.filled_quantity == Decimal(50)
