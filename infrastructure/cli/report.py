"""``execledger report``: execution quality, best execution (json, csv, html) and the
CAT-shaped order-events report (csv, jsonl)."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

import typer
from execledger.domain.order_events import OrderEvent
from execledger.infrastructure.cli.context import state_of
from execledger.infrastructure.cli.orders import quality
from execledger.infrastructure.cli.projections import current_read_models
from execledger.infrastructure.ledger import Ledger, as_order_id
from execledger.infrastructure.sealing import load_audit_key
from execledger.infrastructure.time_window import BadArgument, TimeWindow, time_window
from execledger.infrastructure.verification import verify_ledger
from execledger.projections import ProjectionStore, execution_quality, order_status
from execledger.projections.reports import best_execution as be
from execledger.projections.reports.order_events import FIELDS, OrderEventRecords

report_app = typer.Typer(
    name="report",
    help="Reports built from the read models and the events.",
    no_args_is_help=True,
)
report_app.command("execution-quality")(quality)
report_app.command("quality", hidden=True)(quality)

_STATUS = replace(
    order_status.TABLE,
    columns=tuple(c for c in order_status.TABLE.columns if c.name in ("order_id", "status")),
)


@report_app.command("best-execution")
def best_execution(
    ctx: typer.Context,
    start: str | None = typer.Option(None, "--from", help="Orders requested at or after (ISO 8601)."),
    end: str | None = typer.Option(None, "--to", help="Orders requested before (ISO 8601)."),
    fmt: str = typer.Option("json", "--format", help="json, csv or html."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file (default: stdout)."),
    check_chains: bool = typer.Option(True, "--verify/--no-verify", help="Verify the hash chains first."),
) -> None:
    """Per-order execution quality and Rule 605-style aggregates; states whether the chains held."""
    window = time_window(start, end)
    if fmt not in ("json", "csv", "html"):
        raise BadArgument(f"--format: must be json, csv or html, not {fmt!r}")
    _check_writable(out)
    report = build_best_execution(ctx, window, check_chains)
    with _output(out) as sink:
        if fmt == "json":
            sink.write(json.dumps(report, indent=2) + "\n")
        elif fmt == "csv":
            writer = csv.DictWriter(sink, fieldnames=be.ORDER_KEYS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(report["orders"])
        else:
            from execledger.infrastructure.report_html import render_html  # plotly loads slowly: only here

            sink.write(render_html(report))


def build_best_execution(ctx: typer.Context, window: TimeWindow, check_chains: bool) -> dict[str, Any]:
    """The best-execution report as JSON-ready data, from read models caught up first."""
    with current_read_models(ctx) as store, state_of(ctx).open_ledger() as ledger:
        return best_execution_report(ledger, store, window, check_chains=check_chains)


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


@report_app.command("order-events")
def order_events(
    ctx: typer.Context,
    start: str | None = typer.Option(None, "--from", help="Events at or after (ISO 8601)."),
    end: str | None = typer.Option(None, "--to", help="Events before (ISO 8601)."),
    fmt: str = typer.Option("csv", "--format", help="csv or jsonl."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file (default: stdout)."),
) -> None:
    """One CAT-shaped record per lifecycle event (MENO, MEOR, MEOM, MEOC, MEOT, MEOF, MEOJ)."""
    window = time_window(start, end)
    if fmt not in ("csv", "jsonl"):
        raise BadArgument(f"--format: must be csv or jsonl, not {fmt!r}")
    _check_writable(out)
    with state_of(ctx).open_ledger() as ledger, _output(out) as sink:
        writer = csv.DictWriter(sink, fieldnames=FIELDS) if fmt == "csv" else None
        if writer is not None:
            writer.writeheader()
        builders: dict[UUID, OrderEventRecords] = {}
        for notification in ledger.notifications():
            event = ledger.mapper.to_domain_event(notification)
            if not isinstance(event, OrderEvent):
                continue
            builder = builders.setdefault(as_order_id(notification.originator_id), OrderEventRecords())
            for record in builder.records(event):
                if not window.holds(event.occurred_at):
                    continue
                ready = {
                    k: None if v is None else str(v) if not isinstance(v, (bool, int)) else v
                    for k, v in record.items()
                }
                if writer is not None:
                    writer.writerow(ready)
                else:
                    sink.write(json.dumps(ready) + "\n")


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, int, str)) else str(value)


def _check_writable(out: Path | None) -> None:
    """Refuse an --out that cannot be written before any work (nothing is written then)."""
    if out is None:
        return
    target = out if out.exists() else out.parent
    if out.is_dir() or not out.parent.is_dir() or not os.access(target, os.W_OK):
        raise BadArgument(f"--out: cannot write {out}")


@contextmanager
def _output(out: Path | None) -> Iterator[TextIO]:
    if out is None:
        yield sys.stdout
        return
    try:
        sink = out.open("w", encoding="utf-8", newline="")
    except OSError as error:
        raise BadArgument(f"--out: cannot write {out}: {error.strerror or error}") from None
    with sink:
        yield sink
