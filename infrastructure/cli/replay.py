"""``execledger replay [ORDER_ID] [--from T] [--to T]``: re-check every decision from its inputs."""

from __future__ import annotations

import typer
from execledger.infrastructure import use_cases
from execledger.infrastructure.auditing import LedgerReplay
from execledger.infrastructure.cli.context import console, print_json, print_table, state_of
from execledger.infrastructure.time_window import time_window
from rich.progress import Progress
from rich.table import Table


def replay(
    ctx: typer.Context,
    order_id: str | None = typer.Argument(
        None, help="One order: its id or a unique prefix, a client or broker order id (default: every order)."
    ),
    start: str | None = typer.Option(None, "--from", help="Orders requested at or after (ISO 8601)."),
    end: str | None = typer.Option(None, "--to", help="Orders requested before (ISO 8601)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Feed each decision's recorded inputs to the policy again; exit 1 if any differs."""
    window = time_window(start, end)
    show = not as_json and console.is_terminal
    with Progress(console=console, transient=True, disable=not show) as progress:
        task = progress.add_task("replaying", total=None, visible=False)

        def advance(at: int, total: int) -> None:
            progress.update(task, completed=at, total=total, visible=total > 10_000)

        result = use_cases.replay(state_of(ctx).settings, order_id, window=window, progress=advance)
    if as_json:
        print_json(result.as_json(with_checks=order_id is not None))
    else:
        _print(result, single=order_id is not None)
    if result.mismatches():
        raise typer.Exit(1)


def _print(result: LedgerReplay, *, single: bool) -> None:
    if single:
        table = Table("v", "decision", "recorded", "recomputed", "agrees")
        for replayed in result.orders.values():
            for check in replayed.checks:
                mark = "[green]yes[/]" if check.agrees else "[bold red]NO[/]"
                table.add_row(str(check.version), check.decision, check.recorded, check.replayed, mark)
        print_table(table)
    for m in result.mismatches():
        console.print(
            f"[bold red]DIFFERS[/]: order {m['order_id']} v{m['version']} {m['decision']}: "
            f"recorded {m['recorded']!r}, replay gives {m['recomputed']!r}"
        )
    others = result.other_versions()
    for other in others:
        console.print(
            f"[yellow]OTHER VERSION[/]: order {other['order_id']} was decided by policy "
            f"{other['policy_version']} (config schema {other['config_schema_version']}); "
            f"{len(other['differing_decisions'])} decision(s) differ from today's policy"
        )
    console.print(
        f"{result.decisions_checked} decisions of {len(result.orders)} order(s) checked; "
        f"{len(result.mismatches())} mismatch(es); {len(others)} order(s) of another policy version"
    )
