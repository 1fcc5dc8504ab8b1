"""The engine on its ports only: a session on a real (wall) clock, and the REST quote
fallback asked about a doubtful streamed quote."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from execledger.domain.config import ExecutionConfig
from execledger.domain.types import OrderType, Quote, QuoteSource, Side, TimeInForce
from execledger.infrastructure.bootstrap import execution_session, simulated_venue
from execledger.infrastructure.errors import ClockStalledError
from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.ports import (
    Asset,
    BrokerOrder,
    BrokerOrderStatus,
    Execution,
    OrderUpdate,
    Venue,
)
from execledger.infrastructure.venue import VirtualClock, WallClock, load_tape

from tests.e2e.scenario import request

#: Real waits kept short, from config: a wall-clock session takes well under a second.
SHORT_WAITS = ExecutionConfig(
    fill_wait_seconds=Decimal("0.2"),
    repeg_check_interval_seconds=Decimal("0.01"),
    retry_initial_backoff_seconds=Decimal("0.01"),
    max_quote_wait_seconds=Decimal("0.3"),
)


class InstantVenue:
    """A venue on real time that fills every order in full at its limit (or 100.05) at once."""

    def __init__(self, clock: WallClock) -> None:
        self._clock = clock
        self._orders: dict[str, BrokerOrder] = {}
        self._updates: asyncio.Queue[OrderUpdate] = asyncio.Queue()

    async def latest_quote(self, symbol: str) -> Quote:
        return Quote(
            symbol=symbol,
            bid=Decimal("100.00"),
            ask=Decimal("100.10"),
            bid_size=Decimal(500),
            ask_size=Decimal(500),
            quoted_at=self._clock.now(),
            source=QuoteSource.STREAM,
        )

    async def asset(self, symbol: str) -> Asset:
        return Asset(symbol=symbol, tradable=True, fractionable=True)

    async def place_limit(self, **fields: object) -> BrokerOrder:
        return self._fill(OrderType.LIMIT, **fields)

    async def place_market(self, **fields: object) -> BrokerOrder:
        return self._fill(OrderType.MARKET, limit_price=None, **fields)

    async def cancel(self, broker_order_id: str) -> BrokerOrder:
        raise AssertionError("nothing is left to cancel: every order fills at once")

    async def get_by_client_order_id(self, client_order_id: str) -> BrokerOrder | None:
        return self._orders.get(client_order_id)

    async def order_updates(self) -> AsyncIterator[OrderUpdate]:
        while True:
            yield await self._updates.get()

    def _fill(self, order_type: OrderType, **fields: object) -> BrokerOrder:
        coid = str(fields["client_order_id"])
        quantity = Decimal(str(fields["quantity"]))
        limit = fields["limit_price"]
        price = Decimal(str(limit)) if limit is not None else Decimal("100.05")
        common = {
            "client_order_id": coid,
            "broker_order_id": f"b-{coid}",
            "symbol": str(fields["symbol"]),
            "side": Side(str(fields["side"])),
            "order_type": order_type,
            "quantity": quantity,
            "limit_price": limit,
            "time_in_force": TimeInForce(str(fields["time_in_force"])),
        }
        accepted = BrokerOrder(
            **common, status=BrokerOrderStatus.NEW, filled_quantity=Decimal(0), average_fill_price=None
        )
        filled = BrokerOrder(
            **common, status=BrokerOrderStatus.FILLED, filled_quantity=quantity, average_fill_price=price
        )
        self._orders[coid] = filled
        now = self._clock.now()
        execution = Execution(
            execution_id=f"x-{coid}",
            client_order_id=coid,
            broker_order_id=f"b-{coid}",
            quantity=quantity,
            price=price,
            executed_at=now,
        )
        self._updates.put_nowait(OrderUpdate(order=filled, execution=execution, at=now))
        return accepted


def test_a_session_runs_unchanged_on_a_wall_clock(sqlite_url: str) -> None:
    """The same ExecutionSession on WallClock: the order completes in real time, every event
    stamped with a real moment inside the run."""
    clock = WallClock()

    async def main() -> list[object]:
        venue = InstantVenue(clock)
        ports = Venue(venue, venue, venue, clock, session_end=clock.now() + timedelta(seconds=5))
        with open_ledger(sqlite_url) as ledger:
            result = await execution_session(ledger, ports, SHORT_WAITS).run([request("XYZ", "BUY", "10")])
            return [result, ledger.events_of(result.orders[0].id)]

    began, started = datetime.now(UTC), time.monotonic()
    result, events = asyncio.run(main())
    ended = datetime.now(UTC)
    (order,) = result.orders  # type: ignore[attr-defined]
    assert order.is_terminal and order.filled_quantity == Decimal(10)
    assert all(began <= e.occurred_at <= ended for e in events)  # type: ignore[attr-defined]
    assert time.monotonic() - started < 5


class RestQuotes:
    """A REST quote source: a tight 100.00 / 100.10 quote, stamped now on the venue's clock."""

    def __init__(self) -> None:
        self.clock: VirtualClock | None = None
        self.asked: list[str] = []

    async def latest_quote(self, symbol: str) -> Quote:
        assert self.clock is not None
        self.asked.append(symbol)
        return Quote(
            symbol=symbol,
            bid=Decimal("100.00"),
            ask=Decimal("100.10"),
            bid_size=Decimal(0),
            ask_size=Decimal(0),
            quoted_at=self.clock.now(),
            source=QuoteSource.REST,
        )


