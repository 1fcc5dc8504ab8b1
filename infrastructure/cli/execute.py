"""``execledger execute`` and ``execledger demo``: work a batch of orders at a venue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn


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
    _report(result, as_json, "execute")
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


@contextmanager
def _progress(total: int, *, quiet: bool) -> Iterator[Callable[[SmartOrder], None]]:
    """A progress bar on stderr, advanced by the callback this yields."""
    columns = (TextColumn("working orders"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=error_console, transient=True, disable=quiet) as progress:
        bar = progress.add_task("orders", total=total)

        def finished(_: SmartOrder) -> None:
            progress.advance(bar)

        yield finished


def _report(result: SessionResult, as_json: bool, title: str) -> None:
    if as_json:
        print_json(summary_json(result))
        return
    print_table(summary_table(result, title))
    console.print(
        f"{len(result.orders)} orders: {result.created} new, "
        f"{result.already_finished} already finished, {len(result.skipped)} skipped "
        f"(leased by another process{_owners(result)}); "
        f"{'every order is terminal' if result.all_terminal else 'some orders are NOT terminal'}"
    )


def _owners(result: SessionResult) -> str:
    owners = sorted(set(result.skipped.values()))
    return f": {', '.join(owners)}" if owners else ""
