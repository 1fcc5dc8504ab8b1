"""The application API: every use case of execledger, each taking plain inputs and
returning plain results.

The command line parses, calls one of these and renders; the tests and benchmarks call
the same functions. Opening the ledger, building the venue, the resume point, the
session and the read models that follow it are written once, here and in ``bootstrap``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from execledger.domain.config import ExecutionConfig
from execledger.domain.requests import on_business_date
from execledger.infrastructure.alpaca.pacing import PacingState, pacing_states
from execledger.infrastructure.alpaca.settings import AlpacaEnvironment
from execledger.infrastructure.audit_use_cases import (
    OrderAudit,
    Verification,
    VerifyRequest,
    audit_order,
    replay,
    verify,
)
from execledger.infrastructure.batch import Batch
from execledger.infrastructure.bootstrap import (
    PreparedVenue,
    ReconcilingVenue,
    execution_session,
    order_leases,
    prepare_venue,
    resume_point,
    session_business_date,
    synthetic_session_tape,
)
from execledger.infrastructure.demo import DEMO_PRICES, demo_requests
from execledger.infrastructure.engine.reconciliation import ReconcileReport, reconcile
from execledger.infrastructure.engine.session import ProgressCallback, SessionResult
from execledger.infrastructure.idempotency import check_batch
from execledger.infrastructure.leases import OrderLeases
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.read_models import (
    following_projections,
    ledger_and_projections,
    open_projections,
)
from execledger.infrastructure.read_only import readable_projections
from execledger.infrastructure.report_use_cases import best_execution, order_event_records
from execledger.infrastructure.settings import Settings
from execledger.infrastructure.venue import WallClock
from execledger.projections import ProjectionRunner, ProjectionStore, queries

Rows = list[dict[str, Any]]
#: Rebuild progress: (position reached, ledger position).
RebuildProgress = Callable[[int, int], None]

# -- the write side ----------------------------------------------------------------------


def execute_batch(
    settings: Settings, batch: Batch, *, on_finished: ProgressCallback | None = None
) -> SessionResult:
    """Work every order of ``batch`` to a terminal state at its venue, the read models
    following. The batch is checked against the venue before anything is written; a
    batch run again resumes (its orders are the same orders)."""
    prepared = prepare_venue(batch, settings)
    database = settings.database
    poll = settings.projection_poll_interval_seconds
    with (
        open_ledger(database) as ledger,
        following_projections(
            ledger,
            database,
            poll_interval_seconds=poll,
            fold_wait_seconds=settings.projection_fold_wait_seconds,
        ),
        order_leases(database, ttl_seconds=settings.lease_ttl_seconds) as leases,
    ):
        return _work(ledger, batch, prepared, on_finished, settings, leases)


def work_batch(
    ledger: Ledger,
    batch: Batch,
    *,
    settings: Settings | None = None,
    on_finished: ProgressCallback | None = None,
) -> SessionResult:
    """``execute_batch`` on a ledger the caller holds open, without read models or leases
    (tests and benchmarks)."""
    settings = settings or Settings()
    prepared = prepare_venue(batch, settings)
    return _work(ledger, batch, prepared, on_finished, settings, None)


def _work(
    ledger: Ledger,
    batch: Batch,
    prepared: PreparedVenue,
    on_finished: ProgressCallback | None,
    settings: Settings,
    leases: OrderLeases | None,
) -> SessionResult:
    requests = on_business_date(batch.requests, session_business_date(prepared))
    check_batch(ledger, requests, batch.source)
    with prepared.open(resume_point(ledger, requests)) as venue:
        session = execution_session(
            ledger,
            venue,
            batch.config,
            seed=batch.seed,
            leases=leases,
            max_active_orders=settings.max_active_orders,
        )

        async def reconciled_run() -> SessionResult:
            if isinstance(prepared, ReconcilingVenue):
                await prepared.reconcile(ledger, venue, leases)
            return await session.run(requests, on_finished=on_finished)

        return asyncio.run(reconciled_run())


def reconcile_with_alpaca(settings: Settings, environment: AlpacaEnvironment) -> ReconcileReport:
    """Every open order brought up to Alpaca's truth (docs/alpaca.md); sends nothing.
    Orders a live ``execute`` holds the lease of are reported as held, not touched."""
    from execledger.infrastructure.alpaca.venue import alpaca_adapters  # alpaca-py on use only

    adapters = alpaca_adapters(environment, ExecutionConfig())
    database = settings.database
    with (
        open_ledger(database) as ledger,
        order_leases(database, ttl_seconds=settings.lease_ttl_seconds) as leases,
    ):
        return asyncio.run(reconcile(ledger, adapters.broker, WallClock(), leases))


def request_pacing() -> list[PacingState]:
    """The process's request pacers (one per Alpaca rate in use; none at the simulated
    venue): how many requests wait for the pace now, and the waits so far."""
    return pacing_states()


@dataclass(frozen=True)
class DemoResult:
    """The demo's session, and the timeline of its busiest order (most events)."""

    session: SessionResult
    busiest_timeline: Rows = field(default_factory=list)


