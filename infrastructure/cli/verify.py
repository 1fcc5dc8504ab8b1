"""``execledger verify``: check every hash chain, keyed seal and checkpoint of the ledger."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import typer
from execledger.infrastructure.cli.context import console, error_console, print_json, state_of
from execledger.infrastructure.cli.projections import refuses_writes
from execledger.infrastructure.database_url import DatabaseUrl
from execledger.infrastructure.read_model_check import OrderFigures, ReadModelReport, check_read_models
from execledger.infrastructure.sealing import (
    KEY_ENV,
    AuditKey,
    AuditKeyError,
    CheckpointFileError,
    SealTable,
    load_audit_key,
    read_checkpoint,
    write_checkpoint,
)
from execledger.infrastructure.verification import VerificationReport, verify_ledger
from execledger.projections import open_projections
from execledger.projections.errors import ProjectionStoreUnavailable


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
    key = load_audit_key(key_file=key_file)
    if (checkpoint is not None or seal) and key is None:
        option = "--checkpoint" if checkpoint is not None else "--seal"
        raise AuditKeyError(f"{option}: signing needs the audit key (${KEY_ENV} or --key-file)")
    if checkpoint is not None and checkpoint.exists():
        raise CheckpointFileError(
            f"--checkpoint {checkpoint}: the file exists; checkpoints are never overwritten"
        )
    previous = read_checkpoint(against) if against is not None else None
    figures: dict[UUID, OrderFigures] | None = {} if read_models else None
    with state_of(ctx).open_ledger(read_only=not seal) as ledger:
        seals = SealTable(ledger.recorder.datastore, create=seal)  # type: ignore[attr-defined]
        report = verify_ledger(ledger, key=key, against=previous, seals=seals, figures=figures)
        if report.ok and key is not None and (seal or checkpoint is not None):
            signed = report.head.signed(key)
            if seal:
                seals.add(signed)
            if checkpoint is not None:
                write_checkpoint(checkpoint, signed)
    rows = _check_rows(state_of(ctx).database, figures) if figures is not None else None
    if as_json:
        print_json({**report.as_json(), "read_models": None if rows is None else rows.as_json()})
    else:
        _print(report, key)
        if rows is not None:
            _print_rows(rows)
    if not report.ok or (rows is not None and rows.disagreements):
        raise typer.Exit(1)


def _check_rows(database: DatabaseUrl, figures: dict[UUID, OrderFigures]) -> ReadModelReport | None:
    """The read models' key figures against the events; None when the database is
    read-only (the read models cannot be brought up to date there, so not checked)."""
    try:
        store = open_projections(database)
    except ProjectionStoreUnavailable as error:
        if not refuses_writes(error):
            raise
        error_console.print("read models: not checked (the database is read-only)")
        return None
    try:
        return check_read_models(store, figures)
    finally:
        store.close()


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


def _print(report: VerificationReport, key: AuditKey | None) -> None:
    if report.ok:
        console.print(
            f"ledger verified: {report.orders_checked} orders, {report.events_checked} events, "
            f"every hash chain holds; {report.checkpoints_checked} checkpoint(s) hold"
        )
    else:
        first = report.broken[0]
        where = "the ledger" if first.order_id is None else f"order {first.order_id} version {first.version}"
        console.print(f"[bold red]BROKEN[/]: {where}: {first.reason} ({len(report.broken)} break(s))")
    if key is None:
        console.print("[yellow]not checked[/]: no audit key given, so the keyed seals were not checked")
    elif report.legacy_events:
        console.print(f"{report.legacy_events} event(s) predate keyed sealing (unkeyed chain version 1)")
    console.print(f"ledger root at position {report.head.position}: {report.head.root}")
