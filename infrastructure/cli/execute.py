"""``execledger execute`` and ``execledger demo``: work a batch of orders at the simulated venue."""

from __future__ import annotations

import asyncio
import random
from contextlib import AbstractContextManager
from decimal import Decimal
from pathlib import Path

import typer
from execledger.domain.config import ExecutionConfig
from execledger.domain.order import SmartOrder
from execledger.domain.requests import OrderRequest
from execledger.domain.types import Quote
from execledger.infrastructure.bootstrap import (
    execution_session,
    following_projections,
    order_leases,
    resume_point,
    simulated_venue,
    synthetic_session_tape,
)
from execledger.infrastructure.cli.context import CliState, console, error_console, print_json, state_of
from execledger.infrastructure.cli.orders import timeline_table
from execledger.infrastructure.cli.summary import summary_json, summary_table
from execledger.infrastructure.config_file import load_execution_config
from execledger.infrastructure.engine.session import SessionResult
from execledger.infrastructure.errors import OrdersFileError
from execledger.infrastructure.leases import OrderLeases
from execledger.infrastructure.ledger import Ledger
from execledger.infrastructure.orders_file import load_orders
from execledger.infrastructure.venue import load_tape
from execledger.projections import ProjectionRunner, open_projections, queries
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

DEMO_PRICES = {
    "AAPL": Decimal("190.00"),
    "MSFT": Decimal("410.00"),
    "NVDA": Decimal("120.00"),
    "AMZN": Decimal("180.00"),
    "SPY": Decimal("560.00"),
    "F": Decimal("11.50"),
    "SNDL": Decimal("0.8500"),
}


def execute(
    ctx: typer.Context,
    orders_file: Path = typer.Argument(..., help="CSV or JSON orders file."),
    venue: str = typer.Option("sim", "--venue", help="Only 'sim' (the simulated venue) here."),
    tape: Path | None = typer.Option(None, "--tape", help="Quote tape CSV; default synthetic."),
    seed: int = typer.Option(1, "--seed", help="Seed of the synthetic tape."),
    config: Path | None = typer.Option(None, "--config", help="ExecutionConfig TOML or JSON."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Work every order of ORDERS_FILE to a terminal state; exit 0 when all got there."""
    if venue != "sim":
        raise typer.BadParameter("only the simulated venue 'sim' is available", param_hint="--venue")
    execution_config = load_execution_config(config) if config else ExecutionConfig()
    requests = load_orders(orders_file)
    quotes = load_tape(tape) if tape else _synthetic_for(requests, seed)
    _check_symbols(requests, quotes, orders_file)
    state = state_of(ctx)
    with state.open_ledger() as ledger, _following(ledger, state), _leases(state) as leases:
        result = _run(ledger, requests, quotes, execution_config, seed, leases, state, quiet=as_json)
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
    requests = demo_requests(orders, seed)
    quotes = synthetic_session_tape(sorted(DEMO_PRICES), seed=seed, start_prices=DEMO_PRICES)
    state = state_of(ctx)
    with state.open_ledger() as ledger, _following(ledger, state), _leases(state) as leases:
        result = _run(ledger, requests, quotes, ExecutionConfig(), seed, leases, state, quiet=as_json)
    _report(result, as_json, f"demo rebalance (seed {seed})")
    if not as_json:
        _show_timeline(state, _busiest(result))
        console.print(
            "Next: [bold]execledger orders[/], [bold]execledger timeline ORDER_ID[/], "
            "[bold]execledger verify[/], [bold]execledger quality[/]"
        )


def demo_requests(count: int, seed: int) -> list[OrderRequest]:
    """A reproducible rebalance: symbols, sides and sizes drawn from ``seed``."""
    rng = random.Random(seed)
    symbols = sorted(DEMO_PRICES)
    requests = []
    for number in range(1, count + 1):
        symbol = rng.choice(symbols)
        quantity = Decimal(rng.choice([5, 10, 25, 50, 100, 250, 800, 2500, 6000]))
        if symbol == "SNDL":
            quantity *= 10
        requests.append(
            OrderRequest(
                symbol=symbol,
                side=rng.choice(["BUY", "SELL"]),
                quantity=quantity,
                urgency=rng.choice(["NORMAL", "NORMAL", "LOW", "HIGH"]),
                correlation_id=f"demo-{seed}",
                idempotency_key=f"demo-{seed}-{count}-{number}",
            )
        )
    return requests


def _run(
    ledger: Ledger,
    requests: list[OrderRequest],
    quotes: list[Quote],
    config: ExecutionConfig,
    seed: int,
    leases: OrderLeases,
    state: CliState,
    *,
    quiet: bool,
) -> SessionResult:
    ports, _ = simulated_venue(quotes, start=resume_point(ledger, requests))
    session = execution_session(
        ledger, ports, config, seed=seed, leases=leases, max_active_orders=state.settings.max_active_orders
    )
    columns = (TextColumn("working orders"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=error_console, transient=True, disable=quiet) as progress:
        bar = progress.add_task("orders", total=len(requests))

        def finished(_: SmartOrder) -> None:
            progress.advance(bar)

        result = asyncio.run(session.run(requests, on_finished=finished))
    return result


def _synthetic_for(requests: list[OrderRequest], seed: int) -> list[Quote]:
    return synthetic_session_tape(sorted({r.symbol for r in requests}), seed=seed)


def _check_symbols(requests: list[OrderRequest], quotes: list[Quote], path: Path) -> None:
    on_tape = {quote.symbol for quote in quotes}
    for number, request in enumerate(requests, start=1):
        if request.symbol not in on_tape:
            raise OrdersFileError(
                f"{path}: row {number}: field 'symbol': {request.symbol} is not on the tape"
            )


def _report(result: SessionResult, as_json: bool, title: str) -> None:
    if as_json:
        print_json(summary_json(result))
        return
    console.print(summary_table(result, title))
    console.print(
        f"{len(result.orders)} orders: {result.created} new, "
        f"{result.already_finished} already finished, {len(result.skipped)} skipped "
        f"(leased by another process{_owners(result)}); "
        f"{'every order is terminal' if result.all_terminal else 'some orders are NOT terminal'}"
    )


def _owners(result: SessionResult) -> str:
    owners = sorted(set(result.skipped.values()))
    return f": {', '.join(owners)}" if owners else ""


def _leases(state: CliState) -> OrderLeases:
    return order_leases(state.database, ttl_seconds=state.settings.lease_ttl_seconds)


def _busiest(result: SessionResult) -> SmartOrder | None:
    return max(result.orders, key=lambda order: order.version, default=None)


def _show_timeline(state: CliState, order: SmartOrder | None) -> None:
    if order is None:
        return
    store = open_projections(state.database)
    try:
        entries = queries.timeline_of(store, str(order.id))
    finally:
        store.close()
    console.print(timeline_table(entries, title=f"timeline of {order.id} (execledger timeline ID)"))


def _following(ledger: Ledger, state: CliState) -> AbstractContextManager[ProjectionRunner]:
    return following_projections(
        ledger, state.database, poll_interval_seconds=state.settings.projection_poll_interval_seconds
    )
