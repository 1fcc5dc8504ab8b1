"""``execledger projections run | rebuild [NAME] | status``: the read models' runner."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from execledger.infrastructure.cli.context import console, error_console, print_json, state_of
from execledger.infrastructure.database_url import DatabaseUrl
from execledger.projections import NAMES, ProjectionRunner, ProjectionStore, open_projections
from execledger.projections.errors import ProjectionStoreUnavailable
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

#: What a database says when it refuses a write because it is read-only.
READ_ONLY_SIGNS = ("readonly", "read-only", "permission denied")

projections_app = typer.Typer(
    name="projections",
    help="Follow, rebuild and inspect the read models (order status, timeline, quality).",
    no_args_is_help=True,
)


@contextmanager
def projection_runner(ctx: typer.Context) -> Iterator[ProjectionRunner]:
    """A runner over the ledger and read models of the --db database; closed on exit."""
    state = state_of(ctx)
    with state.open_ledger() as ledger:
        store = open_projections(state.database)
        try:
            yield ProjectionRunner(ledger, store)
        finally:
            store.close()


def refuses_writes(error: ProjectionStoreUnavailable) -> bool:
    """Whether the read-model database failed because it is read-only."""
    return any(sign in str(error).lower() for sign in READ_ONLY_SIGNS)


@contextmanager
def readable_projections(database: DatabaseUrl) -> Iterator[ProjectionStore]:
    """The read models beside the ledger, closed on exit. When that database cannot be
    written (a read-only file, mount or role), an empty store in a temporary file
    instead, which catching up rebuilds from the events and which is removed on exit:
    read commands work wherever the ledger can be read."""
    try:
        store = open_projections(database)
    except ProjectionStoreUnavailable as error:
        if not refuses_writes(error):
            raise
    else:
        try:
            yield store
        finally:
            store.close()
        return
    with tempfile.TemporaryDirectory(prefix="execledger-read-models-") as folder:
        store = open_projections(f"sqlite:///{Path(folder) / 'read-models.db'}")
        try:
            yield store
        finally:
            store.close()


@contextmanager
def current_read_models(ctx: typer.Context) -> Iterator[ProjectionStore]:
    """The read models, caught up with the ledger first so they are current."""
    state = state_of(ctx)
    with state.open_ledger(read_only=True) as ledger, readable_projections(state.database) as store:
        ProjectionRunner(ledger, store).catch_up()
        yield store


@projections_app.command("run")
def run(
    ctx: typer.Context,
    poll_interval: float = typer.Option(
        0.1, "--poll-interval", min=0.001, help="Seconds between polls when idle."
    ),
) -> None:
    """Follow the ledger, applying new events to every read model, until Ctrl-C."""
    stop = threading.Event()
    with projection_runner(ctx) as runner:
        error_console.print(f"following the ledger every {poll_interval}s; Ctrl-C to stop")
        try:
            runner.run_forever(poll_interval, stop)
        except KeyboardInterrupt:
            stop.set()
        _print_status(runner.status(), as_json=False)


@projections_app.command("rebuild")
def rebuild(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help=f"One of: {', '.join(NAMES)} (default: all)."),
) -> None:
    """Drop the read model(s) and rebuild from the first event, in batches."""
    names = [name] if name else None
    with projection_runner(ctx) as runner:
        total = runner.ledger_position()
        started = time.perf_counter()
        columns = (
            TextColumn("rebuilding {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=error_console, transient=False) as progress:
            task = progress.add_task(name or "all projections", total=max(total, 1))

            def advance(position: int, ledger_position: int) -> None:
                progress.update(task, completed=position, total=max(ledger_position, 1))

            applied = runner.rebuild(names, advance)
            progress.update(task, completed=progress.tasks[0].total)
        seconds = time.perf_counter() - started
    rate = applied / seconds if seconds > 0 else 0.0
    console.print(
        f"rebuilt {name or 'all projections'}: {applied} events in {seconds:.2f}s ({rate:,.0f} events/s)"
    )


@projections_app.command("status")
def status(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
) -> None:
    """Each projection's position and lag behind the ledger (in events)."""
    with projection_runner(ctx) as runner:
        _print_status(runner.status(), as_json=as_json)


def _print_status(rows: list[dict[str, object]], *, as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    table = Table("projection", "position", "ledger position", "lag")
    for row in rows:
        lag = row["lag"]
        style = "green" if lag == 0 else "yellow"
        table.add_row(
            str(row["name"]),
            str(row["position"]),
            str(row["ledger_position"]),
            f"[{style}]{lag}[/]",
        )
    console.print(table)
