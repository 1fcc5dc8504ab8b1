"""The ledger's recorders: eventsourcing's own, able to fold a save into the read models
inside the same transaction that inserts its events.

With the read models in the ledger's database, an in-process follower (``execute``'s)
can fold the events of a save before the insert commits: the read models then commit
with the events, or not at all, and trail this process's saves by nothing. Folding is
offered by the follower (``Ledger.fold_in_saves``); the recorder calls it once it knows
the events' notification ids, on its own connection and inside its transaction, which
is exactly what a projection needs to be exact. Without a follower the recorders are the
library's.

A fold that fails is rolled back alone (a savepoint) and the save commits; the follower
then applies the events after the commit, as it would without folding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic

#: The keyword under which ``Ledger._record`` hands the recorder the domain events it saves.
DOMAIN_EVENTS = "saved_domain_events"
_FOLD = "fold_into_read_models"

#: Folds (notification id, domain event) pairs on the recorder's connection, mid-transaction.
Fold = Callable[[Any, Sequence[tuple[int, Any]]], None]


class SaveFolder(Protocol):
    """What folds saves inline (``projections.ProjectionRunner`` is one)."""

    def folding_in_saves(self) -> AbstractContextManager[Fold | None]: ...


class FoldingRecorder:
    """Mixin over an eventsourcing application recorder: ``folder``, when set, folds each
    insert's events inside its transaction."""

    folder: SaveFolder | None = None

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        folder = self.folder
        if folder is None or not kwargs.get(DOMAIN_EVENTS):
            return super().insert_events(stored_events, **kwargs)  # type: ignore[misc, no-any-return]
        with folder.folding_in_saves() as fold:  # exits after the commit (or the rollback)
            return super().insert_events(stored_events, **kwargs, **{_FOLD: fold})  # type: ignore[misc, no-any-return]


def fold_inserted(connection: Any, ids: Sequence[int] | None, kwargs: dict[str, Any]) -> None:
    """Call the insert's fold, if it has one, with the events and their notification ids."""
    fold: Fold | None = kwargs.get(_FOLD)
    events = kwargs.get(DOMAIN_EVENTS)
    if fold is not None and ids and events and len(ids) == len(events):
        fold(connection, list(zip(ids, events, strict=True)))


class FoldingSQLiteRecorder(FoldingRecorder, SQLiteApplicationRecorder):
    """eventsourcing's SQLite application recorder, folding inline when asked."""

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        fold_inserted(c.sqlite_cursor.connection, ids, kwargs)
        return ids


class FoldingPostgresRecorder(FoldingRecorder, PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL application recorder, folding inline when asked (after the
    ids are fetched: the table lock and the NOTIFY are already in the transaction)."""

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        fold_inserted(curs.connection, ids, kwargs)
        return ids


def recorder_topics() -> Iterator[tuple[str, str]]:
    """(persistence module, application recorder topic) of each folding recorder."""
    yield "eventsourcing.sqlite", get_topic(FoldingSQLiteRecorder)
    yield "eventsourcing.postgres", get_topic(FoldingPostgresRecorder)