def demo_batch(orders: int, seed: int) -> Batch:
    """The demo rebalance of ``orders`` orders on a synthetic tape, both drawn from ``seed``."""
    tape = synthetic_session_tape(sorted(DEMO_PRICES), seed=seed, start_prices=DEMO_PRICES)
    return Batch(tuple(demo_requests(orders, seed)), seed=seed, tape=tuple(tape), source="demo")


def demo(
    settings: Settings, *, orders: int, seed: int, on_finished: ProgressCallback | None = None
) -> DemoResult:
    """A simulated rebalance of ``orders`` orders into the ledger (``demo_batch``)."""
    result = execute_batch(settings, demo_batch(orders, seed), on_finished=on_finished)
    busiest = max(result.orders, key=lambda order: order.version, default=None)
    return DemoResult(result, timeline(settings, str(busiest.id)) if busiest else [])


# -- the audit: verify, replay, audit_order (in audit_use_cases) --------------------------


# -- the read models ---------------------------------------------------------------------


def orders(settings: Settings, *, status: str | None = None, symbol: str | None = None) -> Rows:
    """One row per order (order status read model), optionally of one status or symbol."""
    with current_read_models(settings) as store:
        return queries.orders(store, status=status, symbol=symbol)


def timeline(settings: Settings, identifier: str) -> Rows:
    """Every event of the order named by any of its ids, or of every order of a correlation id."""
    with current_read_models(settings) as store:
        return queries.timeline_of(store, identifier)


def execution_quality(settings: Settings, *, symbol: str | None = None) -> Rows:
    """Execution quality per order: arrival mid, slippage, spread, improvement, times."""
    with current_read_models(settings) as store:
        return queries.quality(store, symbol=symbol)


@dataclass(frozen=True)
class RebuildResult:
    """How many events a rebuild applied, and in how many seconds."""

    applied: int
    seconds: float


def rebuild_projections(
    settings: Settings,
    names: Sequence[str] | None = None,
    *,
    progress: RebuildProgress | None = None,
    processes: int | None = None,
) -> RebuildResult:
    """Rebuild the named read models (default: all) from the first event, blue/green: reads
    use the serving ones until the rebuilt ones are swapped in; a killed rebuild resumes.
    A big rebuild splits the orders across ``processes`` (default: the setting) processes."""
    with projection_runner(settings) as runner:
        started = time.perf_counter()
        applied = runner.rebuild(
            list(names) if names else None,
            progress,
            processes=settings.rebuild_processes if processes is None else processes,
            opener=partial(ledger_and_projections, settings.database),
        )
        return RebuildResult(applied, time.perf_counter() - started)


def projections_status(settings: Settings) -> Rows:
    """Each read model's position and lag behind the ledger (in events)."""
    with projection_runner(settings) as runner:
        return runner.status()


def projection_errors(settings: Settings) -> Rows:
    """Events the read models set aside as poison: projection, position, order id, version, error."""
    with projection_runner(settings) as runner:
        return queries.projection_errors(runner.store)


def follow_projections(
    settings: Settings, *, poll_interval_seconds: float, stop: threading.Event | None = None
) -> Rows:
    """Apply new events to every read model until ``stop`` is set or Ctrl-C; then their status.

    The runner catches up whenever a ledger, in any process, commits (PostgreSQL: LISTEN
    for the ledgers' NOTIFY; SQLite: the file's data version, checked every few
    milliseconds) and otherwise every ``poll_interval_seconds``."""
    with projection_runner(settings) as runner:
        runner.store.wake_on_commits(runner.ledger.recorder, runner.wake)
        with suppress(KeyboardInterrupt):
            runner.run_forever(poll_interval_seconds, stop or threading.Event())
        return runner.status()


@contextmanager
def projection_runner(settings: Settings) -> Iterator[ProjectionRunner]:
    """A runner over the ledger and the read models of one database; closed on exit."""
    with open_ledger(settings.database) as ledger:
        store = open_projections(settings.database)
        try:
            yield ProjectionRunner(ledger, store)
        finally:
            store.close()


@contextmanager
def current_read_models(settings: Settings) -> Iterator[ProjectionStore]:
    """The read models, caught up with the ledger first so they are current; the ledger
    is opened read-only (never created; a read-only database works, see read_only)."""
    database = settings.database
    with open_ledger(database, read_only=True) as ledger, readable_projections(database) as store:
        ProjectionRunner(ledger, store).catch_up()
        yield store


__all__ = [
    "Batch",
    "DemoResult",
    "OrderAudit",
    "PacingState",
    "RebuildResult",
    "Verification",
    "VerifyRequest",
    "audit_order",
    "best_execution",
    "current_read_models",
    "demo",
    "demo_batch",
    "execute_batch",
    "execution_quality",
    "follow_projections",
    "order_event_records",
    "orders",
    "projection_errors",
    "projection_runner",
    "projections_status",
    "rebuild_projections",
    "reconcile_with_alpaca",
    "replay",
    "request_pacing",
    "timeline",
    "verify",
    "work_batch",
]
