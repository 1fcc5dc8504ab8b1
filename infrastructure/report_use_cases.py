"""The reports' use cases (part of the application API, re-exported by ``use_cases``):
the best-execution report and the CAT-shaped order-event records."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from uuid import UUID

from execledger.domain.order_events import OrderEvent
from execledger.infrastructure.ledger import Ledger, as_order_id, open_ledger
from execledger.infrastructure.read_models import open_projections
from execledger.infrastructure.sealing import load_audit_key
from execledger.infrastructure.settings import Settings
from execledger.infrastructure.time_window import TimeWindow
from execledger.infrastructure.verification import verify_ledger
from execledger.projections import ProjectionRunner, ProjectionStore, execution_quality, order_status
from execledger.projections.reports import best_execution as be
from execledger.projections.reports.order_events import OrderEventRecords

_STATUS = replace(
    order_status.TABLE,
    columns=tuple(c for c in order_status.TABLE.columns if c.name in ("order_id", "status")),
)


def best_execution(settings: Settings, window: TimeWindow, *, check_chains: bool = True) -> dict[str, Any]:
    """The best-execution report as JSON-ready data, from read models caught up first."""
    with open_ledger(settings.database) as ledger:
        store = open_projections(settings.database)
        try:
            ProjectionRunner(ledger, store).catch_up()
            return best_execution_report(ledger, store, window, check_chains=check_chains)
        finally:
            store.close()


def best_execution_report(
    ledger: Ledger, store: ProjectionStore, window: TimeWindow, *, check_chains: bool
) -> dict[str, Any]:
    """The report over ``store``'s rows (orders requested in ``window``), with the verdict
    of ``verify`` on ``ledger`` (with the audit key when the environment has one)."""
    chains: dict[str, Any] = {"verified": None, "keys_checked": False, "events_checked": 0, "breaks": 0}
    rows = store.select(execution_quality.TABLE, order_by=("requested_at", "order_id"))
    statuses: dict[UUID, str] = {r["order_id"]: r["status"] for r in store.select(_STATUS)}
    rows = [r for r in rows if window.holds(r["requested_at"])]
    position = ledger.recorder.max_notification_id() or 0
    if check_chains:
        verified = verify_ledger(ledger, key=load_audit_key())
        chains = {
            "verified": verified.ok,
            "keys_checked": verified.keys_checked,
            "events_checked": verified.events_checked,
            "breaks": len(verified.broken),
        }
    report = be.as_json(be.best_execution(rows, statuses))
    return {**report, "window": window.as_json(), "chains": chains, "ledger_position": position}


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
