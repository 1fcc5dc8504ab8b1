"""``reconcile --venue alpaca-paper|alpaca-live``: the ledger brought up to Alpaca's truth."""

from __future__ import annotations

from dataclasses import asdict

import typer
from execledger.infrastructure import use_cases
from execledger.infrastructure.alpaca.settings import AlpacaEnvironment
from execledger.infrastructure.cli.context import console, print_json, state_of
from execledger.infrastructure.engine.reconciliation import ReconcileReport

VENUES = {"alpaca-paper": AlpacaEnvironment.PAPER, "alpaca-live": AlpacaEnvironment.LIVE}


def environment_of(venue: str) -> AlpacaEnvironment:
    """The Alpaca environment a ``--venue`` names."""
    if venue not in VENUES:
        raise typer.BadParameter(f"one of {', '.join(VENUES)}; got {venue!r}", param_hint="--venue")
    return VENUES[venue]


def reconcile_command(
    ctx: typer.Context,
    venue: str = typer.Option(..., "--venue", help="alpaca-paper or alpaca-live."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Append what the broker did to every open order; report broker orders we never sent
    and orders a running execute holds (those are its to settle). Sends nothing; exit 0
    when every lookup answered, 1 when some stayed unknown."""
    report = use_cases.reconcile_with_alpaca(state_of(ctx).settings, environment_of(venue))
    _print(report, as_json)
    if not report.clean:
        raise typer.Exit(1)


def _print(report: ReconcileReport, as_json: bool) -> None:
    if as_json:
        print_json({**asdict(report), "clean": report.clean})
        return
    console.print(
        f"reconciled {report.orders_checked} open orders ({report.lookups} lookups): "
        f"{len(report.appended)} facts appended, {len(report.unresolved)} unresolved, "
        f"{len(report.unknown_at_broker)} broker orders the ledger never sent, "
        f"{len(report.held)} held by a running execute (not touched)"
    )
    for title, lines in (
        ("appended", report.appended),
        ("unresolved", report.unresolved),
        ("unknown at the broker (not touched)", report.unknown_at_broker),
        ("held by another process (not touched)", report.held),
    ):
        for line in lines:
            console.print(f"  {title}: {line}")
