"""Wiring in one place: venues by name and sessions.

The application API (``use_cases``) builds everything through here; a new venue plugs in
with ``register_venue(name, factory)`` and nothing in the engine changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from execledger.domain.config import ExecutionConfig
from execledger.domain.ids import business_date, order_id_for
from execledger.domain.requests import OrderRequest
from execledger.domain.types import Quote
from execledger.infrastructure.alpaca.settings import AlpacaEnvironment
from execledger.infrastructure.batch import Batch
from execledger.infrastructure.database_url import DatabaseUrl
from execledger.infrastructure.engine.session import DEFAULT_MAX_ACTIVE_ORDERS, ExecutionSession
from execledger.infrastructure.errors import OrderNotFound, OrdersFileError, UnknownVenue
from execledger.infrastructure.leases import OrderLeases, open_lease_table
from execledger.infrastructure.ledger import Ledger
from execledger.infrastructure.ports import Asset, MarketData, Venue
from execledger.infrastructure.settings import Settings
from execledger.infrastructure.venue import SimulatedVenue, VirtualClock, synthetic_tape
from execledger.infrastructure.venue.faults import VenueFaults

#: Where synthetic tapes start when no time is given: a fixed, reproducible market open.
DEFAULT_SYNTHETIC_START = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


class PreparedVenue(Protocol):
    """A venue checked against its batch, ready to open once the ledger is.

    A venue on virtual time also gives ``business_date``, the trading day it replays
    (see ``session_business_date``).
    """

    def open(self, resume_at: datetime | None) -> AbstractContextManager[Venue]:
        """The session's ports, released on exit. ``resume_at`` is the latest business time
        recorded on the batch's unfinished orders: a virtual clock starts no earlier."""
        ...


@runtime_checkable
class ReconcilingVenue(Protocol):
    """A prepared venue with a memory of its own (a real broker): the ledger's open orders
    are brought up to its truth before a session works them, since after a restart the
    broker may have filled or canceled meanwhile. The simulated venue starts afresh and
    has nothing to reconcile. With ``leases``, orders another process holds are left
    to it."""

    async def reconcile(self, ledger: Ledger, venue: Venue, leases: OrderLeases | None) -> None: ...


class VenueFactory(Protocol):
    """Builds one kind of venue for a batch; registered by name (``--venue NAME``)."""

    def __call__(self, batch: Batch, settings: Settings) -> PreparedVenue:
        """Check the batch against the venue (an input error names the row and field);
        nothing is written and no connection is made yet."""
        ...


class SimulatedAssets:
    """The simulated venue's asset facts behind the AssetDirectory port."""

    def __init__(self, venue: SimulatedVenue) -> None:
        self._venue = venue

    async def asset(self, symbol: str) -> Asset:
        return Asset(
            symbol=symbol,
            tradable=self._venue.tradable(symbol),
            fractionable=self._venue.fractionable(symbol),
        )


def simulated_venue(
    tape: Sequence[Quote],
    *,
    not_tradable: Iterable[str] = (),
    not_fractionable: Iterable[str] = (),
    standing_quotes_are_current: bool = True,
    start: datetime | None = None,
    faults: VenueFaults | None = None,
    rest_market_data: MarketData | None = None,
) -> tuple[Venue, SimulatedVenue]:
    """A session's ports on a simulated venue replaying ``tape`` on virtual time.

    A tape quote stands until the next one, so by default the venue reports it as
    current (stamped with the virtual now): a quiet tape is not a stale feed. ``start``
    (used when resuming a batch) starts virtual time later than the tape's first quote.
    ``faults`` make the venue unkind (venue.faults.VenueFaults).
    ``rest_market_data`` is the REST fallback asked about a doubtful streamed quote.
    """
    first = min(quote.quoted_at for quote in tape) if tape else None
    clock = VirtualClock(max(start, first)) if start is not None and first is not None else None
    venue = SimulatedVenue(
        tape,
        clock=clock,
        not_tradable=not_tradable,
        not_fractionable=not_fractionable,
        restamp_quotes=standing_quotes_are_current,
        faults=faults,
    )
    ports = Venue(
        broker=venue,
        market_data=venue,
        assets=SimulatedAssets(venue),
        clock=venue.clock,
        rest_market_data=rest_market_data,
        session_end=venue.tape_end,
    )
    return ports, venue


@dataclass(frozen=True)
class PreparedSimulation:
    """A batch's simulated venue: its tape, checked to quote every symbol of the batch."""

    tape: Sequence[Quote]
    not_tradable: frozenset[str]
    not_fractionable: frozenset[str]
    faults: VenueFaults | None = None

    @property
    def business_date(self) -> date:
        """The trading day of the tape's first quote."""
        return business_date(min(quote.quoted_at for quote in self.tape))

    @contextmanager
    def open(self, resume_at: datetime | None) -> Iterator[Venue]:
        ports, _ = simulated_venue(
            self.tape,
            not_tradable=self.not_tradable,
            not_fractionable=self.not_fractionable,
            start=resume_at,
            faults=self.faults,
        )
        yield ports


