"""Issue 12: the engine against a simulated venue as unkind as a real broker.

Each scenario is one defect of the review, on a venue switch (venue.faults). After every
run the ledger must agree with the venue: per broker order the ledger's filled quantity
is the venue's, no broker order is left working, nothing is bought beyond the request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from execledger.domain import order_events as ev
from execledger.domain.config import ExecutionConfig
from execledger.domain.order import SmartOrder
from execledger.domain.requests import OrderRequest
from execledger.domain.types import Quote
from execledger.infrastructure.bootstrap import execution_session, simulated_venue
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.ports import BrokerOrderStatus, OrderUpdate, Venue
from execledger.infrastructure.venue import SimulatedVenue, load_tape
from execledger.infrastructure.venue.faults import QuietSpell, VenueFaults
from execledger.infrastructure.verification import verify_ledger

from tests.e2e.scenario import TAPES, request

FAST = ExecutionConfig(retry_initial_backoff_seconds=Decimal("0.1"), retry_max_backoff_seconds=Decimal(1))
BUY_50 = [request("XYZ", "BUY", "50")]
#: BUY 50 priced at 100.02; the ask falls to 100.00 (30 shown) at 3 s and recovers at 4 s;
#: the session ends at 60 s.
FALLING = """timestamp,symbol,bid,ask,bid_size,ask_size
2026-01-05T14:30:00+00:00,XYZ,100.00,100.50,100,20
2026-01-05T14:30:03+00:00,XYZ,99.90,100.00,100,30
2026-01-05T14:30:04+00:00,XYZ,100.00,100.50,100,20
2026-01-05T14:31:00+00:00,XYZ,100.00,100.50,100,20
"""


def _tape(text: str, tmp: Path) -> list[Quote]:
    path = tmp / "tape.csv"
    path.write_text(text)
    return load_tape(path)


def _run(
    ledger: Ledger,
    tape: Sequence[Quote],
    faults: VenueFaults,
    requests: Sequence[OrderRequest] = BUY_50,
    config: ExecutionConfig = FAST,
    venue_wrapper: Any = None,
) -> tuple[SmartOrder, SimulatedVenue]:
    ports, venue = simulated_venue(tape, faults=faults)
    if venue_wrapper is not None:
        ports = Venue(
            venue_wrapper(venue), ports.market_data, ports.assets, ports.clock, session_end=ports.session_end
        )
    result = asyncio.run(execution_session(ledger, ports, config).run(requests))
    return result.orders[0], venue


def assert_ledger_is_the_venue(ledger: Ledger, order: SmartOrder, venue: SimulatedVenue) -> None:
    """Per broker order, filled as the venue says; nothing working; nothing beyond the request."""
    at_venue = [o for o in venue.orders() if o.client_order_id in order.placements]
    for broker_order in at_venue:
        held = order.lifecycle.broker_orders[broker_order.client_order_id].filled
        assert held == broker_order.filled_quantity, broker_order.client_order_id
        assert broker_order.status not in (
            BrokerOrderStatus.NEW,
            BrokerOrderStatus.PARTIALLY_FILLED,
            BrokerOrderStatus.PENDING_CANCEL,
        ), f"{broker_order.client_order_id} left {broker_order.status.value}"
    bought = sum((o.filled_quantity for o in at_venue), Decimal(0))
    assert bought == order.filled_quantity
    assert bought <= order.quantity or order.overfilled
    assert order.is_terminal
    assert verify_ledger(ledger).ok


def _events(ledger: Ledger, order: SmartOrder, kind: type[Any]) -> list[Any]:
    return [e for e in ledger.events_of(order.id) if isinstance(e, kind)]


# ---- defect 1: a failed lookup is not "not found" ---------------------------------------


def test_a_lost_placement_answer_and_failing_lookups_keep_the_placement_pending(sqlite_url: str) -> None:
    """Every answer to the first placement is lost and its first lookups fail: the order
    stays PENDING_NEW, is looked up again with backoff, and is found (no second order)."""
    faults = VenueFaults(lost_placement_answers=4, failed_lookups=6)
    with open_ledger(sqlite_url) as ledger:
        order, venue = _run(ledger, load_tape(TAPES / "escalation.csv"), faults)
        first = f"{order.id}-1"
        assert not _events(ledger, order, ev.PlacementRejected)
        assert _events(ledger, order, ev.Placed)[0].client_order_id == first
        assert order.status.value == "completed" and order.filled_quantity == 50
        assert_ledger_is_the_venue(ledger, order, venue)


def test_a_placement_that_never_arrived_is_rejected_only_after_its_send_window(sqlite_url: str) -> None:
    """Placement never reached the venue: "not found" before the send window is not
    believed; after it the placement is rejected and the order goes on."""

    class DropsFirstPlacement:
        def __init__(self, inner: SimulatedVenue) -> None:
            self._inner, self._dropped = inner, False

        async def place_limit(self, **order: Any) -> Any:
            if not self._dropped:
                self._dropped = True
                from execledger.infrastructure.errors import TransientBrokerError

                raise TransientBrokerError("connection reset before the request was sent")
            return await self._inner.place_limit(**order)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

    config = FAST.model_copy(update={"retry_max_attempts": 1, "broker_timeout_seconds": Decimal(2)})
    with open_ledger(sqlite_url) as ledger:
        order, venue = _run(
            ledger,
            load_tape(TAPES / "escalation.csv"),
            VenueFaults(),
            config=config,
            venue_wrapper=DropsFirstPlacement,
        )
        (rejected,) = _events(ledger, order, ev.PlacementRejected)
        (requested, *_) = _events(ledger, order, ev.PlacementRequested)
        assert rejected.error_code == "not_found"
        assert rejected.occurred_at - requested.occurred_at >= timedelta(seconds=2)
        assert_ledger_is_the_venue(ledger, order, venue)


# ---- defects 5 and 6: refused cancels ----------------------------------------------------


def test_refused_cancels_are_looked_up_and_retried_and_never_escalate_twice(sqlite_url: str) -> None:
    """Every broker order refuses its first two cancels: re-pegs and the escalation still
    happen (each cancel retried within cancel_confirm_timeout_seconds), one Escalated."""
    with open_ledger(sqlite_url) as ledger:
        order, venue = _run(ledger, load_tape(TAPES / "escalation.csv"), VenueFaults(refused_cancels=2))
        refusals = _events(ledger, order, ev.CancelRejected)
        assert refusals and all("not cancelable" in e.reason for e in refusals)
        assert all(e.withdrawn_repeg is None or e.withdrawn_repeg >= 1 for e in refusals)
        assert len(_events(ledger, order, ev.Escalated)) <= 1
        assert order.repegs == len({e.repeg_number for e in _events(ledger, order, ev.Repegged)}), (
            "only re-pegs whose cancel went through count"
        )
        assert_ledger_is_the_venue(ledger, order, venue)


def test_a_re_peg_racing_a_fill_through_pending_cancel_is_withdrawn(tmp_path: Path, sqlite_url: str) -> None:
    """The re-peg's cancel sits in pending_cancel while the order fills: the refusal's
    reason is what happened (filled), and the re-peg does not count."""
    tape = """timestamp,symbol,bid,ask,bid_size,ask_size
