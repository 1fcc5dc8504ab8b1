"""The read models in the ledger's SQLite file: own connection, WAL, a busy timeout.

A batch runs under ``BEGIN IMMEDIATE``, so two runners (the engine's and a
``projections run``) take turns: the second sees the first's tracking and skips
what it already applied. Decimals are TEXT (exact), times ISO 8601 in UTC.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.sqlite import SQLiteApplicationRecorder
from execledger.projections import generation, poison
from execledger.projections.errors import ProjectionStoreUnavailable
from execledger.projections.generation import Generations, serving_generation
from execledger.projections.partition import bucket
from execledger.projections.projection import Projection, tables_of
from execledger.projections.schema import Kind, Row, Table
from execledger.projections.sqlite_codec import SQLiteCodec
from execledger.projections.sqlite_commits import CommitWatcher
from execledger.projections.store import TRACKING_TABLE_NAME, FoldRolledBack

BUSY_TIMEOUT_SECONDS = 30.0
CHUNK = 500
#: WAL pages between checkpoints: SQLite's default, and during a rebuild (~256 MB).
CHECKPOINT_PAGES = 1000
BULK_CHECKPOINT_PAGES = 65_536
#: The store connection's page cache, in KiB.
CACHE_KIB = 65_536

_TYPES = {
    Kind.TEXT: "TEXT",
    Kind.INT: "INTEGER",
    Kind.DECIMAL: "TEXT",
    Kind.BOOL: "INTEGER",
    Kind.TIME: "TEXT",
    Kind.JSON: "TEXT",
    Kind.UUID: "TEXT",
}


def _same_file(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def read_positions(connection: sqlite3.Connection) -> dict[str, int]:
    rows = connection.execute(f"SELECT name, position FROM {TRACKING_TABLE_NAME}")
    return {name: position for name, position in rows}


def read_generations(connection: sqlite3.Connection) -> dict[str, Generations]:
    rows = connection.execute(f"SELECT table_name, serving, building FROM {generation.TABLE.name}")
    return {name: Generations(serving, building) for name, serving, building in rows}


class SQLiteTransaction:
    """One batch on the store's connection, inside BEGIN IMMEDIATE (or on the ledger
    recorder's connection, inside its transaction: ``inline_transaction``)."""

    def __init__(self, store: SQLiteProjectionStore, connection: sqlite3.Connection | None = None) -> None:
        self._store = store
        self._connection = store.connection if connection is None else connection

    def positions(self, names: Sequence[str] | None = None) -> dict[str, int]:
        positions = read_positions(self._connection)
        return positions if names is None else {n: p for n, p in positions.items() if n in names}

    def load(self, table: Table, keys: Sequence[Any]) -> dict[Any, Row]:
        codec = self._store.codec(table)
        key = table.key[0]
        found: dict[Any, Row] = {}
        columns = ", ".join(codec.names)
        for start in range(0, len(keys), CHUNK):
            chunk = [codec.value(key, k) for k in keys[start : start + CHUNK]]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT {columns} FROM {table.name} WHERE {key} IN ({marks})"
            for row in codec.decode_rows(self._connection.execute(sql, chunk).fetchall()):
                found[row[key]] = row
        return found

    def upsert(self, table: Table, rows: Sequence[Row]) -> None:
        self._write("INSERT OR REPLACE", table, rows)

    def insert(self, table: Table, rows: Sequence[Row]) -> None:
        self._write("INSERT", table, rows)

    def set_position(self, name: str, position: int) -> None:
        self._connection.execute(
            f"INSERT OR REPLACE INTO {TRACKING_TABLE_NAME} (name, position) VALUES (?, ?)",
            (name, position),
        )

    def generations(self) -> dict[str, Generations]:
        return read_generations(self._connection)

    def set_generations(self, table_name: str, generations: Generations) -> None:
        self._connection.execute(
            f"INSERT OR REPLACE INTO {generation.TABLE.name} (table_name, serving, building) "
            "VALUES (?, ?, ?)",
            (table_name, *generations),
        )

    def create(self, table: Table, *, indexes: bool) -> None:
        self._store.create(table, indexes=indexes)

    def drop(self, table: Table) -> None:
        self._connection.execute(f"DROP TABLE IF EXISTS {table.name}")

    def rename(self, table: Table, name: str) -> None:
        self._connection.execute(f"ALTER TABLE {table.name} RENAME TO {name}")

    def forget(self, name: str) -> None:
        self._connection.execute(f"DELETE FROM {TRACKING_TABLE_NAME} WHERE name = ?", (name,))
        self._connection.execute(f"DELETE FROM {poison.TABLE.name} WHERE projection = ?", (name,))

    def _write(self, verb: str, table: Table, rows: Sequence[Row]) -> None:
        if not rows:
            return
        codec = self._store.codec(table)
        marks = ", ".join("?" * len(codec.names))
        sql = f"{verb} INTO {table.name} ({', '.join(codec.names)}) VALUES ({marks})"
        encoded = codec.encode_rows(rows)
        # In key order, consecutive inserts land on the same or the next B-tree pages.
        encoded.sort(key=codec.key_of)
        self._connection.executemany(sql, encoded)


