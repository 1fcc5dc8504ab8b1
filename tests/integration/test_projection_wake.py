"""The in-process follower wakes when the ledger saves, instead of waiting out its poll."""

from __future__ import annotations

import time

from execledger.infrastructure.ledger import Ledger
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
