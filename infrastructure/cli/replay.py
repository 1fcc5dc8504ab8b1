"""``execledger replay [ORDER_ID]``: re-derive every decision from its recorded inputs."""

from __future__ import annotations

from uuid import UUID

import typer
from execledger.infrastructure import use_cases
from execledger.infrastructure.cli.context import console, print_json, state_of
from execledger.infrastructure.use_cases import ReplayReport
from rich.table import Table


def replay(
    ctx: typer.Context,
    order_id: str | None = typer.Argument(None, help="One order's id (default: every order)."),
    as_json: bool = typer.Option(False, "--json", help="Print every check as JSON."),
) -> None:
    """Feed each decision's recorded inputs to the policy again; exit 1 if any differs."""
    report = use_cases.replay(state_of(ctx).settings, _order_id(order_id) if order_id else None)
    if as_json:
        print_json(report.as_json())
    else:
        _print(report)
    if report.disagreements:
        raise typer.Exit(1)


def _print(report: ReplayReport) -> None:
    checks, disagreements = report.checks, report.disagreements
    if len(checks) == 1:
        table = Table("v", "decision", "recorded", "replayed", "agrees")
        for check in next(iter(checks.values())):
            mark = "[green]yes[/]" if check.agrees else "[bold red]NO[/]"
            table.add_row(str(check.version), check.decision, check.recorded, check.replayed, mark)
        console.print(table)
    for oid, check in disagreements:
        console.print(
            f"[bold red]DIFFERS[/]: order {oid} v{check.version} {check.decision}: "
            f"recorded {check.recorded!r}, replay gives {check.replayed!r}"
        )
    console.print(
        f"{report.decisions} decisions of {len(checks)} order(s) replayed; {len(disagreements)} differ"
    )


def _order_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise typer.BadParameter("must be an order id (a UUID)", param_hint="ORDER_ID") from None
