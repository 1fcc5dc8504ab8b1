"""Open the read-model store that lives beside the ledger the URL names."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from execledger.infrastructure.database_url import DatabaseUrl, parse_database_url
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.projections import ALL_PROJECTIONS, Projection, ProjectionStore


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
