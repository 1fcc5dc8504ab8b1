"""A venue that loses answers: retried placements never double an order at the broker."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from execledger.domain.config import ExecutionConfig
from execledger.infrastructure.bootstrap import execution_session, simulated_venue
from execledger.infrastructure.errors import TransientBrokerError
from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.ports import Venue
from execledger.infrastructure.venue import SimulatedVenue, load_tape

from tests.e2e.scenario import TAPES, request

FAST_RETRIES = ExecutionConfig(retry_initial_backoff_seconds=Decimal("0.01"))


class LosesFirstAnswers:
    """Forwards to the venue, then loses the answer of the first ``losses`` placements."""

    def __init__(self, venue: SimulatedVenue, losses: int) -> None:
        self._venue = venue
        self._losses = losses
        self.sent: list[str] = []

    async def place_limit(self, **order: Any) -> Any:
        self.sent.append(order["client_order_id"])
        answer = await self._venue.place_limit(**order)
        if self._losses > 0:
            self._losses -= 1
            raise TransientBrokerError("connection reset after the request was sent")
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._venue, name)


def test_a_lost_answer_is_retried_with_the_same_client_order_id(sqlite_url: str) -> None:
    """Two lost answers: three sends of one client order id, one broker order, one Placed."""
    with open_ledger(sqlite_url) as ledger:
        ports, venue = simulated_venue(load_tape(TAPES / "escalation.csv"))
        flaky = LosesFirstAnswers(venue, losses=2)
        session = execution_session(
            ledger,
            Venue(flaky, ports.market_data, ports.assets, ports.clock, session_end=ports.session_end),
            FAST_RETRIES,
        )
        order = asyncio.run(session.run([request("XYZ", "BUY", "50")])).orders[0]
        first = f"{order.id}-1"
        assert flaky.sent[:3] == [first, first, first]
        placed = [e for e in ledger.events_of(order.id) if type(e).__name__ == "Placed"]
        assert [e.client_order_id for e in placed].count(first) == 1
        assert venue.get_order(placed[0].broker_order_id).client_order_id == first
        assert order.filled_quantity == Decimal(50)


class AssetsDownFor:
    """Asset lookups for one symbol always fail transiently."""

    def __init__(self, assets: Any, symbol: str) -> None:
        self._assets = assets
        self._symbol = symbol

    async def asset(self, symbol: str) -> Any:
        if symbol == self._symbol:
            raise TransientBrokerError("503 from the asset service")
        return await self._assets.asset(symbol)


def test_an_order_whose_venue_calls_keep_failing_stops_alone(sqlite_url: str) -> None:
    """Retries exhausted: the order stays as recorded (NEW) and the batch ends without a crash."""
    with open_ledger(sqlite_url) as ledger:
        ports, _ = simulated_venue(load_tape(TAPES / "escalation.csv"))
        venue = Venue(
            ports.broker,
            ports.market_data,
            AssetsDownFor(ports.assets, "XYZ"),
            ports.clock,
            session_end=ports.session_end,
        )
        session = execution_session(ledger, venue, FAST_RETRIES)
        result = asyncio.run(session.run([request("XYZ", "BUY", "5")]))
        (order,) = result.orders
        assert not result.all_terminal
        assert ledger.order(order.id).status.value == "new"