def _first_quote_and_price(sqlite_url: str, tape: Path, rest: RestQuotes | None) -> tuple[object, Decimal]:
    with open_ledger(sqlite_url) as ledger:
        ports, venue = simulated_venue(load_tape(tape), rest_market_data=rest)
        if rest is not None:
            rest.clock = venue.clock
        session = execution_session(ledger, ports, ExecutionConfig())
        (order,) = asyncio.run(session.run([request("XYZ", "BUY", "10")])).orders
        events = ledger.events_of(order.id)
    quoted = next(e for e in events if type(e).__name__ == "Quoted")
    placed = next(e for e in events if type(e).__name__ == "PlacementRequested")
    return quoted, placed.limit_price  # type: ignore[attr-defined]


def test_a_suspicious_streamed_quote_is_checked_against_the_rest_quote(
    tmp_path: Path, sqlite_url: str
) -> None:
    """A wide streamed spread (90 / 110) sends the engine to the venue's REST quote, which
    prices the order; without a REST source the doubtful streamed quote is used, flagged."""
    tape = tmp_path / "wide.csv"
    tape.write_text(
        "timestamp,symbol,bid,ask,bid_size,ask_size\n"
        "2026-01-05T14:30:00+00:00,XYZ,90.00,110.00,100,100\n"
        "2026-01-05T14:31:00+00:00,XYZ,90.00,110.00,100,100\n"
    )
    rest = RestQuotes()
    quoted, price = _first_quote_and_price(sqlite_url, tape, rest)
    assert rest.asked[0] == "XYZ"
    assert quoted.source is QuoteSource.REST and quoted.fallback_used  # type: ignore[attr-defined]
    assert any("wide spread" in r for r in quoted.suspicion_reasons)  # type: ignore[attr-defined]
    assert Decimal("100.00") <= price <= Decimal("100.10")

    alone, alone_price = _first_quote_and_price(f"sqlite:///{tmp_path / 'alone.db'}", tape, None)
    assert alone.source is QuoteSource.TAPE and not alone.fallback_used  # type: ignore[attr-defined]
    assert alone_price == Decimal("90.00"), "priced on the doubtful streamed quote"


def test_a_wall_clock_run_past_its_deadline_names_the_tasks() -> None:
    """WallClock.run gives up at ``until`` like the virtual clock: ClockStalledError naming the task."""
    clock = WallClock()

    async def main() -> None:
        task = clock.spawn(clock.sleep(Decimal(5)), name="sleeper")
        try:
            await clock.run([task], until=clock.now() + timedelta(milliseconds=50))
        finally:
            task.cancel()

    with pytest.raises(ClockStalledError, match="sleeper"):
        asyncio.run(main())
