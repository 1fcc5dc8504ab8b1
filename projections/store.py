"""The storage port of the read models: one interface, a SQLite and a PostgreSQL store.

A batch is one transaction: ``positions()`` locks the tracking rows, the runner loads
and writes rows, ``set_position`` advances the tracking, and the context manager
commits all of it together (or none of it, if anything raises).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from execledger.projections.generation import Generations
from execledger.projections.projection import Projection
from execledger.projections.schema import Row, Table

#: Tracking: one row per projection, the last notification id it has applied.
TRACKING_TABLE_NAME = "projection_tracking"


class FoldRolledBack(Exception):
    """A batch inside the ledger's transaction failed and was rolled back alone: the
    ledger's events still commit, the read models stay where they were."""


class BatchTransaction(Protocol):
    """What a batch of the runner does inside one transaction."""

    def generations(self) -> dict[str, Generations]:
        """Per table name, the serving and building generations (as of this transaction)."""
        ...

    def positions(self, names: Sequence[str] | None = None) -> dict[str, int]:
        """Each projection's tracked position (of ``names`` only, if given), locked until the
        transaction ends (PostgreSQL locks only those rows: runners of other projections,
        such as a rebuild's other process, go on beside it)."""
        ...

    def load(self, table: Table, keys: Sequence[Any]) -> dict[Any, Row]:
        """The rows of ``table`` (single-column key) whose key is in ``keys``."""
        ...

    def upsert(self, table: Table, rows: Sequence[Row]) -> None:
        """Insert the rows, replacing any with the same key."""
        ...

    def insert(self, table: Table, rows: Sequence[Row]) -> None:
        """Insert new rows (a key already present is an error)."""
        ...

    def set_position(self, name: str, position: int) -> None:
        """Advance the projection's tracked position."""
        ...


class StoreTransaction(BatchTransaction, Protocol):
    """What the runner may do inside one transaction: a batch, and a rebuild's changes of
    generations and tables."""

    def set_generations(self, table_name: str, generations: Generations) -> None:
        """Record the table's serving and building generations."""
        ...

    def create(self, table: Table, *, indexes: bool) -> None:
        """Create the table if missing (with its secondary indexes, or without: built later)."""
        ...

    def drop(self, table: Table) -> None:
        """Drop the table if it exists."""
        ...

    def rename(self, table: Table, name: str) -> None:
        """Rename the table (its indexes keep their names)."""
        ...

    def forget(self, name: str) -> None:
        """Delete a tracking name's position and its recorded errors."""
        ...


class ProjectionStore(Protocol):
    """The read-model tables and their tracking, in the ledger's own database."""

    #: Exceptions meaning the database refused a row's values (not that it is unavailable):
    #: the runner then sets the offending event aside as poison instead of stopping.
    refusals: tuple[type[BaseException], ...]

    def ensure(self, projections: Sequence[Projection]) -> None:
        """Create missing tables, indexes and tracking rows (idempotent)."""
        ...

    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """One batch: commit on a clean exit, roll back if the block raises."""
        ...

    def inline_transaction(self, connection: Any) -> AbstractContextManager[BatchTransaction]:
        """One batch inside a transaction the ledger's recorder has open on ``connection``
        (a connection to this same database), as a savepoint: kept if the block ends
        cleanly (committed, or not, with the ledger's events), rolled back alone if it
        raises, which then comes out as ``FoldRolledBack``; any other exception means the
        enclosing transaction cannot go on."""
        ...

    def positions(self) -> dict[str, int]:
        """Each projection's tracked position (0: nothing applied)."""
        ...

    def generations(self) -> dict[str, Generations]:
        """Per table name, the generation serving reads and the one being rebuilt."""
        ...

    def index(self, tables: Sequence[Table]) -> None:
        """Build the tables' missing indexes (a rebuild fills its tables first, then this)."""
        ...

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
        """Rows matching every ``where`` equality, (``any_of``) one of the values and
        (``starting``) whose column's text starts with the prefix (no LIKE wildcards in it)."""
        ...

    def close(self) -> None:
        """Release the connection (and stop listening, see ``wake_on_commits``)."""
        ...

    def wake_on_commits(self, recorder: Any, wake: Callable[[], None]) -> bool:
        """Call ``wake`` whenever a ledger, in any process, commits events through a recorder
        like ``recorder`` to this database, until ``close`` (PostgreSQL: LISTEN on the channel
        the library's recorder NOTIFYs in each insert; SQLite: the file's data version,
        checked every few milliseconds); False if the store cannot tell."""
        ...

    def bulk_loading(self) -> AbstractContextManager[None]:
        """Settings for a rebuild's run of batches, restored on exit.

        Only what leaves each batch's transaction atomic and crash-consistent may change
        (view changes and tracking stay in one transaction, so whatever a crash loses,
        it loses together, and the rebuild resumes from the tracked position).
        """
        ...

    def events_table_of(self, recorder: Any) -> str | None:
        """The ledger's events table if this store can read it directly, else None.

        The runner then reads stored events with ``read_events`` (same rows, same order
        as the recorder's ``select_notifications``, without building Notification
        objects); otherwise it asks the recorder.
        """
        ...

    def read_events(
        self, table: str, start: int, limit: int, partition: tuple[int, int] | None = None
    ) -> list[tuple[int, Any, int, str, bytes]]:
        """Up to ``limit`` stored events with notification id >= ``start``, in id order:
        (notification id, originator id, originator version, topic, state); with
        ``partition`` (number, of), only those of its orders (``partition.bucket``),
        chosen by the database, so a rebuild worker never fetches the others' states."""
        ...
