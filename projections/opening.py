"""Open the read-model store that lives beside the ledger the URL names."""

from __future__ import annotations

from execledger.infrastructure.database_url import DatabaseUrl, parse_database_url
from execledger.projections.projection import Projection
from execledger.projections.registry import ALL_PROJECTIONS
from execledger.projections.store import ProjectionStore


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

        env = database.env
        conninfo = {
            "host": env["POSTGRES_HOST"],
            "port": int(env["POSTGRES_PORT"]),
            "dbname": env["POSTGRES_DBNAME"],
            "user": env["POSTGRES_USER"],
            "password": env["POSTGRES_PASSWORD"],
            "connect_timeout": int(env.get("POSTGRES_CONNECT_TIMEOUT", "5")),
        }
        store = PostgresProjectionStore(conninfo, database.schema)
    store.ensure(projections)
    return store