2026-01-05T14:30:00+00:00,XYZ,100.00,100.50,100,20
2026-01-05T14:30:10+00:00,XYZ,100.10,100.60,100,20
2026-01-05T14:30:11+00:00,XYZ,99.90,100.00,100,100
2026-01-05T14:31:00+00:00,XYZ,100.00,100.50,100,20
"""
    with open_ledger(sqlite_url) as ledger:
        order, venue = _run(ledger, _tape(tape, tmp_path), VenueFaults(cancel_delay_seconds=Decimal(3)))
        (rejected,) = _events(ledger, order, ev.CancelRejected)
        assert "filled" in rejected.reason
        assert rejected.withdrawn_repeg == 1
        assert order.repegs == 0
        assert order.filled_quantity == 50 and order.status.value == "completed"
        assert_ledger_is_the_venue(ledger, order, venue)


# ---- defect 4: fills the stream never delivered ------------------------------------------


def test_fills_while_the_engine_is_down_are_inferred_on_restart(tmp_path: Path, sqlite_url: str) -> None:
    """The engine stops at 2 s; the order fills 30 at 3 s; the venue does not replay its
    backlog. On restart the lookup shows 30 filled: recorded as an inferred fill."""
    faults = VenueFaults(replay_backlog=False)
    with open_ledger(sqlite_url) as ledger:
        ports, venue = simulated_venue(_tape(FALLING, tmp_path), faults=faults)

        async def until_killed() -> None:
            work = asyncio.ensure_future(execution_session(ledger, ports, FAST).run(BUY_50))

            async def kill() -> None:
                await venue.clock.sleep(Decimal(2))
                work.cancel()

            venue.clock.spawn(kill(), name="kill")
            with contextlib.suppress(asyncio.CancelledError):
                await work
            await venue.clock.run_until(venue.clock.now() + timedelta(seconds=3))

        asyncio.run(until_killed())
        assert venue.orders()[0].filled_quantity == 30
        order = asyncio.run(execution_session(ledger, ports, FAST).run(BUY_50)).orders[0]
        inferred = [e for e in _events(ledger, order, ev.PartiallyFilled) if e.inferred]
        assert [(e.quantity, e.execution_id) for e in inferred] == [
            (30, f"inferred:{venue.orders()[0].broker_order_id}:30")
        ]
        assert_ledger_is_the_venue(ledger, order, venue)


def test_a_dropped_stream_without_backlog_is_reconciled_by_lookup(tmp_path: Path, sqlite_url: str) -> None:
    """The update stream drops just before the fill at 3 s and replays nothing."""
    faults = VenueFaults(replay_backlog=False, stream_drops=(Decimal("2.95"),))
    config = FAST.model_copy(update={"retry_initial_backoff_seconds": Decimal(1)})
    with open_ledger(sqlite_url) as ledger:
        order, venue = _run(ledger, _tape(FALLING, tmp_path), faults, config=config)
        assert any(e.inferred for e in _events(ledger, order, ev.PartiallyFilled))
        assert_ledger_is_the_venue(ledger, order, venue)


# ---- defect 3: an overfill is recorded ---------------------------------------------------


class ReportsTenMore:
    """A broker that, once, reports an execution of 10 beyond its order's quantity."""

    def __init__(self, inner: SimulatedVenue) -> None:
        self._inner, self._done = inner, False

    async def _updates(self) -> AsyncIterator[OrderUpdate]:
        async for update in self._inner.order_updates():
            yield update
            execution = update.execution
            if execution is not None and update.order.status is BrokerOrderStatus.FILLED and not self._done:
                self._done = True
                extra = execution.model_copy(update={"execution_id": "bug-1", "quantity": Decimal(10)})
                cumulative = update.order.filled_quantity + 10
                yield update.model_copy(
                    update={
                        "execution": extra,
                        "order": update.order.model_copy(update={"filled_quantity": cumulative}),
                    }
                )

    def order_updates(self) -> AsyncIterator[OrderUpdate]:
        return self._updates()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_an_execution_past_the_quantity_is_recorded_with_a_breach(sqlite_url: str) -> None:
    """The ledger holds what the broker reported (60 of 50), an Overfilled breach, and the
    order fails as overfilled instead of completing 50."""
    tape = load_tape(TAPES / "escalation.csv")
    with open_ledger(sqlite_url) as ledger:
        order, _ = _run(ledger, tape, VenueFaults(), venue_wrapper=ReportsTenMore)
        (breach,) = _events(ledger, order, ev.Overfilled)
        assert breach.filled_quantity == 60 and breach.order_quantity == 50
        assert order.filled_quantity == 60
        assert order.status.value == "failed" and "overfilled" in (order.terminal_reason or "")


# ---- the quote feed goes quiet -------------------------------------------------------------


def test_a_quiet_quote_feed_sends_nothing_on_a_stale_quote(sqlite_url: str) -> None:
    """Quiet from the start: the quote goes stale and a NORMAL order fails unplaced."""
    faults = VenueFaults(quiet_quotes=(QuietSpell(start=Decimal(0), seconds=Decimal(100)),))
    with open_ledger(sqlite_url) as ledger:
        ports, venue = simulated_venue(load_tape(TAPES / "escalation.csv"), faults=faults)
        ports.clock  # noqa: B018
        config = FAST.model_copy(update={"quote_freshness_seconds": Decimal(1)})

        async def later() -> None:
            await venue.clock.run_until(venue.clock.now() + timedelta(seconds=3))

        asyncio.run(later())
        order = asyncio.run(execution_session(ledger, ports, config).run(BUY_50)).orders[0]
        assert order.status.value == "failed" and not venue.orders()
