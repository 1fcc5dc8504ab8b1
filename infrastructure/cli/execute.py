"""``execledger execute`` and ``execledger demo``: work a batch of orders at a venue."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import typer
from execledger.domain.order import SmartOrder
from execledger.infrastructure import use_cases
from execledger.infrastructure.batch import DEFAULT_VENUE, load_batch
from execledger.infrastructure.bootstrap import venue_names
from execledger.infrastructure.cli.context import console, error_console, print_json, print_table, state_of
from execledger.infrastructure.cli.orders import timeline_table
from execledger.infrastructure.cli.summary import summary_json, summary_table
from execledger.infrastructure.engine.session import SessionResult
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.text import Text


def execute(
    ctx: typer.Context,
    orders_file: Path = typer.Argument(..., help="CSV or JSON orders file."),
    venue: str = typer.Option(
        DEFAULT_VENUE,
        "--venue",
        help="sim, alpaca-paper, or alpaca-live (needs EXECLEDGER_ALLOW_LIVE=1).",
    ),
    tape: Path | None = typer.Option(None, "--tape", help="Quote tape CSV; default synthetic."),
    seed: int = typer.Option(1, "--seed", help="Seed of the synthetic tape."),
    venue_faults: Path | None = typer.Option(
        None, "--venue-faults", help="JSON file of the simulated venue's faults (docs/venue.md)."
    ),
    config: Path | None = typer.Option(None, "--config", help="ExecutionConfig TOML or JSON."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Work every order of ORDERS_FILE to a terminal state; exit 0 when all got there."""
    if venue not in venue_names():
        raise typer.BadParameter(f"must be one of: {', '.join(venue_names())}", param_hint="--venue")
    batch = load_batch(
        orders_file, venue=venue, tape_file=tape, config_file=config, seed=seed, faults_file=venue_faults
    )
    with _progress(len(batch.requests), quiet=as_json) as finished:
        result = use_cases.execute_batch(state_of(ctx).settings, batch, on_finished=finished)
    _report(result, as_json, "execute", use_cases.request_pacing())
    if not result.all_terminal:
        raise typer.Exit(1)


def demo(
    ctx: typer.Context,
    orders: int = typer.Option(20, "--orders", min=1, max=5000, help="How many orders."),
    seed: int = typer.Option(7, "--seed", help="Seed of the orders and the synthetic tape."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """A simulated rebalance of N orders on a synthetic tape, into the ledger."""
    with _progress(orders, quiet=as_json) as finished:
        result = use_cases.demo(state_of(ctx).settings, orders=orders, seed=seed, on_finished=finished)
    _report(result.session, as_json, f"demo rebalance (seed {seed})")
    if not as_json:
        if result.busiest_timeline:
            order_id = result.busiest_timeline[0]["order_id"]
            title = f"timeline of {order_id} (execledger timeline ID)"
            print_table(timeline_table(result.busiest_timeline, title=title))
        console.print(
            "Next: [bold]execledger orders[/], [bold]execledger timeline ORDER_ID[/], "
            "[bold]execledger verify[/], [bold]execledger quality[/]"
        )


class PacingColumn(ProgressColumn):
    """What the progress bar says while requests wait for Alpaca's request pace."""

    def render(self, task: Task) -> Text:
        return Text(pacing_text(use_cases.request_pacing()), style="yellow")


def pacing_text(pacers: Sequence[use_cases.PacingState]) -> str:
    """``waiting on Alpaca rate limit (N requests/min)`` while a request waits, else ''."""
    waiting = [pacer for pacer in pacers if pacer.waiting]
    if not waiting:
        return ""
    return f"waiting on Alpaca rate limit ({waiting[0].requests_per_minute} requests/min)"


@contextmanager
def _progress(total: int, *, quiet: bool) -> Iterator[Callable[[SmartOrder], None]]:
    """A progress bar on stderr, advanced by the callback this yields; it also says when
    requests are waiting for the venue's request pace."""
    columns = (TextColumn("working orders"), BarColumn(), MofNCompleteColumn(), PacingColumn())
    with Progress(*columns, console=error_console, transient=True, disable=quiet) as progress:
        bar = progress.add_task("orders", total=total)

        def finished(_: SmartOrder) -> None:
            progress.advance(bar)

        yield finished


def _report(
    result: SessionResult, as_json: bool, title: str, pacers: Sequence[use_cases.PacingState] = ()
) -> None:
    if as_json:
        summary = summary_json(result)
        if pacers:
            summary["rate_limit"] = asdict(pacers[0])  # one pace per process (its setting)
        print_json(summary)
        return
    print_table(summary_table(result, title))
    for pacer in pacers:
        if pacer.waits:
            console.print(
                f"{pacer.waits} requests waited {pacer.waited_seconds:.1f} s in all on the Alpaca "
                f"rate limit ({pacer.requests_per_minute} requests/min)"
            )
    console.print(
        f"{len(result.orders)} orders: {result.created} new, "
        f"{result.already_finished} already finished, {len(result.skipped)} skipped "
        f"(leased by another process{_owners(result)}); "
        f"{'every order is terminal' if result.all_terminal else 'some orders are NOT terminal'}"
    )


def _owners(result: SessionResult) -> str:
    owners = sorted(set(result.skipped.values()))
    return f": {', '.join(owners)}" if owners else ""
