"""The engine's read models commit with its saves: folded inside the insert's transaction.

Another connection (an operator's ``timeline``, a report) never sees the ledger's events
without the read models that hold them; a fold that fails is rolled back alone and the
save commits; a save that fails takes its read-model rows with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from execledger.infrastructure import ledger_recorders
from execledger.infrastructure.database_url import parse_database_url
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.read_models import catch_up_after_save, following_projections, open_projections
from execledger.projections import ALL_PROJECTIONS, ProjectionRunner, ProjectionStore, queries
from execledger.projections.folding import FoldFailed
from execledger.projections.projection import tables_of

from tests.projection_scenarios import T0, place, quoted_and_priced, requested, worked_order


def snapshot(store: ProjectionStore) -> dict[str, list[dict[str, Any]]]:
    """Every read-model row of every projection, in key order."""
    return {
        table.name: store.select(table, order_by=table.key)
        for projection in ALL_PROJECTIONS
        for table in tables_of(projection)
    }


class PositionsSeenElsewhere:
    """A save listener (registered before any follower's, so called once the save has
    committed and before anything applies it after the commit) that records the tracked
    positions another connection sees at that moment: (save's last id, positions)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.seen: list[tuple[int, set[int]]] = []

    def __call__(self, saved: Any) -> None:
        other = open_projections(self.database_url)
        try:
            self.seen.append((saved[-1][0], set(other.positions().values())))
        finally:
            other.close()


def test_another_connection_sees_the_read_models_commit_with_the_save(
    database_url: str, ledger: Ledger, store: ProjectionStore
) -> None:
    """At the instant a save has committed (before the follower's after-commit step could
    run), a reader on another connection finds every read model at the save's last event."""
    listener = PositionsSeenElsewhere(database_url)
    ledger.add_save_listener(listener)
    with following_projections(ledger, parse_database_url(database_url), poll_interval_seconds=30) as runner:
        runner.catch_up()  # (waits for the follower's first catch-up, which saves do not wait for)
        for index in range(6):
            ledger.save(worked_order(index))
        ledger.save(*[worked_order(index) for index in range(6, 20)])
    seen = listener.seen
    assert len(seen) == 7
    assert all(positions == {last} for last, positions in seen), seen
    followed = snapshot(store)
    ProjectionRunner(ledger, store).rebuild()
    assert snapshot(store) == followed, "folded in the save's transaction == rebuilt from the log"


def test_a_fold_that_fails_is_rolled_back_alone_and_the_save_commits(
    ledger: Ledger, store: ProjectionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fold writes some rows and then fails: the save still commits, the read models
    are exactly where they were (the savepoint undid the rows), and a catch-up applies it."""
    runner = ProjectionRunner(ledger, store)
    ledger.fold_in_saves(runner)
    ledger.save(worked_order(1))
    before = snapshot(store)
    with failing_after_first_write(store, monkeypatch, FoldFailed("order_status", ValueError("refused"))):
        ledger.save(worked_order(2))
    assert ledger.recorder.max_notification_id() > max(store.positions().values())
    assert snapshot(store) == before
    runner.catch_up()
    assert len(queries.orders(store)) == 2
    ledger.save(worked_order(3))  # folded inline again (its first event follows the catch-up)
    assert set(store.positions().values()) == {ledger.recorder.max_notification_id()}
    assert queries.projection_errors(store) == []


def test_a_save_that_fails_takes_its_read_model_rows_with_it(
    ledger: Ledger, store: ProjectionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The insert's transaction fails after the fold (here: a statement the database
    refuses, right after it): neither the events nor the rows are there, and the order
    saved again is projected once."""
    runner = ProjectionRunner(ledger, store)
    ledger.fold_in_saves(runner)
    ledger.add_save_listener(catch_up_after_save(runner))  # (past the gap the rollback left)
    ledger.save(worked_order(1))
    before = snapshot(store)
    fold_inserted = ledger_recorders.fold_inserted

    def then_fail(connection: Any, *args: Any) -> None:
        fold_inserted(connection, *args)
        connection.execute("SELECT no_such_column FROM projection_tracking")

    monkeypatch.setattr(ledger_recorders, "fold_inserted", then_fail)
    with pytest.raises(Exception, match="no_such_column"):
        ledger.save(worked_order(2))
    monkeypatch.setattr(ledger_recorders, "fold_inserted", fold_inserted)
    assert snapshot(store) == before
    ledger.save(worked_order(2))
    assert set(store.positions().values()) == {ledger.recorder.max_notification_id()}
    rows = snapshot(store)
    ProjectionRunner(ledger, store).rebuild()
    assert snapshot(store) == rows


def test_a_value_the_database_refuses_is_set_aside_after_the_commit(
    database_url: str, ledger: Ledger, store: ProjectionStore
) -> None:
    """On PostgreSQL a NUL in text fails the fold inside the insert's (pipelined)
    transaction: the savepoint is rolled back, the save commits, and the follower's
    after-commit step sets the event aside as poison."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite stores a NUL in text: nothing to refuse")
    order = requested("AAPL", "BUY", "100", key="nul", correlation_id="c-1", when=T0)
    order.validate(tradable=True, fractionable=True, occurred_at=T0)
    quoted_and_priced(order, "100.00", "100.10", "100.04", T0)
    place(order, "100.04", T0, broker_id="B-\x00-1")
    with following_projections(ledger, parse_database_url(database_url), poll_interval_seconds=30):
        ledger.save(order)
        ledger.save(worked_order(6))
    errors = queries.projection_errors(store)
    assert {e["order_id"] for e in errors} == {str(order.id)}
    assert {row["order_id"] for row in queries.orders(store)} >= {str(worked_order(6).id)}
    assert set(store.positions().values()) == {ledger.recorder.max_notification_id()}


def test_a_save_while_a_catch_up_holds_the_runner_is_applied_after_its_commit(
    database_url: str, ledger: Ledger, store: ProjectionStore
) -> None:
    """Saves made while the follower catches up another ledger's events wait at most the
    fold wait for it, else are applied after their commit: every save is projected once."""
    database = parse_database_url(database_url)
    with following_projections(ledger, database, poll_interval_seconds=0.01, fold_wait_seconds=0) as runner:
        with open_ledger(database_url) as elsewhere:
            for index in range(30):
                elsewhere.save(worked_order(100 + index))
                ledger.save(worked_order(index))
        runner.catch_up()
    assert len(queries.orders(store)) == 60
    assert set(store.positions().values()) == {ledger.recorder.max_notification_id()}
    assert runner.error is None


@contextmanager
def failing_after_first_write(
    store: ProjectionStore, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> Iterator[None]:
    """Inline batches write their first upsert, then raise ``error``."""
    begin = store.inline_transaction

    @contextmanager
    def inline_transaction(connection: Any) -> Iterator[Any]:
        with begin(connection) as tx:
            upsert = tx.upsert

            def write_then_fail(table: Any, rows: Any) -> None:
                upsert(table, rows)
                raise error

            tx.upsert = write_then_fail  # type: ignore[method-assign]
            yield tx

    monkeypatch.setattr(store, "inline_transaction", inline_transaction)
    yield
    monkeypatch.undo()
