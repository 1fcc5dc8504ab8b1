"""The ledger: an eventsourcing Application holding every SmartOrder."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import psycopg
import structlog
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    Notification,
    PersistenceError,
    RecordConflictError,
    Recording,
    Transcoder,
)
from eventsourcing.utils import Environment
from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import IdempotencyConflict
from execledger.domain.ids import order_id_for
from execledger.domain.order import SmartOrder
from execledger.domain.order_events import OrderEvent
from execledger.domain.requests import OrderRequest
from execledger.domain.topics import REQUESTED_TOPICS
from execledger.infrastructure.database_url import DatabaseUrl, parse_database_url
from execledger.infrastructure.errors import (
    ConcurrentUpdate,
    DatabaseUnavailable,
    LedgerNotFound,
    OrderNotFound,
    is_missing_table,
)
from execledger.infrastructure.idempotency import conflict
from execledger.infrastructure.ledger_recorders import (
    DOMAIN_EVENTS,
    FoldingRecorder,
    SaveFolder,
    recorder_topics,
)
from execledger.infrastructure.sealing import AuditKey, SealingMapper, load_audit_key
from execledger.infrastructure.transcodings import register_ledger_transcodings

log = structlog.get_logger(__name__)

#: Called after a save with (notification id, domain event) of each event it recorded.
SaveListener = Callable[[Sequence[tuple[int, object]]], None]

PAGE_SIZE = 500
#: New orders saved per transaction by ``submit_many``.
SUBMIT_BATCH = 1000
#: PostgreSQL advisory lock key held while the ledger's and read models' tables are created.
TABLE_CREATION_LOCK = 7_303_734_251_902


class LedgerTranscoder(JSONTranscoder):
    """JSON transcoder that also tags str-based enums with their registered transcoding.

    ``json`` writes a ``str`` subclass (``Side(str, Enum)``) as a plain string and never
    calls the transcoder's ``default`` hook, so without this the enums came back as str.
    """

    def encode(self, obj: Any) -> bytes:
        return super().encode(self._tag_enums(obj))

    def _tag_enums(self, obj: Any) -> Any:
        if isinstance(obj, Enum) and type(obj) in self.types:
            return self._encode_obj(obj)
        if isinstance(obj, dict):
            return {key: self._tag_enums(value) for key, value in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self._tag_enums(value) for value in obj]
        return obj


class Ledger(Application[UUID]):
    """Every smart order, as its events; the write side of execledger."""

    name = "execledger"

    def __init__(self, env: Mapping[str, str] | None = None, audit_key: AuditKey | None = None) -> None:
        #: Seals every stored event with a MAC when given (infrastructure.sealing).
        self.audit_key = audit_key
        self._save_listeners: list[SaveListener] = []
        super().__init__(env)

    def construct_env(self, name: str, env: Mapping[str, str] | None = None) -> Environment:
        """The library's environment, with the folding recorders (``ledger_recorders``) as
        the application recorders unless the environment names others."""
        environment = super().construct_env(name, env)
        module = environment.get("PERSISTENCE_MODULE", "")
        if environment.get("APPLICATION_RECORDER_TOPIC") is None:
            for persistence_module, topic in recorder_topics():
                if module == persistence_module:
                    environment["APPLICATION_RECORDER_TOPIC"] = topic
        return environment

    def fold_in_saves(self, folder: SaveFolder | None) -> None:
        """Fold each save's events into the read models inside the save's own transaction,
        with ``folder`` (the in-process follower; None: stop). A recorder the environment
        named instead cannot: its saves are applied after their commit, by the save listeners."""
        if isinstance(self.recorder, FoldingRecorder):
            self.recorder.folder = folder

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """The library's, handing the recorder the domain events too (a folding recorder
        folds them, as they are in memory, into the read models)."""
        processing_event.saved_kwargs[DOMAIN_EVENTS] = processing_event.events
        return super()._record(processing_event)

    def construct_mapper(self) -> Mapper[UUID]:
        return SealingMapper(super().construct_mapper(), self.audit_key)

    def construct_transcoder(self) -> Transcoder:
        transcoder = LedgerTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_ledger_transcodings(transcoder)

    def submit(
        self, request: OrderRequest, config: ExecutionConfig, occurred_at: datetime
    ) -> tuple[SmartOrder, bool]:
        """Create the order for ``request``, or return the existing one (and False).

        Raises IdempotencyConflict when the request's key already names an order that
        asked for something else (``idempotency.check_batch`` finds it before a batch).
        """
        order_id = order_id_for(request.account, request.effective_idempotency_key())
        if order_id in self.repository:
            return self._same(request, self.order(order_id)), False
        order = SmartOrder.request(request, config, occurred_at)
        try:
            self.save(order)
        except RecordConflictError:
            return self._same(request, self.order(order_id)), False
        return order, True

    @staticmethod
    def _same(request: OrderRequest, order: SmartOrder) -> SmartOrder:
        reason = conflict(request, order)
        if reason:
            raise IdempotencyConflict(reason)
        return order

    def submit_many(
        self, requests: Sequence[OrderRequest], config: ExecutionConfig, occurred_at: datetime
    ) -> list[tuple[SmartOrder, bool]]:
        """``submit`` for a batch: the new orders are saved together, ``SUBMIT_BATCH`` per
        transaction (one commit, not one per order); a batch another writer raced is
        submitted again one request at a time."""
        outcomes: list[tuple[SmartOrder, bool]] = []
        for start in range(0, len(requests), SUBMIT_BATCH):
            batch = requests[start : start + SUBMIT_BATCH]
            found: dict[UUID, tuple[SmartOrder, bool]] = {}
            for request in batch:
                order_id = order_id_for(request.account, request.effective_idempotency_key())
                if order_id in found:
                    self._same(request, found[order_id][0])
                    continue
                try:  # one read: ``in self.repository`` would load the order once more
                    existing = self.order(order_id)
                except OrderNotFound:
                    existing = None
                if existing is not None:
                    found[order_id] = (self._same(request, existing), False)
                else:
                    found[order_id] = (SmartOrder.request(request, config, occurred_at), True)
            created = [order for order, new in found.values() if new]
            try:
                if created:
                    self.save(*created)
            except RecordConflictError:
                outcomes.extend(self.submit(request, config, occurred_at) for request in batch)
                continue
            for request in batch:
                order, new = found[order_id_for(request.account, request.effective_idempotency_key())]
                outcomes.append((order, new))
                found[order.id] = (order, False)  # the same request twice: created once
        return outcomes

    def order(self, order_id: UUID) -> SmartOrder:
        """The order as of its last event."""
        try:
            order: object = self.repository.get(order_id)
        except AggregateNotFoundError:
            raise OrderNotFound(f"no order {order_id}") from None
        assert isinstance(order, SmartOrder)
        return order

    def add_save_listener(self, listener: SaveListener) -> None:
        """Call ``listener`` after each save that recorded events, with each recorded event and
        its notification id (the in-process read-model follower applies them at once)."""
        self._save_listeners.append(listener)

    def remove_save_listener(self, listener: SaveListener) -> None:
        """Stop calling ``listener`` after saves."""
        self._save_listeners.remove(listener)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        """The library's hook, called after each save has committed its events: tell the
        followers in this process (those in others on PostgreSQL heard the NOTIFY that the
        library's recorder sends inside each insert)."""
        if recordings:
            saved = [(r.notification.id, r.domain_event) for r in recordings]
            for listener in tuple(self._save_listeners):
                listener(saved)

    def save_order(self, order: SmartOrder) -> int | None:
        """Append the order's pending events; returns the last notification id."""
        try:
            recordings = self.save(order)
        except RecordConflictError as error:
            raise ConcurrentUpdate(f"order {order.id} was changed by another writer") from error
        return recordings[-1].notification.id if recordings else None

    def order_ids(self) -> Iterator[UUID]:
        """Every order id, in the order the orders were requested."""
        for notification in self.notifications(topics=REQUESTED_TOPICS):
            yield as_order_id(notification.originator_id)

    def notifications(self, start: int = 1, topics: tuple[str, ...] = ()) -> Iterator[Notification]:
        """Every stored event from ``start`` on, in notification order, page by page."""
        position = start
        while True:
            page = self.recorder.select_notifications(position, PAGE_SIZE, topics=topics)
            yield from page
            if len(page) < PAGE_SIZE:
                return
            position = page[-1].id + 1

    def decode_state(self, stored_state: bytes) -> dict[str, Any]:
        """A stored event's fields as written (no upcasting), for the hash check."""
        if self.mapper.cipher is not None:
            stored_state = self.mapper.cipher.decrypt(stored_state)
        if self.mapper.compressor is not None:
            stored_state = self.mapper.compressor.decompress(stored_state)
        state = self.mapper.transcoder.decode(stored_state)
        assert isinstance(state, dict)
        return state

    def events_of(self, order_id: UUID) -> list[OrderEvent]:
        """The order's events, in version order."""
        return [e for e in self.events.get(order_id) if isinstance(e, OrderEvent)]


def as_order_id(originator_id: UUID | str) -> UUID:
    """A stored originator id as a UUID (the recorders give UUIDs; text ids are parsed)."""
    return originator_id if isinstance(originator_id, UUID) else UUID(originator_id)


def open_ledger(
    url: str | DatabaseUrl,
    extra_env: Mapping[str, str] | None = None,
    audit_key: AuditKey | None = None,
    *,
    read_only: bool = False,
) -> Ledger:
    """Open the ledger the URL names: for writing (creating its file and tables if
    needed), or ``read_only`` for the commands that only read (see ``_read_only_env``).

    Events are sealed with ``audit_key``, else with the key the environment names
    (``EXECLEDGER_AUDIT_KEY`` or ``EXECLEDGER_AUDIT_KEY_FILE``), else left unkeyed.
    """
    database = url if isinstance(url, DatabaseUrl) else parse_database_url(url)
    env = {**database.env, **(extra_env or {})}
    key = audit_key or load_audit_key()
    try:
        if read_only:
            ledger = Ledger(env=_read_only_env(database, env), audit_key=key)
            _require_tables(ledger, database)
            return ledger
        if database.sqlite_path is not None:
            database.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        with creating_tables_alone(database):
            return Ledger(env=env, audit_key=key)
    except (PersistenceError, psycopg.Error, sqlite3.Error, OSError) as error:
        raise DatabaseUnavailable(
            f"cannot open the ledger at {database.redacted}: {_first_line(error)}"
        ) from error


def _read_only_env(database: DatabaseUrl, env: dict[str, str]) -> dict[str, str]:
    """The environment that opens the ledger without creating or changing anything.

    No table is created (``CREATE_TABLE``); a SQLite file must exist and is opened with
    ``mode=ro``, or ``immutable=1`` when its folder is not writable (a read-only mount,
    where SQLite could not create the WAL's shared-memory file; nobody writes there).
    """
    read_only = {**env, "CREATE_TABLE": "false"}
    path = database.sqlite_path
    if path is None:
        return read_only
    if not path.is_file():
        raise LedgerNotFound(f"no ledger at {database.redacted}")
    mode = "mode=ro" if os.access(path.parent, os.W_OK) else "immutable=1"
    read_only["SQLITE_DBNAME"] = f"{path.as_uri()}?{mode}"
    return read_only


def _require_tables(ledger: Ledger, database: DatabaseUrl) -> None:
    """Raise LedgerNotFound when the ledger's events table does not exist."""
    try:
        ledger.recorder.max_notification_id()
    except (PersistenceError, psycopg.Error, sqlite3.Error) as error:
        if is_missing_table(error):
            ledger.close()
            raise LedgerNotFound(f"no ledger at {database.redacted}") from None
        raise


@contextmanager
def creating_tables_alone(database: DatabaseUrl) -> Iterator[None]:
    """Serialise table creation between processes (a PostgreSQL advisory lock).

    Processes opening a fresh PostgreSQL schema at once would race to create the same
    tables ("tuple concurrently updated"); SQLite serialises writers by itself.
    """
    if database.is_sqlite:
        yield
        return
    with psycopg.connect(**database.postgres_connection, autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (TABLE_CREATION_LOCK,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (TABLE_CREATION_LOCK,))


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
