"""``execute --venue alpaca-paper|alpaca-live`` and ``reconcile``: the batch at Alpaca."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import structlog
import typer
from execledger.domain.config import ExecutionConfig
from execledger.domain.order import SmartOrder
from execledger.domain.requests import OrderRequest
from execledger.infrastructure.alpaca import AlpacaEnvironment
from execledger.infrastructure.bootstrap import alpaca_adapters, alpaca_venue, execution_session, order_leases
from execledger.infrastructure.cli.context import CliState, console, error_console, print_json, state_of
from execledger.infrastructure.engine.reconciliation import ReconcileReport, reconcile
from execledger.infrastructure.engine.session import SessionResult
from execledger.infrastructure.venue import WallClock
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

log = structlog.get_logger(__name__)
VENUES = {"alpaca-paper": AlpacaEnvironment.PAPER, "alpaca-live": AlpacaEnvironment.LIVE}
WORKING = "working orders at Alpaca"
PACED = "working orders at Alpaca (waiting on the request rate limit)"


def environment_of(venue: str) -> AlpacaEnvironment:
    """The Alpaca environment a ``--venue`` names."""
    if venue not in VENUES:
        raise typer.BadParameter(f"one of sim, {', '.join(VENUES)}; got {venue!r}", param_hint="--venue")
    return VENUES[venue]


def execute_at_alpaca(
    state: CliState,
    environment: AlpacaEnvironment,
    requests: list[OrderRequest],
    config: ExecutionConfig,
    *,
    quiet: bool,
) -> SessionResult:
    """Work the batch at Alpaca until every order is terminal (settings checked first)."""
    venue, adapters, streamed = alpaca_venue(environment, config, {r.symbol for r in requests})
    leases_of = order_leases(state.database, ttl_seconds=state.settings.lease_ttl_seconds)
    with state.open_ledger() as ledger, leases_of as leases:
        session = execution_session(
            ledger, venue, config, leases=leases, max_active_orders=state.settings.max_active_orders
        )
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=error_console, transient=True, disable=quiet) as progress:
            bar = progress.add_task(WORKING, total=len(requests))

            def finished(_: SmartOrder) -> None:
                progress.update(bar, advance=1, description=PACED if adapters.pacer.waiting else WORKING)

            async def work() -> SessionResult:
                try:
                    _log_reconciled(await reconcile(ledger, adapters.broker, venue.clock))
                    return await session.run(requests, on_finished=finished)
                finally:
                    await streamed.close()

            return asyncio.run(work())


def _log_reconciled(report: ReconcileReport) -> None:
    """What the reconciliation before a batch found (it runs first, after any restart)."""
    if report.appended or report.unresolved or report.unknown_at_broker:
        log.warning(
            "reconciled_before_execute",
            appended=report.appended,
            unresolved=report.unresolved,
            unknown_at_broker=report.unknown_at_broker,
        )


def reconcile_command(
    ctx: typer.Context,
    venue: str = typer.Option(..., "--venue", help="alpaca-paper or alpaca-live."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Append what the broker did to every open order; report broker orders we never sent.
    Sends nothing; exit 0 when every lookup answered, 1 when some stayed unknown."""
    environment = environment_of(venue)
    state = state_of(ctx)
    adapters = alpaca_adapters(environment, ExecutionConfig())
    with state.open_ledger() as ledger:
        report = asyncio.run(reconcile(ledger, adapters.broker, WallClock()))
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
        f"{len(report.unknown_at_broker)} broker orders the ledger never sent"
    )
    for title, lines in (
        ("appended", report.appended),
        ("unresolved", report.unresolved),
        ("unknown at the broker (not touched)", report.unknown_at_broker),
    ):
        for line in lines:
            console.print(f"  {title}: {line}")
