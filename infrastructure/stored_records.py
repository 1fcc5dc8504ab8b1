"""The ledger's stored records read straight from its table, in notification order.

verify and the report's incremental check read every stored record's bytes and nothing
else; building the library's Notification objects (and a UUID per record) cost a sixth of
verify's time. Here the same rows, in the same order as the recorder's
``select_notifications``, come as tuples in large pages, with the originator id as text
(SQLite keeps it as hex, PostgreSQL is asked for its text form). Any other recorder is read
through the library.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from execledger.infrastructure.ledger import Ledger
from psycopg import sql

PAGE = 5_000


#: (notification id, originator id as text, originator version, topic, state)
StoredRecord = tuple[int, str, int, str, bytes]


def stored_records(ledger: Ledger, start: int = 1) -> Iterator[StoredRecord]:
    """Every stored record from notification id ``start`` on, page by page."""
    query = _query(ledger.recorder)
    if query is None:
        for n in ledger.notifications(start):
            yield n.id, str(n.originator_id), n.originator_version, n.topic, n.state
        return
    datastore: Any = ledger.recorder.datastore  # type: ignore[attr-defined]
    position = start
    while True:
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(query, (position, PAGE))
            page: list[Any] = cursor.fetchall()
        if page and isinstance(page[0], Mapping):
            page = [tuple(row.values()) for row in page]
        yield from page
        if len(page) < PAGE:
            return
        position = page[-1][0] + 1


def _query(recorder: Any) -> Any:
    """The page query for ``recorder``'s table, or None to read through the library."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return (
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE rowid>=? ORDER BY rowid LIMIT ?"
        )
    if isinstance(recorder, PostgresApplicationRecorder):
        schema = getattr(recorder.datastore, "schema", "") or "public"
        return sql.SQL(
            "SELECT notification_id, originator_id::text, originator_version, topic, state "
            "FROM {}.{} WHERE notification_id>=%s ORDER BY notification_id LIMIT %s"
        ).format(sql.Identifier(schema), sql.Identifier(recorder.events_table_name))
    return None