class SQLiteProjectionStore:
    """Read models and tracking in one SQLite file (the ledger's)."""

    #: A value SQLite cannot store (an integer past 64 bits) or a key it rejects.
    refusals: tuple[type[BaseException], ...] = (OverflowError, sqlite3.IntegrityError, sqlite3.DataError)

    def __init__(self, path: str, busy_timeout_seconds: float = BUSY_TIMEOUT_SECONDS) -> None:
        if path == ":memory:" or path.startswith("file:"):
            raise ProjectionStoreUnavailable("projections need a SQLite file, not :memory:")
        try:
            self.connection = sqlite3.connect(
                path, timeout=busy_timeout_seconds, isolation_level=None, check_same_thread=False
            )
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute(f"PRAGMA busy_timeout={int(busy_timeout_seconds * 1000)}")
            self.connection.execute("PRAGMA synchronous=NORMAL")
            # A page cache big enough for a batch's writes to the read models (the default
            # 2 MB spills pages to the WAL mid-transaction); memory only, no durability change.
            self.connection.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        except sqlite3.Error as error:
            raise ProjectionStoreUnavailable(f"cannot open {path}: {error}") from error
        self.path = path
        self._busy_timeout = busy_timeout_seconds
        self._reader: sqlite3.Connection | None = None
        self._watcher: CommitWatcher | None = None
        self._reader_lock = threading.Lock()
        self._lock = threading.RLock()
        self._codecs: dict[int, tuple[Table, SQLiteCodec]] = {}

    def codec(self, table: Table) -> SQLiteCodec:
        """The table spec's codec (a query may pass a spec with fewer columns: its own codec)."""
        cached = self._codecs.get(id(table))
        if cached is None or cached[0] is not table:
            cached = self._codecs[id(table)] = (table, SQLiteCodec(table))
        return cached[1]

    def ensure(self, projections: Sequence[Projection]) -> None:
        with self.transaction():
            self.connection.execute(
                f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE_NAME} "
                "(name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
            )
            self.create(poison.TABLE)
            self.create(generation.TABLE)
            serving = self.read_generations()
            for projection in projections:
                at = generation.at(projection, serving_generation(projection, serving), serving=True)
                for table in tables_of(at):
                    self.create(table)
                self.connection.execute(
                    f"INSERT OR IGNORE INTO {TRACKING_TABLE_NAME} (name, position) VALUES (?, 0)",
                    (at.name,),
                )

    def index(self, tables: Sequence[Table]) -> None:
        with self.transaction():
            for table in tables:
                self.create(table)

    def read_generations(self) -> dict[str, Generations]:
        return read_generations(self.connection)

    def generations(self) -> dict[str, Generations]:
        with self._lock:
            return self.read_generations()

    @contextmanager
    def transaction(self) -> Iterator[SQLiteTransaction]:
        with self._lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield SQLiteTransaction(self)
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    @contextmanager
    def inline_transaction(self, connection: Any) -> Iterator[SQLiteTransaction]:
        """A batch on the recorder's connection to this file, inside its transaction, under
        a savepoint (``ProjectionStore.inline_transaction``)."""
        if not isinstance(connection, sqlite3.Connection) or not connection.in_transaction:
            raise TypeError("an inline batch needs a sqlite3 connection inside a transaction")
        connection.execute("SAVEPOINT read_models")
        try:
            yield SQLiteTransaction(self, connection)
        except Exception as error:
            connection.execute("ROLLBACK TO read_models")
            connection.execute("RELEASE read_models")
            raise FoldRolledBack(str(error)) from error
        connection.execute("RELEASE read_models")

    def read_positions(self) -> dict[str, int]:
        return read_positions(self.connection)

    def positions(self) -> dict[str, int]:
        with self._lock:
            return self.read_positions()

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
        clauses = [f"{name} = ?" for name in (where or {})]
        params = [codec.value(name, value) for name, value in (where or {}).items()]
        if any_of is not None:
            name, values = any_of
            if not values:
                return []
            clauses.append(f"{name} IN ({', '.join('?' * len(values))})")
            params.extend(codec.value(name, value) for value in values)
        if starting is not None:
            name, prefix = starting
            clauses.append(f"CAST({name} AS TEXT) LIKE ?")
            params.append(prefix + "%")
        sql = f"SELECT {', '.join(codec.names)} FROM {table.name}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if order_by:
            sql += " ORDER BY " + ", ".join(order_by)
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            return codec.decode_rows(self.connection.execute(sql, params).fetchall())

    @contextmanager
    def bulk_loading(self) -> Iterator[None]:
        """Checkpoint the WAL less often during a rebuild, and once at its end.

        ``wal_autocheckpoint`` only decides when committed pages are copied from the WAL
        into the database file; each batch's commit is as durable as before
        (``synchronous=NORMAL`` in WAL mode: atomic, never corrupting, the last commits
        may roll back on power loss). A rebuild rewrites the same index pages batch after
        batch; copying them every 1,000 pages cost about a fifth of a rebuild's time.
        """
        with self._lock:
            self.connection.execute(f"PRAGMA wal_autocheckpoint={BULK_CHECKPOINT_PAGES}")
        try:
            yield
        finally:
            with self._lock:
                self.connection.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
                self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def events_table_of(self, recorder: Any) -> str | None:
        """The ledger's events table, if the recorder keeps it in this store's file."""
        datastore = getattr(recorder, "datastore", None)
        table = getattr(recorder, "events_table_name", None)
        db_name = getattr(getattr(datastore, "pool", None), "db_name", None)
        if not isinstance(recorder, SQLiteApplicationRecorder) or not isinstance(table, str):
            return None
        if not isinstance(db_name, str) or not _same_file(db_name, self.path):
            return None
        return table

    def read_events(
        self, table: str, start: int, limit: int, partition: tuple[int, int] | None = None
    ) -> list[tuple[int, Any, int, str, bytes]]:
        """Stored events from ``start`` on, as the recorder's ``select_notifications`` reads
        them (a partition's: ``bucket`` as an SQL function, so no other row is fetched)."""
        columns = f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
        params: tuple[int, ...]
        if partition is None:
            sql, params = columns + "WHERE rowid>=? ORDER BY rowid LIMIT ?", (start, limit)
        else:
            sql = (
                columns + "WHERE rowid>=? AND execledger_bucket(originator_id) % ? = ? ORDER BY rowid LIMIT ?"
            )
            params = (start, partition[1], partition[0], limit)
        with self._reader_lock:  # its own connection: reads never wait for a batch's writes
            if self._reader is None:
                self._reader = sqlite3.connect(
                    self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
                )
                self._reader.create_function("execledger_bucket", 1, bucket, deterministic=True)
            return self._reader.execute(sql, params).fetchall()

    def wake_on_commits(self, recorder: Any, wake: Callable[[], None]) -> bool:
        """Call ``wake`` within milliseconds of any commit to the file by another connection
        (``sqlite_commits.CommitWatcher``: SQLite has no channel between processes), until
        ``close``."""
        if self._watcher is None:
            self._watcher = CommitWatcher(self.path, wake)
            self._watcher.start()
        return True

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        with self._lock:
            self.connection.close()
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def _has_primary_key(self, table: Table) -> bool:
        return any(row[5] for row in self.connection.execute(f"PRAGMA table_info({table.name})"))

    def create(self, table: Table, *, indexes: bool = True) -> None:
        """Create the table if missing, and (``indexes``) its missing indexes."""
        columns = [f"{c.name} {_TYPES[c.kind]}{'' if c.nullable else ' NOT NULL'}" for c in table.columns]
        if not table.append_only:
            columns.append(f"PRIMARY KEY ({', '.join(table.key)})")
        self.connection.execute(f"CREATE TABLE IF NOT EXISTS {table.name} ({', '.join(columns)})")
        if not indexes:
            return
        if table.append_only and not self._has_primary_key(table):  # (a table made before: kept)
            self.connection.execute(
                f"CREATE UNIQUE INDEX IF NOT EXISTS {table.key_index_name} "
                f"ON {table.name} ({', '.join(table.key)})"
            )
        for index in table.indexes:
            where = f" WHERE {index.where}" if index.where else ""
            self.connection.execute(
                f"CREATE INDEX IF NOT EXISTS {index.name} ON {table.name} ({', '.join(index.columns)}){where}"
            )
