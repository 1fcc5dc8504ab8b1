"""The reports' use cases (part of the application API, re-exported by ``use_cases``):
the best-execution report and the CAT-shaped order-event records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from uuid import UUID

from execledger.domain.order_events import OrderEvent
from execledger.infrastructure.chain_statement import ChainCheck, chain_statement
from execledger.infrastructure.ledger import Ledger, as_order_id, open_ledger
from execledger.infrastructure.read_models import open_projections
from execledger.infrastructure.sealing import load_audit_key
from execledger.infrastructure.settings import Settings
from execledger.infrastructure.time_window import TimeWindow
from execledger.projections import ProjectionRunner, ProjectionStore, execution_quality, order_status
from execledger.projections.reports import best_execution as be
from execledger.projections.reports.order_events import OrderEventRecords
from execledger.projections.schema import Kind, Row, Table


def _as_stored(table: Table, keep: frozenset[str] | tuple[str, ...]) -> Table:
    """``table`` narrowed to ``keep``, its ids and decimals read as stored (text in SQLite:
    the report shows them as text, so they are not turned into objects and back)."""
    plain = (Kind.DECIMAL, Kind.UUID)
    return replace(
        table,
        columns=tuple(
            replace(c, kind=Kind.TEXT) if c.kind in plain else c for c in table.columns if c.name in keep
        ),
    )


_STATUS = _as_stored(order_status.TABLE, ("order_id", "status"))
#: The execution_quality columns the report reads (the fold's working columns are left out).
_QUALITY = _as_stored(execution_quality.TABLE, be.READ_COLUMNS)


def best_execution(
    settings: Settings, window: TimeWindow, *, chains: ChainCheck = "since-seal"
) -> dict[str, Any]:
    """The best-execution report as JSON-ready data, from read models caught up first."""
    with open_ledger(settings.database) as ledger:
        store = open_projections(settings.database)
        try:
            ProjectionRunner(ledger, store).catch_up()
            return best_execution_report(ledger, store, window, chains=chains)
        finally:
            store.close()


def best_execution_report(
    ledger: Ledger, store: ProjectionStore, window: TimeWindow, *, chains: ChainCheck = "since-seal"
) -> dict[str, Any]:
    """The report over ``store``'s rows (orders requested in ``window``), with what the hash
    chains' check found (infrastructure.chain_statement; the audit key from the environment)."""
    position = ledger.recorder.max_notification_id() or 0
    rows = store.select(_QUALITY)
    statuses: dict[Any, str] = {r["order_id"]: r["status"] for r in store.select(_STATUS)}
    if window.start is not None or window.end is not None:
        rows = [r for r in rows if window.holds(r["requested_at"])]
    rows.sort(key=_requested_order)  # here, not in SQL: no index serves it, and this is faster
    report = be.as_json(be.best_execution(rows, statuses))
    statement = chain_statement(ledger, load_audit_key(), chains)
    return {**report, "window": window.as_json(), "chains": statement, "ledger_position": position}


def _requested_order(row: Row) -> tuple[Any, str]:
    return row["requested_at"], str(row["order_id"])


def order_event_records(settings: Settings, window: TimeWindow) -> Iterator[dict[str, Any]]:
    """Every CAT-shaped record of an event whose business time lies in ``window``, in
    notification order (the log is streamed once)."""
    with open_ledger(settings.database) as ledger:
        builders: dict[UUID, OrderEventRecords] = {}
        for notification in ledger.notifications():
            event = ledger.mapper.to_domain_event(notification)
            if not isinstance(event, OrderEvent):
                continue
            builder = builders.setdefault(as_order_id(notification.originator_id), OrderEventRecords())
            for record in builder.records(event):
                if window.holds(event.occurred_at):
                    yield record
