"""The read models in the ledger's PostgreSQL database (and schema), through psycopg 3.

A batch locks the tracking rows (``SELECT ... FOR UPDATE``), so concurrent runners
serialise and none applies an event twice. Decimals are NUMERIC (exact), times
TIMESTAMPTZ read back in UTC.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder
from execledger.projections import generation, poison
from execledger.projections.errors import ProjectionStoreUnavailable
from execledger.projections.generation import Generations, serving_generation
from execledger.projections.postgres_codec import PostgresCodec
from execledger.projections.postgres_commits import CommitListener
from execledger.projections.postgres_transaction import DDL_LOCK_KEY, PostgresTransaction
from execledger.projections.projection import Projection, tables_of
from execledger.projections.schema import Kind, Row, Table
from execledger.projections.store import TRACKING_TABLE_NAME, FoldRolledBack
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row

#: ``partition.bucket`` of a UUID originator id in SQL: its last 8 hex digits as a number.
_BUCKET = "('x' || right(originator_id::text, 8))::bit(32)::bigint"

_TYPES = {
    Kind.TEXT: "TEXT",
    Kind.INT: "BIGINT",
    Kind.DECIMAL: "NUMERIC",
    Kind.BOOL: "BOOLEAN",
    Kind.TIME: "TIMESTAMPTZ",
    Kind.JSON: "TEXT",
    Kind.UUID: "UUID",
}


class PostgresProjectionStore:
    """Read models and tracking in the ledger's PostgreSQL database and schema."""

    #: A value PostgreSQL refuses (a NUL in text, a number out of range) or a key it rejects.
    refusals: tuple[type[BaseException], ...] = (psycopg.DataError, psycopg.IntegrityError)

    def __init__(self, conninfo: Mapping[str, Any], schema: str = "") -> None:
        try:
            self.connection = psycopg.connect(**conninfo, autocommit=True)
            self.connection.execute("SET TIME ZONE 'UTC'")
        except psycopg.Error as error:
            raise ProjectionStoreUnavailable(f"cannot connect to PostgreSQL: {error}") from error
        self.schema = schema
        self._conninfo = dict(conninfo)
        self._listener: CommitListener | None = None
        #: Staging tables this connection has created (temporary: they live as long as it).
        self.staging_tables: set[str] = set()
        self._lock = threading.RLock()
        self._codecs: dict[int, tuple[Table, PostgresCodec]] = {}

    def qualified(self, name: str) -> str:
        return f'"{self.schema}".{name}' if self.schema else name

    def codec(self, table: Table) -> PostgresCodec:
        """The table spec's codec (a query may pass a spec with fewer columns: its own codec)."""
        cached = self._codecs.get(id(table))
        if cached is None or cached[0] is not table:
            cached = self._codecs[id(table)] = (table, PostgresCodec(table))
        return cached[1]

    @contextmanager
    def transaction(self) -> Iterator[PostgresTransaction]:
        with self._lock:
            with self.connection.transaction(), self.connection.cursor() as cursor:
                tx = PostgresTransaction(self, cursor)
                yield tx
                tx.flush()
            self.staging_tables.update(tx.staged)  # committed: they exist for the session

    @contextmanager
    def inline_transaction(self, connection: Any) -> Iterator[PostgresTransaction]:
        """A batch on the recorder's connection, inside its (pipelined) transaction, under a
        savepoint (``ProjectionStore.inline_transaction``)."""
        if not isinstance(connection, psycopg.Connection):
            raise TypeError("an inline batch needs a psycopg connection")
        try:
            with connection.transaction(), connection.cursor(row_factory=tuple_row) as cursor:
                tx = PostgresTransaction(self, cursor, copying=False)
                yield tx
                tx.flush()
        except Exception as error:
            if connection.info.transaction_status == TransactionStatus.INERROR:
                raise  # the savepoint's rollback failed: the ledger's transaction cannot commit
            raise FoldRolledBack(str(error)) from error

    def ensure(self, projections: Sequence[Projection]) -> None:
        with self.transaction() as tx:
            cursor = tx._cursor
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
            if self.schema:
                cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.qualified(TRACKING_TABLE_NAME)} "
                "(name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            self.create(cursor, poison.TABLE)
            self.create(cursor, generation.TABLE)
            serving = self.read_generations(cursor)
            for projection in projections:
                at = generation.at(projection, serving_generation(projection, serving), serving=True)
                for table in tables_of(at):
                    self.create(cursor, table)
                cursor.execute(
                    f"INSERT INTO {self.qualified(TRACKING_TABLE_NAME)} (name, position) "
                    "VALUES (%s, 0) ON CONFLICT (name) DO NOTHING",
                    (at.name,),
                )

    def index(self, tables: Sequence[Table]) -> None:
        with self.transaction() as tx:
            for table in tables:
                tx.create(table, indexes=True)

    def read_generations(self, cursor: psycopg.Cursor[Any]) -> dict[str, Generations]:
        cursor.execute(f"SELECT table_name, serving, building FROM {self.qualified(generation.TABLE.name)}")
        return {name: Generations(serving, building) for name, serving, building in cursor.fetchall()}

    def generations(self) -> dict[str, Generations]:
        with self._lock, self.connection.cursor() as cursor:
            return self.read_generations(cursor)

    @contextmanager
    def bulk_loading(self) -> Iterator[None]:
        """Commit a rebuild's batches without waiting for the WAL flush.

        ``synchronous_commit=off`` never breaks atomicity or consistency: a crash may
        lose the last few commits, each whole (view changes and tracking together), and
        the rebuild resumes from the position that did persist.
        """
        with self._lock:
            self.connection.execute("SET synchronous_commit = off")
        try:
            yield
        finally:
            with self._lock:
                self.connection.execute("SET synchronous_commit = on")

    def positions(self) -> dict[str, int]:
        with self._lock, self.connection.cursor() as cursor:
            cursor.execute(f"SELECT name, position FROM {self.qualified(TRACKING_TABLE_NAME)}")
            return {name: position for name, position in cursor.fetchall()}

    def select(
        self,
        table: Table,
        where: Mapping[str, Any] | None = None,
        *,
        any_of: tuple[str, Sequence[Any]] | None = None,
        starting: tuple[str, str] | None = None,
        order_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> list[Row]:
        codec = self.codec(table)
        clauses = [f"{name} = %s" for name in (where or {})]
        params: list[Any] = [codec.value(name, value) for name, value in (where or {}).items()]
        if any_of is not None:
            name, values = any_of
            clauses.append(f"{name} = ANY(%s)")
            params.append([codec.value(name, value) for value in values])
        if starting is not None:
            name, prefix = starting
            clauses.append(f"{name}::text LIKE %s")
            params.append(prefix + "%")
        sql = f"SELECT {', '.join(codec.names)} FROM {self.qualified(table.name)}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if order_by:
            sql += " ORDER BY " + ", ".join(order_by)
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock, self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [codec.decode(values) for values in cursor.fetchall()]

    def events_table_of(self, recorder: Any) -> str | None:
        """The ledger's events table, if the recorder keeps it in this store's schema."""
        table = getattr(recorder, "events_table_name", None)
        schema = getattr(getattr(recorder, "datastore", None), "schema", None)
        if not isinstance(recorder, PostgresApplicationRecorder) or not isinstance(table, str):
            return None
        if schema != (self.schema or "public"):
            return None
        return f'"{schema}"."{table}"'

    def read_events(
        self, table: str, start: int, limit: int, partition: tuple[int, int] | None = None
    ) -> list[tuple[int, Any, int, str, bytes]]:
        """Stored events from ``start`` on, as the recorder's ``select_notifications`` reads
        them (a partition's: ``partition.bucket`` computed by the server, the UUID's last
        32 bits, so no other row crosses the connection)."""
        where, params = "notification_id>=%s", [start]
        if partition is not None:
            where += f" AND {_BUCKET} %% %s = %s"
            params += [partition[1], partition[0]]
        with self._lock, self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                f"FROM {table} WHERE {where} ORDER BY notification_id LIMIT %s",
                (*params, limit),
            )
            return cursor.fetchall()

    def wake_on_commits(self, recorder: Any, wake: Callable[[], None]) -> bool:
        """LISTEN, on a connection of its own, on the channel eventsourcing's recorder NOTIFYs
        inside each insert (``postgres_commits.CommitListener``), calling ``wake`` for each
        notification, until ``close``. The channel is named for the events table, not its
        schema: a ledger of the same name in another schema of the database wakes the
        follower too, which then finds nothing new."""
        if not isinstance(recorder, PostgresApplicationRecorder):
            return False
        if self._listener is None:
            self._listener = CommitListener(self._conninfo, recorder.channel_name, wake)
            self._listener.start()
        return True

    def close(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        with self._lock:
            self.connection.close()

    def _has_primary_key(self, cursor: psycopg.Cursor[Any], table: Table) -> bool:
        cursor.execute(
            "SELECT 1 FROM pg_index WHERE indrelid = %s::regclass AND indisprimary",
            (self.qualified(table.name),),
        )
        return cursor.fetchone() is not None

    def create(self, cursor: psycopg.Cursor[Any], table: Table, *, indexes: bool = True) -> None:
        """Create the table if missing, and (``indexes``) its missing indexes."""
        columns = [f"{c.name} {_TYPES[c.kind]}{'' if c.nullable else ' NOT NULL'}" for c in table.columns]
        if not table.append_only:
            columns.append(f"PRIMARY KEY ({', '.join(table.key)})")
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.qualified(table.name)} ({', '.join(columns)})")
        if not indexes:
            return
        if table.append_only and not self._has_primary_key(cursor, table):  # (a table made before)
            cursor.execute(
                f"CREATE UNIQUE INDEX IF NOT EXISTS {table.key_index_name} "
                f"ON {self.qualified(table.name)} ({', '.join(table.key)})"
            )
        for index in table.indexes:
            where = f" WHERE {index.where}" if index.where else ""
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {index.name} ON {self.qualified(table.name)} "
                f"({', '.join(index.columns)}){where}"
            )
