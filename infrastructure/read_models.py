"""Open the read-model store that lives beside the ledger the URL names."""

from __future__ import annotations

from execledger.infrastructure.database_url import DatabaseUrl, parse_database_url
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
