"""The read models in the ledger's SQLite file: own connection, WAL, a busy timeout.

A batch runs under ``BEGIN IMMEDIATE``, so two runners (the engine's and a
``projections run``) take turns: the second sees the first's tracking and skips
what it already applied. Decimals are TEXT (exact), times ISO 8601 in UTC.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any
from uuid import UUID

from projections.errors import ProjectionStoreUnavailable
from projections.projection import Projection, tables_of
from projections.schema import Kind, Row, Table
from projections.store import TRACKING_TABLE_NAME

BUSY_TIMEOUT_SECONDS = 30.0
CHUNK = 500

_TYPES = {
    Kind.TEXT: "TEXT", Kind.INT: "INTEGER", Kind.DECIMAL: "TEXT", Kind.BOOL: "INTEGER",
    Kind.TIME: "TEXT", Kind.JSON: "TEXT", Kind.UUID: "TEXT",
}  # fmt: skip


def _time_out(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def _json_out(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


_OUT: dict[Kind, Callable[[Any], Any]] = {
    Kind.DECIMAL: str, Kind.BOOL: int, Kind.TIME: _time_out, Kind.JSON: _json_out, Kind.UUID: str,
}  # fmt: skip
_IN: dict[Kind, Callable[[Any], Any]] = {
    Kind.DECIMAL: Decimal, Kind.BOOL: bool, Kind.TIME: datetime.fromisoformat,
    Kind.JSON: json.loads, Kind.UUID: UUID,
}  # fmt: skip


class _Codec:
    """Row <-> SQLite values for one table; only columns that need it are converted."""

    def __init__(self, table: Table) -> None:
        self.names = table.column_names
        self.kinds = {column.name: column.kind for column in table.columns}
        self.getter = itemgetter(*self.names)
        self.out = [(i, _OUT[c.kind]) for i, c in enumerate(table.columns) if c.kind in _OUT]
        self.into = [(c.name, _IN[c.kind]) for c in table.columns if c.kind in _IN]

    def encode(self, row: Row) -> list[Any]:
        values = list(self.getter(row))
        for i, convert in self.out:
            value = values[i]
            if value is not None:
                values[i] = convert(value)
        return values

    def decode(self, values: Sequence[Any]) -> Row:
        row = dict(zip(self.names, values, strict=True))
        for name, convert in self.into:
            value = row[name]
            if value is not None:
                row[name] = convert(value)
        return row

    def value(self, name: str, value: Any) -> Any:
        convert = _OUT.get(self.kinds[name])
        return value if value is None or convert is None else convert(value)


class SQLiteTransaction:
    """One batch on the store's connection, inside BEGIN IMMEDIATE."""

    def __init__(self, store: SQLiteProjectionStore) -> None:
        self._store = store
        self._connection = store.connection

    def positions(self) -> dict[str, int]:
        return self._store.read_positions()

    def load(self, table: Table, keys: Sequence[Any]) -> dict[Any, Row]:
        codec = self._store.codec(table)
        key = table.key[0]
        found: dict[Any, Row] = {}
        columns = ", ".join(codec.names)
        for start in range(0, len(keys), CHUNK):
            chunk = [codec.value(key, k) for k in keys[start : start + CHUNK]]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT {columns} FROM {table.name} WHERE {key} IN ({marks})"
            for values in self._connection.execute(sql, chunk):
                row = codec.decode(values)
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

    def _write(self, verb: str, table: Table, rows: Sequence[Row]) -> None:
        if not rows:
            return
        codec = self._store.codec(table)
        marks = ", ".join("?" * len(codec.names))
        sql = f"{verb} INTO {table.name} ({', '.join(codec.names)}) VALUES ({marks})"
        self._connection.executemany(sql, [codec.encode(row) for row in rows])


class SQLiteProjectionStore:
    """Read models and tracking in one SQLite file (the ledger's)."""

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
        except sqlite3.Error as error:
            raise ProjectionStoreUnavailable(f"cannot open {path}: {error}") from error
        self._lock = threading.RLock()
        self._codecs: dict[str, _Codec] = {}

    def codec(self, table: Table) -> _Codec:
        codec = self._codecs.get(table.name)
        if codec is None:
            codec = self._codecs[table.name] = _Codec(table)
        return codec

    def ensure(self, projections: Sequence[Projection]) -> None:
        with self.transaction():
            self.connection.execute(
                f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE_NAME} "
                "(name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
            )
            for projection in projections:
                for table in tables_of(projection):
                    self._create(table)
                self.connection.execute(
                    f"INSERT OR IGNORE INTO {TRACKING_TABLE_NAME} (name, position) VALUES (?, 0)",
                    (projection.name,),
                )

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

    def read_positions(self) -> dict[str, int]:
        rows = self.connection.execute(f"SELECT name, position FROM {TRACKING_TABLE_NAME}")
        return {name: position for name, position in rows}

    def positions(self) -> dict[str, int]:
        with self._lock:
            return self.read_positions()

    def reset(self, projections: Sequence[Projection]) -> None:
        with self.transaction() as tx:
            for projection in projections:
                for table in tables_of(projection):
                    self.connection.execute(f"DROP TABLE IF EXISTS {table.name}")
                    self._create(table)
                tx.set_position(projection.name, 0)

    def select(
        self,
        table: Table,
        where: Mapping[str, Any] | None = None,
        *,
        any_of: tuple[str, Sequence[Any]] | None = None,
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
        sql = f"SELECT {', '.join(codec.names)} FROM {table.name}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        if order_by:
            sql += " ORDER BY " + ", ".join(order_by)
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            return [codec.decode(values) for values in self.connection.execute(sql, params)]

    def close(self) -> None:
        with self._lock:
            self.connection.close()

    def _create(self, table: Table) -> None:
        columns = [f"{c.name} {_TYPES[c.kind]}{'' if c.nullable else ' NOT NULL'}" for c in table.columns]
        columns.append(f"PRIMARY KEY ({', '.join(table.key)})")
        self.connection.execute(f"CREATE TABLE IF NOT EXISTS {table.name} ({', '.join(columns)})")
        for index in table.indexes:
            where = f" WHERE {index.where}" if index.where else ""
            self.connection.execute(
                f"CREATE INDEX IF NOT EXISTS {index.name} ON {table.name} ({', '.join(index.columns)}){where}"
            )
