"""The read models beside the ledger: open their store, and follow the ledger in-process."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import structlog
from execledger.infrastructure.database_url import DatabaseUrl, parse_database_url
from execledger.infrastructure.ledger import Ledger, SaveListener, open_ledger
from execledger.projections import ALL_PROJECTIONS, Projection, ProjectionRunner, ProjectionStore
from execledger.projections.runner import FOLD_WAIT_SECONDS

log = structlog.get_logger(__name__)


def open_projections(
    url: str | DatabaseUrl, projections: tuple[Projection, ...] = ALL_PROJECTIONS
) -> ProjectionStore:
    """The store in the ledger's database (SQLite file or PostgreSQL schema), tables ensured."""
    database = url if isinstance(url, DatabaseUrl) else parse_database_url(url)
    store: ProjectionStore
    if database.is_sqlite:
        from execledger.projections.store_sqlite import SQLiteProjectionStore

        store = SQLiteProjectionStore(database.env["SQLITE_DBNAME"])
    else:
        from execledger.projections.store_postgres import PostgresProjectionStore

        store = PostgresProjectionStore(database.postgres_connection, database.schema)
    store.ensure(projections)
    return store


@contextmanager
def ledger_and_projections(url: str | DatabaseUrl) -> Iterator[tuple[Ledger, ProjectionStore]]:
    """The ledger and its read models on one database, closed on exit (what a rebuild's
    worker process opens: ``functools.partial`` of this crosses to it)."""
    with open_ledger(url) as ledger:
        store = open_projections(url)
        try:
            yield ledger, store
        finally:
            store.close()


@contextmanager
def following_projections(
    ledger: Ledger,
    database: DatabaseUrl,
    *,
    poll_interval_seconds: float,
    fold_wait_seconds: float = FOLD_WAIT_SECONDS,
) -> Iterator[ProjectionRunner]:
    """The read models follow the ledger while the engine works: each save's events are
    folded into them inside the save's own transaction (``Ledger.fold_in_saves``; else, or
    if that fold fails, right after it commits, in the saving thread:
    ``catch_up_after_save``), and a background thread applies events other processes
    commit. On exit the runner stops and catches up, so the read models hold every event."""
    store = open_projections(database)
    runner = ProjectionRunner(ledger, store, fold_wait_seconds=fold_wait_seconds)
    runner.start_in_background(poll_interval_seconds=poll_interval_seconds)
    listener = catch_up_after_save(runner)
    ledger.add_save_listener(listener)
    if store.events_table_of(ledger.recorder) is not None:  # the read models share its database
        ledger.fold_in_saves(runner)
    try:
        yield runner
    finally:
        ledger.fold_in_saves(None)
        ledger.remove_save_listener(listener)
        runner.stop()
        try:
            runner.catch_up()
        finally:
            store.close()


def catch_up_after_save(runner: ProjectionRunner) -> SaveListener:
    """The ledger's save listener for an in-process follower: apply the save's events at once,
    in the saving thread and from memory (``ProjectionRunner.apply_saved``), so the read
    models trail a save by the time it takes to fold and write its events, not by a thread
    switch, a poll, or reading them back (a catch-up the background thread has under way is
    waited for: it then has the CPU to itself).

    The save has committed already, so a failure here must not fail it: the first is
    logged, and from then on saves only wake the background follower, which meets the
    same error and keeps it for the session's closing catch-up to raise.
    """
    failed = False

    def listener(saved: Sequence[tuple[int, object]]) -> None:
        nonlocal failed
        if failed:
            runner.wake()
            return
        try:
            runner.apply_saved(saved)
        except Exception as error:
            failed = True
            log.warning("projections.catch_up_failed", error=str(error))
            runner.wake()

    return listener
