"""The in-process follower wakes when the ledger saves, instead of waiting out its poll."""

from __future__ import annotations

import time

from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.projections import ProjectionRunner, ProjectionStore, queries

from tests.projection_scenarios import worked_order


def test_a_save_wakes_the_follower_long_before_its_poll(ledger: Ledger, store: ProjectionStore) -> None:
    """With a 30 s poll, each saved order is still in the read models within 5 s."""
    runner = ProjectionRunner(ledger, store)
    runner.start_in_background(poll_interval_seconds=30)
    ledger.add_save_listener(runner.wake)
    try:
        time.sleep(0.2)  # the follower's first catch-up is done: it waits on its poll
        for count in (1, 2, 3):
            ledger.save(worked_order(count))
            deadline = time.monotonic() + 5
            while len(queries.orders(store)) < count and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(queries.orders(store)) == count
    finally:
        ledger.remove_save_listener(runner.wake)
        runner.stop()
    assert runner.error is None


def test_another_process_save_wakes_a_postgres_follower(database_url: str, store: ProjectionStore) -> None:
    """A follower with a 30 s poll applies another process's saves within 5 s on PostgreSQL:
    the ledger NOTIFYs after each commit and the store LISTENs (SQLite has no such channel:
    there a follower in another process polls)."""
    if database_url.startswith("sqlite"):
        assert store.wake_on_commits(lambda: None) is False
        return
    with open_ledger(database_url) as follower_ledger, open_ledger(database_url) as writer:
        runner = ProjectionRunner(follower_ledger, store)  # nothing links the writer to it but NOTIFY
        assert store.wake_on_commits(runner.wake) is True
        runner.start_in_background(poll_interval_seconds=30)
        try:
            time.sleep(0.2)
            for count in (1, 2):
                writer.save(worked_order(count))
                deadline = time.monotonic() + 5
                while len(queries.orders(store)) < count and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert len(queries.orders(store)) == count
        finally:
            runner.stop()
    assert runner.error is None
