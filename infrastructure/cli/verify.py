"""``execledger verify``: check every hash chain, keyed seal and checkpoint of the ledger."""

from __future__ import annotations

from pathlib import Path

import typer
from execledger.infrastructure import use_cases
from execledger.infrastructure.cli.context import console, print_json, state_of
from execledger.infrastructure.read_model_check import ReadModelReport
from execledger.infrastructure.sealing import KEY_ENV
from execledger.infrastructure.verification import VerificationReport
from rich.markup import escape


def verify(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    key_file: Path | None = typer.Option(
        None, "--key-file", help=f"Read the audit key from this file (default: ${KEY_ENV})."
    ),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="Write the ledger's signed checkpoint to this new file."
    ),
    against: Path | None = typer.Option(
        None, "--against", help="Prove the ledger still extends the checkpoint in this file."
    ),
    seal: bool = typer.Option(False, "--seal", help="Store the signed checkpoint in the ledger too."),
    read_models: bool = typer.Option(
        True, "--read-models/--no-read-models", help="Check the read models' key figures too."
    ),
) -> None:
    """Recompute every hash, link and seal; exit 1 naming the first break."""
    request = use_cases.VerifyRequest(key_file, checkpoint, against, seal, read_models)
    found = use_cases.verify(state_of(ctx).settings, request)
    report, rows = found.report, found.read_models
    if as_json:
        print_json({**report.as_json(), "read_models": None if rows is None else rows.as_json()})
    else:
        _print(report, keyed=found.keyed)
        if rows is not None:
            _print_rows(rows)
    if not found.ok:
        raise typer.Exit(1)


def _print_rows(rows: ReadModelReport) -> None:
    console.print(
        f"read models: {rows.rows_checked} row(s) agree with the events"
        f"{'' if not rows.rows_behind else f', {rows.rows_behind} behind'}"
    )
    for d in rows.disagreements:
        console.print(
            f"[bold red]DISAGREES[/]: {d.table} order {d.order_id} {d.column}: "
            f"row {d.row}, events give {d.events}"
        )
    for p in rows.projection_errors:
        where = f"order {p['order_id']} version {p['version']} (position {p['position']})"
        console.print(
            f"[bold red]POISON[/]: {escape(where)} set aside by {p['projection']}: {escape(str(p['error']))}",
            soft_wrap=True,
        )


def _print(report: VerificationReport, *, keyed: bool) -> None:
    if report.ok:
        console.print(
            f"ledger verified: {report.orders_checked} orders, {report.events_checked} events, "
            f"every hash chain holds; {report.checkpoints_checked} checkpoint(s) hold"
        )
    else:
        first = report.broken[0]
        where = "the ledger" if first.order_id is None else f"order {first.order_id} version {first.version}"
        console.print(f"[bold red]BROKEN[/]: {where}: {first.reason} ({len(report.broken)} break(s))")
    if not keyed:
        console.print("[yellow]not checked[/]: no audit key given, so the keyed seals were not checked")
    elif report.legacy_events:
        console.print(f"{report.legacy_events} event(s) predate keyed sealing (unkeyed chain version 1)")
    console.print(f"ledger root at position {report.head.position}: {report.head.root}")
