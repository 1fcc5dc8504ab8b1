"""``execledger verify``: check every order's hash chain."""

from __future__ import annotations

import typer
from execledger.infrastructure import use_cases
from execledger.infrastructure.cli.context import console, print_json, state_of


def verify(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Recompute every event's hash and every link; exit 1 naming the first broken link."""
    report = use_cases.verify(state_of(ctx).settings)
    if as_json:
        print_json(report.as_json())
    elif report.ok:
        console.print(
            f"ledger verified: {report.orders_checked} orders, "
            f"{report.events_checked} events, every hash chain holds"
        )
    else:
        first = report.broken[0]
        console.print(
            f"[bold red]BROKEN[/]: order {first.order_id} version {first.version}: "
            f"{first.reason} ({len(report.broken)} order(s) broken)"
        )
    if not report.ok:
        raise typer.Exit(1)
