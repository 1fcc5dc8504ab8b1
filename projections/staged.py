"""A batch that reads and folds outside the write transaction, then writes in a short one.

A worker of a partitioned rebuild is the only writer of its rows (its partition's orders
in the generation being built) and of its tracking row, so it need not hold the write
lock while it loads and folds: SQLite has one writer at a time, and workers holding it
through their folds would only take turns. The batch reads the tracking and the rows
as committed, folds, and then, in one transaction, checks that the generations and its
tracked positions are still the ones it read (else ``Moved``: nothing is written, the
batch is read again) and writes. Same rows, same atomicity: the writes and the tracking
commit together.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from execledger.projections.generation import Generations
from execledger.projections.schema import Row, Table
from execledger.projections.store import BatchTransaction, ProjectionStore

#: Keys per query when loading rows.
CHUNK = 500


class Moved(Exception):
    """The generations or tracked positions changed under a batch: read it again."""


class StagedTransaction:
    """Reads as committed now; upserts, inserts and positions kept for ``commit``."""

    def __init__(self, store: ProjectionStore) -> None:
        self._store = store
        self._generations: dict[str, Generations] | None = None
        self._positions: dict[str, int] = {}
        self._names: list[str] = []
        self._writes: list[tuple[str, Any, Any]] = []

    def generations(self) -> dict[str, Generations]:
        self._generations = self._store.generations()
        return self._generations

    def positions(self, names: Sequence[str] | None = None) -> dict[str, int]:
        positions = self._store.positions()
        chosen = positions if names is None else {n: p for n, p in positions.items() if n in names}
        self._names.extend(positions if names is None else names)
        self._positions.update(chosen)
        return chosen

    def load(self, table: Table, keys: Sequence[Any]) -> dict[Any, Row]:
        key = table.key[0]
        found: dict[Any, Row] = {}
        for start in range(0, len(keys), CHUNK):
            for row in self._store.select(table, any_of=(key, keys[start : start + CHUNK])):
                found[row[key]] = row
        return found

    def upsert(self, table: Table, rows: Sequence[Row]) -> None:
        if rows:
            self._writes.append(("upsert", table, rows))

    def insert(self, table: Table, rows: Sequence[Row]) -> None:
        if rows:
            self._writes.append(("insert", table, rows))

    def set_position(self, name: str, position: int) -> None:
        self._writes.append(("position", name, position))

    def commit(self) -> None:
        """Write everything in one transaction, if nothing moved since it was read."""
        if not self._writes:
            return
        with self._store.transaction() as tx:
            if self._generations is not None and tx.generations() != self._generations:
                raise Moved
            if tx.positions(self._names) != self._positions:
                raise Moved
            for kind, target, value in self._writes:
                if kind == "upsert":
                    tx.upsert(target, value)
                elif kind == "insert":
                    tx.insert(target, value)
                else:
                    tx.set_position(target, value)


@contextmanager
def staged(store: ProjectionStore) -> Iterator[BatchTransaction]:
    """A staged batch on ``store``: committed on a clean exit, dropped if the block raises."""
    tx = StagedTransaction(store)
    yield tx
    tx.commit()