def prepare_simulation(batch: Batch, settings: Settings) -> PreparedSimulation:
    """The simulated venue (``sim``): the batch's tape, or a synthetic one drawn from its seed."""
    tape = batch.tape if batch.tape is not None else synthetic_session_tape(batch.symbols, seed=batch.seed)
    on_tape = {quote.symbol for quote in tape}
    for number, request in enumerate(batch.requests, start=1):
        if request.symbol not in on_tape:
            raise OrdersFileError(
                f"{batch.source}: row {number}: field 'symbol': {request.symbol} is not on the tape"
            )
    return PreparedSimulation(tape, batch.not_tradable, batch.not_fractionable, batch.venue_faults)


@dataclass(frozen=True)
class AlpacaVenueFactory:
    """An Alpaca venue (``alpaca-paper``/``alpaca-live``); alpaca-py is imported only when
    one is used (it pulls in pandas: a second of start-up for every other command)."""

    environment: AlpacaEnvironment

    def __call__(self, batch: Batch, settings: Settings) -> PreparedVenue:
        from execledger.infrastructure.alpaca.venue import prepare_alpaca

        return prepare_alpaca(self.environment, batch)


_VENUES: dict[str, VenueFactory] = {
    "sim": prepare_simulation,
    "alpaca-paper": AlpacaVenueFactory(AlpacaEnvironment.PAPER),
    "alpaca-live": AlpacaVenueFactory(AlpacaEnvironment.LIVE),
}


def register_venue(name: str, factory: VenueFactory) -> None:
    """Make ``factory`` the venue called ``name`` (``execute --venue NAME``)."""
    _VENUES[name] = factory


def venue_names() -> tuple[str, ...]:
    """The registered venues' names, sorted."""
    return tuple(sorted(_VENUES))


def session_business_date(prepared: PreparedVenue) -> date:
    """The session's trading day, which derived idempotency keys include
    (``OrderRequest.effective_idempotency_key``): the prepared venue's ``business_date``
    when it replays another day (the simulated venue: its tape's), else today's."""
    day = getattr(prepared, "business_date", None)
    return day if isinstance(day, date) else business_date(datetime.now(UTC))


def prepare_venue(batch: Batch, settings: Settings) -> PreparedVenue:
    """The batch's venue, checked against the batch; ``UnknownVenue`` for a name not registered."""
    factory = _VENUES.get(batch.venue)
    if factory is None:
        raise UnknownVenue(f"unknown venue {batch.venue!r}; available: {', '.join(venue_names())}")
    return factory(batch, settings)


def synthetic_session_tape(
    symbols: Sequence[str],
    *,
    seed: int,
    duration_seconds: int = 1800,
    start_prices: Mapping[str, Decimal] | None = None,
) -> list[Quote]:
    """A seeded synthetic tape for ``symbols`` (one quote a second by default)."""
    return synthetic_tape(
        list(symbols),
        seed=seed,
        start=DEFAULT_SYNTHETIC_START,
        duration_seconds=duration_seconds,
        interval_seconds=Decimal("1"),
        start_prices=start_prices,
    )


def resume_point(ledger: Ledger, requests: Sequence[OrderRequest]) -> datetime | None:
    """The latest business time recorded on the batch's unfinished orders, if any.

    Resuming a batch starts virtual time there, so a resumed order's timeline never
    goes back in time.
    """
    latest: datetime | None = None
    for request in requests:
        order_id = order_id_for(request.account, request.effective_idempotency_key())
        try:  # one read: ``in ledger.repository`` would load the order once more
            order = ledger.order(order_id)
        except OrderNotFound:
            continue
        if not order.is_terminal and (latest is None or order.last_event_at > latest):
            latest = order.last_event_at
    return latest


def execution_session(
    ledger: Ledger,
    venue: Venue,
    config: ExecutionConfig,
    *,
    seed: int = 0,
    leases: OrderLeases | None = None,
    max_active_orders: int = DEFAULT_MAX_ACTIVE_ORDERS,
) -> ExecutionSession:
    """The engine for one batch (with ``leases``, only the orders this process owns)."""
    return ExecutionSession(
        ledger, venue, config, seed=seed, leases=leases, max_active_orders=max_active_orders
    )


def order_leases(database: DatabaseUrl, *, ttl_seconds: float) -> OrderLeases:
    """This process's leases on the ledger's orders (use as a context manager)."""
    return OrderLeases(open_lease_table(database), ttl_seconds=ttl_seconds)
