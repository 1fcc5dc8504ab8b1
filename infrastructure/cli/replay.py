"""``execledger replay [ORDER_ID]``: re-derive every decision from its recorded inputs."""

from __future__ import annotations

from uuid import UUID

import typer
from execledger.domain.replay import DecisionCheck, replay_decisions
from execledger.infrastructure.cli.context import console, print_json, state_of
from rich.table import Table


def replay(
    ctx: typer.Context,
    order_id: str | None = typer.Argument(None, help="One order's id (default: every order)."),
    as_json: bool = typer.Option(False, "--json", help="Print every check as JSON."),
) -> None:
    """Feed each decision's recorded inputs to the policy again; exit 1 if any differs."""
    with state_of(ctx).open_ledger() as ledger:
        ids = [_order_id(order_id)] if order_id else list(ledger.order_ids())
        checks = {oid: replay_decisions(ledger.events_of(ledger.order(oid).id)) for oid in ids}
    disagreements = [(oid, c) for oid, found in checks.items() for c in found if not c.agrees]
    total = sum(len(found) for found in checks.values())
    if as_json:
        print_json(
            {
                "orders": len(checks),
                "decisions": total,
                "disagreements": len(disagreements),
                "checks": [
                    {"order_id": str(oid), **c.as_json()} for oid, found in checks.items() for c in found
                ],
            }
        )
    else:
        _print(checks, disagreements, total)
    if disagreements:
        raise typer.Exit(1)


def _print(
    checks: dict[UUID, list[DecisionCheck]], disagreements: list[tuple[UUID, DecisionCheck]], total: int
) -> None:
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
    console.print(f"{total} decisions of {len(checks)} order(s) replayed; {len(disagreements)} differ")


def _order_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise typer.BadParameter("must be an order id (a UUID)", param_hint="ORDER_ID") from None
