"""The in-process follower applies each save when it commits, instead of waiting out its poll."""

from __future__ import annotations

import threading
import time

from execledger.infrastructure.database_url import parse_database_url
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.read_models import catch_up_after_save, following_projections
from execledger.projections import ProjectionRunner, ProjectionStore, queries
from execledger.projections.errors import ProjectionStoreUnavailable

from tests.projection_scenarios import worked_order


def orders_shown_within(store: ProjectionStore, count: int, seconds: float = 5) -> int:
    """How many orders the read models show once they show ``count`` or ``seconds`` passed."""
    deadline = time.monotonic() + seconds
    while len(queries.orders(store)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(queries.orders(store))


def test_a_save_wakes_the_follower_long_before_its_poll(ledger: Ledger, store: ProjectionStore) -> None:
    """With a 30 s poll, each saved order is still in the read models within 5 s."""
    runner = ProjectionRunner(ledger, store)
    runner.start_in_background(poll_interval_seconds=30)
    wake = lambda saved: runner.wake()  # noqa: E731
    ledger.add_save_listener(wake)
    try:
        time.sleep(0.2)  # the follower's first catch-up is done: it waits on its poll
        for count in (1, 2, 3):
            ledger.save(worked_order(count))
            assert orders_shown_within(store, count) == count
    finally:
        ledger.remove_save_listener(wake)
        runner.stop()
    assert runner.error is None


def test_another_process_save_wakes_a_follower(database_url: str, store: ProjectionStore) -> None:
    """A follower with a 30 s poll applies another ledger's saves within 5 s: on PostgreSQL
    eventsourcing's recorder NOTIFYs in each insert and the store LISTENs; on SQLite the store checks
    the file's data version every few milliseconds."""
    with open_ledger(database_url) as follower_ledger, open_ledger(database_url) as writer:
        runner = ProjectionRunner(follower_ledger, store)  # nothing links the writer to it but the database
        assert store.wake_on_commits(follower_ledger.recorder, runner.wake) is True
        runner.start_in_background(poll_interval_seconds=30)
        try:
            time.sleep(0.2)
            for count in (1, 2):
                writer.save(worked_order(count))
                assert orders_shown_within(store, count) == count
        finally:
            runner.stop()
    assert runner.error is None


def test_the_engine_follower_has_applied_a_save_when_the_save_returns(
    database_url: str, ledger: Ledger
) -> None:
    """As ``execute`` follows: the saving thread applies the save's events right after the
    commit, so the read models show an order the moment ``save`` returns (no thread switch,
    no poll between them: the lag a save sees is its own events' apply time)."""
    with following_projections(ledger, parse_database_url(database_url), poll_interval_seconds=30) as runner:
        time.sleep(0.2)  # the background thread's first catch-up is done: it waits on its poll
        for count in (1, 2, 3):
            order = worked_order(count)
            ledger.save(order)
            shown = queries.orders(runner.store)
            assert len(shown) == count
            assert str(order.id) in {row["order_id"] for row in shown}
    assert runner.error is None


def test_a_save_during_a_background_catch_up_is_applied_when_save_returns(
    ledger: Ledger, store: ProjectionStore
) -> None:
    """The saving thread waits for a catch-up the background follower has under way, then
    applies what is left: the read models hold the save when ``save`` returns."""
    runner = ProjectionRunner(ledger, store)
    listener = catch_up_after_save(runner)
    ledger.add_save_listener(listener)
    held = threading.Event()

    def busy_catch_up() -> None:
        with runner._following:  # a catch-up under way
            held.set()
            time.sleep(0.3)

    busy = threading.Thread(target=busy_catch_up)
    busy.start()
    try:
        assert held.wait(5)
        ledger.save(worked_order(1))
        assert len(queries.orders(store)) == 1
    finally:
        ledger.remove_save_listener(listener)
        busy.join()


def test_a_failing_after_save_catch_up_never_fails_the_committed_save(
    ledger: Ledger, store: ProjectionStore
) -> None:
    """The save is durable before the listener runs: a read-model failure is logged once and
    left to the follower; the save returns, and its events are in the ledger."""
    runner = ProjectionRunner(ledger, store)
    calls = []

    def broken(saved: object) -> int:
        calls.append(1)
        raise ProjectionStoreUnavailable("read models gone")

    runner.apply_saved = broken  # type: ignore[method-assign]
    listener = catch_up_after_save(runner)
    ledger.add_save_listener(listener)
    try:
        first, second = worked_order(1), worked_order(2)
        ledger.save(first)
        ledger.save(second)
    finally:
        ledger.remove_save_listener(listener)
    assert ledger.order(first.id).version == first.version
    assert ledger.order(second.id).version == second.version
    assert len(calls) == 1  # then only the background follower is woken
