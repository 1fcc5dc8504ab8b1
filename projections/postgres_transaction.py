"""One batch of the read models inside a PostgreSQL transaction (``PostgresTransaction``),
for ``store_postgres.PostgresProjectionStore``: rows loaded, upserted and inserted, tracking
positions written together."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from execledger.projections import generation, poison
from execledger.projections.generation import Generations
from execledger.projections.schema import Row, Table
from execledger.projections.store import TRACKING_TABLE_NAME

if TYPE_CHECKING:
    from execledger.projections.store_postgres import PostgresProjectionStore

#: Serialises DDL of concurrent processes (CREATE TABLE IF NOT EXISTS can race).
DDL_LOCK_KEY = 0x65786C70  # "exlp"
#: Up to this many rows, a table's rows are written by one statement per row, pipelined
#: (one round trip), instead of COPY through a staging table (three): a follower's batch
#: of one save is a few rows per table, a rebuild's thousands.
PIPELINED_ROWS = 64


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
