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
from execledger.projections.projection import Projection, tables_of
from execledger.projections.schema import Kind, Row, Table
from execledger.projections.store import TRACKING_TABLE_NAME, FoldRolledBack
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row

#: Serialises DDL of concurrent processes (CREATE TABLE IF NOT EXISTS can race).
DDL_LOCK_KEY = 0x65786C70  # "exlp"
#: Up to this many rows, a table's rows are written by one statement per row, pipelined
#: (one round trip), instead of COPY through a staging table (three): a follower's batch
#: of one save is a few rows per table, a rebuild's thousands.
PIPELINED_ROWS = 64

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


class PostgresTransaction:
    """One batch inside a PostgreSQL transaction."""

    def __init__(
        self, store: PostgresProjectionStore, cursor: psycopg.Cursor[Any], *, copying: bool = True
    ) -> None:
        """``copying``: many rows go in by COPY (not inside a pipeline, which has no COPY:
        there every row is one pipelined statement)."""
        self._store = store
        self._cursor = cursor
        self._copying = copying
        self._staged: set[str] = set()
        self._moved: dict[str, int] = {}  # positions set, written together (``flush``)

    @property
    def staged(self) -> frozenset[str]:
        """The tables this transaction staged rows for (their staging tables exist)."""
        return frozenset(self._staged)

    def positions(self, names: Sequence[str] | None = None) -> dict[str, int]:
        self.flush()
        sql = f"SELECT name, position FROM {self._store.qualified(TRACKING_TABLE_NAME)}"
        if names is None:
            self._cursor.execute(sql + " FOR UPDATE")
        else:
            self._cursor.execute(sql + " WHERE name = ANY(%s) FOR UPDATE", (list(names),))
        return {name: position for name, position in self._cursor.fetchall()}

    def load(self, table: Table, keys: Sequence[Any]) -> dict[Any, Row]:
        codec = self._store.codec(table)
        key = table.key[0]
        self._cursor.execute(
            f"SELECT {', '.join(codec.names)} FROM {self._store.qualified(table.name)} WHERE {key} = ANY(%s)",
            (list(keys),),
        )
        rows = [codec.decode(values) for values in self._cursor.fetchall()]
        return {row[key]: row for row in rows}

    def upsert(self, table: Table, rows: Sequence[Row]) -> None:
        """COPY the rows into a session-local staging table, then one INSERT ... ON CONFLICT
        (a few rows: one pipelined INSERT ... ON CONFLICT each)."""
        if not rows:
            return
        names = ", ".join(table.column_names)
        others = [n for n in table.column_names if n not in table.key]
        updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in others)
        conflict = f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"
        if len(rows) <= PIPELINED_ROWS or not self._copying:
            self._insert_values(table, rows, conflict)
            return
        stage = f"pg_temp.stage_{table.name}"
        if table.name in self._staged:  # a second upsert into the table in this transaction
            self._cursor.execute(f"TRUNCATE {stage}")
        else:
            if table.name not in self._store.staging_tables:
                # Emptied by each commit (a truncate): a DELETE left dead rows that every
                # later batch scanned again, as temporary tables are never vacuumed. Made
                # once per connection (the store notes it once this transaction commits).
                self._cursor.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS stage_{table.name} "
                    f"(LIKE {self._store.qualified(table.name)}) ON COMMIT DELETE ROWS"
                )
            self._staged.add(table.name)
        self._copy(stage, table, rows)
        self._cursor.execute(
            f"INSERT INTO {self._store.qualified(table.name)} ({names}) "
            f"SELECT {names} FROM {stage} {conflict}"
        )

    def insert(self, table: Table, rows: Sequence[Row]) -> None:
        """COPY the rows in (a key already present fails the batch, as an INSERT would; a few
        rows: one pipelined INSERT each)."""
        if len(rows) > PIPELINED_ROWS and self._copying:
            self._copy(self._store.qualified(table.name), table, rows)
        elif rows:
            self._insert_values(table, rows, "")

    def set_position(self, name: str, position: int) -> None:
        """Noted, and written with the others at the next read of the positions or at commit."""
        self._moved[name] = position

    def flush(self) -> None:
        """Write the positions set since the last flush, in one pipelined round trip."""
        if self._moved:
            self._cursor.executemany(
                f"INSERT INTO {self._store.qualified(TRACKING_TABLE_NAME)} (name, position) "
                "VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
                list(self._moved.items()),
            )
            self._moved.clear()

    def generations(self) -> dict[str, Generations]:
        return self._store.read_generations(self._cursor)

    def set_generations(self, table_name: str, generations: Generations) -> None:
        self._cursor.execute(
            f"INSERT INTO {self._store.qualified(generation.TABLE.name)} (table_name, serving, building) "
            "VALUES (%s, %s, %s) ON CONFLICT (table_name) DO UPDATE "
            "SET serving = EXCLUDED.serving, building = EXCLUDED.building",
            (table_name, *generations),
        )

    def create(self, table: Table, *, indexes: bool) -> None:
        self._cursor.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
        self._store.create(self._cursor, table, indexes=indexes)

    def drop(self, table: Table) -> None:
        self._cursor.execute(f"DROP TABLE IF EXISTS {self._store.qualified(table.name)}")

    def rename(self, table: Table, name: str) -> None:
        self._cursor.execute(f"ALTER TABLE {self._store.qualified(table.name)} RENAME TO {name}")

    def forget(self, name: str) -> None:
        self.flush()  # a position set before is deleted with the rest, not written after
        self._cursor.execute(
            f"DELETE FROM {self._store.qualified(TRACKING_TABLE_NAME)} WHERE name = %s", (name,)
        )
        self._cursor.execute(
            f"DELETE FROM {self._store.qualified(poison.TABLE.name)} WHERE projection = %s", (name,)
        )

    def _insert_values(self, table: Table, rows: Sequence[Row], conflict: str) -> None:
        codec = self._store.codec(table)
        marks = ", ".join(["%s"] * len(codec.names))
        self._cursor.executemany(
            f"INSERT INTO {self._store.qualified(table.name)} ({', '.join(codec.names)}) "
            f"VALUES ({marks}) {conflict}",
            [codec.encode(row) for row in rows],
        )

    def _copy(self, target: str, table: Table, rows: Sequence[Row]) -> None:
        codec = self._store.codec(table)
        with self._cursor.copy(f"COPY {target} ({', '.join(codec.names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(codec.encode(row))


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
