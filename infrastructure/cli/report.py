"""``execledger report``: execution quality, best execution (json, csv, html) and the
CAT-shaped order-events report (csv, jsonl)."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import typer
from execledger.infrastructure import use_cases
from execledger.infrastructure.chain_statement import ChainCheck
from execledger.infrastructure.cli.context import state_of
from execledger.infrastructure.cli.orders import quality
from execledger.infrastructure.errors import BadArgument
from execledger.infrastructure.time_window import time_window
from execledger.projections.reports import best_execution as be
from execledger.projections.reports.order_events import FIELDS

report_app = typer.Typer(
    name="report",
    help="Reports built from the read models and the events.",
    no_args_is_help=True,
)
report_app.command("execution-quality")(quality)
report_app.command("quality", hidden=True)(quality)


@report_app.command("best-execution")
def best_execution(
    ctx: typer.Context,
    start: str | None = typer.Option(None, "--from", help="Orders requested at or after (ISO 8601)."),
    end: str | None = typer.Option(None, "--to", help="Orders requested before (ISO 8601)."),
    fmt: str = typer.Option("json", "--format", help="json, csv or html."),
    out: Path | None = typer.Option(None, "--out", help="Write to this file (default: stdout)."),
    check_chains: bool = typer.Option(True, "--verify/--no-verify", help="Check the hash chains."),
    full: bool = typer.Option(
        False, "--full-verify", help="Re-verify every event, not only those after the latest seal."
    ),
) -> None:
    """Per-order execution quality and Rule 605-style aggregates; states whether the chains held."""
    window = time_window(start, end)
    if fmt not in ("json", "csv", "html"):
        raise BadArgument(f"--format: must be json, csv or html, not {fmt!r}")
    _check_writable(out)
    chains: ChainCheck = ("full" if full else "since-seal") if check_chains else "none"
    report = use_cases.best_execution(state_of(ctx).settings, window, chains=chains)
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
    with _output(out) as sink:
        writer = csv.DictWriter(sink, fieldnames=FIELDS) if fmt == "csv" else None
        if writer is not None:
            writer.writeheader()
        for record in use_cases.order_event_records(state_of(ctx).settings, window):
            ready = {k: _plain(v) for k, v in record.items()}
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
