"""``execledger projections run | rebuild [NAME] | status``: the read models' runner."""

from __future__ import annotations

import typer
from execledger.infrastructure import use_cases
from execledger.infrastructure.cli.context import console, error_console, print_json, print_table, state_of
from execledger.projections import NAMES
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

projections_app = typer.Typer(
    name="projections",
    help="Follow, rebuild and inspect the read models (order status, timeline, quality).",
    no_args_is_help=True,
)


@projections_app.command("run")
def run(
    ctx: typer.Context,
    poll_interval: float | None = typer.Option(
        None,
        "--poll-interval",
        min=0.001,
        help="Seconds between polls when idle (default: EXECLEDGER_PROJECTION_POLL_INTERVAL_SECONDS). "
        "On PostgreSQL each commit also wakes the runner at once (LISTEN/NOTIFY).",
    ),
) -> None:
    """Follow the ledger, applying new events to every read model, until Ctrl-C."""
    settings = state_of(ctx).settings
    poll = settings.projection_poll_interval_seconds if poll_interval is None else poll_interval
    error_console.print(f"following the ledger (polling every {poll}s); Ctrl-C to stop")
    rows = use_cases.follow_projections(settings, poll_interval_seconds=poll)
    _print_status(rows, as_json=False)


@projections_app.command("rebuild")
def rebuild(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help=f"One of: {', '.join(NAMES)} (default: all)."),
    processes: int | None = typer.Option(
        None,
        "--processes",
        min=1,
        max=64,
        help="Processes to split the orders across (default: EXECLEDGER_REBUILD_PROCESSES); "
        "a rebuild of fewer than 200,000 events runs in one.",
    ),
) -> None:
    """Rebuild the read model(s) from the first event beside the serving ones, then swap.

    Reads keep using the serving read models meanwhile; an interrupted rebuild leaves
    them as they were, and running this again resumes it. The progress shown while
    several processes work is the lowest position any of them has reached."""
    columns = (
        TextColumn("rebuilding {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=error_console, transient=False) as progress:
        task = progress.add_task(name or "all projections", total=None)

        def advance(position: int, ledger_position: int) -> None:
            progress.update(task, completed=position, total=max(ledger_position, 1))

        result = use_cases.rebuild_projections(
            state_of(ctx).settings, [name] if name else None, progress=advance, processes=processes
        )
        progress.update(task, completed=progress.tasks[0].total or 1, total=progress.tasks[0].total or 1)
    rate = result.applied / result.seconds if result.seconds > 0 else 0.0
    console.print(
        f"rebuilt {name or 'all projections'}: {result.applied} events "
        f"in {result.seconds:.2f}s ({rate:,.0f} events/s)"
    )


@projections_app.command("status")
def status(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
) -> None:
    """Each projection's position and lag behind the ledger (in events)."""
    settings = state_of(ctx).settings
    _print_status(use_cases.projections_status(settings), as_json=as_json)
    if not as_json:
        _print_errors(use_cases.projection_errors(settings))


def _print_status(rows: list[dict[str, object]], *, as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    table = Table("projection", "generation", "role", "position", "ledger position", "lag", "errors")
    for row in rows:
        lag = row["lag"]
        style = "green" if lag == 0 else "yellow"
        errors = row["errors"]
        table.add_row(
            str(row["name"]),
            str(row["generation"]),
            str(row["role"]),
            str(row["position"]),
            str(row["ledger_position"]),
            f"[{style}]{lag}[/]",
            f"[red]{errors}[/]" if errors else "0",
        )
    print_table(table)


def _print_errors(errors: list[dict[str, object]]) -> None:
    """The events set aside as poison: their orders are not trustworthy in the read models."""
    if not errors:
        return
    table = Table(
        "projection",
        "position",
        "order",
        "version",
        "error",
        title=f"{len(errors)} event(s) the read models could not apply; their orders are NOT trustworthy",
    )
    for error in errors:
        table.add_row(
            *(str(error[key]) for key in ("projection", "position", "order_id", "version", "error"))
        )
    print_table(table)
