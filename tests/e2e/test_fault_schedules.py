"""Issue 12: a property over random fault schedules of the simulated venue.

For every schedule: per broker order, the ledger's filled quantity is the venue's; no
broker order is left working after the session; nothing is bought beyond the request.
200 schedules with CI=true, 20 otherwise (each is one short session on an in-memory ledger).
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal
from pathlib import Path

from execledger.domain.config import ExecutionConfig
from execledger.infrastructure.bootstrap import execution_session, simulated_venue
from execledger.infrastructure.ledger import Ledger
from execledger.infrastructure.ports import BrokerOrderStatus
from execledger.infrastructure.venue import load_tape
from execledger.infrastructure.venue.faults import VenueFaults
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.scenario import TAPES, request

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CONFIG = ExecutionConfig(retry_initial_backoff_seconds=Decimal("0.1"), retry_max_backoff_seconds=Decimal(1))
TAPE = load_tape(Path(TAPES) / "escalation.csv")
OPEN = frozenset(
    {BrokerOrderStatus.NEW, BrokerOrderStatus.PARTIALLY_FILLED, BrokerOrderStatus.PENDING_CANCEL}
)

schedules = st.builds(
    VenueFaults,
    cancel_delay_seconds=st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(3), Decimal(8)]),
    refused_cancels=st.integers(0, 3),
    failed_lookups=st.integers(0, 6),
    lost_placement_answers=st.integers(0, 5),
    replay_backlog=st.booleans(),
    stream_drops=st.lists(
        st.sampled_from([Decimal(n) for n in (1, 5, 11, 21, 26)]), max_size=3, unique=True
    ).map(tuple),
)


@settings(
    max_examples=200 if IN_CI else 20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(faults=schedules, side=st.sampled_from(["BUY", "SELL"]))
def test_the_ledger_converges_to_what_the_venue_did(faults: VenueFaults, side: str) -> None:
    """Any fault schedule: the ledger holds what the venue did, and nothing works after."""
    ledger = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ports, venue = simulated_venue(TAPE, faults=faults)
    order = asyncio.run(execution_session(ledger, ports, CONFIG).run([request("XYZ", side, "50")])).orders[0]
    at_venue = [o for o in venue.orders() if o.client_order_id in order.placements]
    for broker_order in at_venue:
        held = order.lifecycle.broker_orders[broker_order.client_order_id].filled
        assert held == broker_order.filled_quantity, (broker_order.client_order_id, faults)
        assert broker_order.status not in OPEN, (broker_order.client_order_id, broker_order.status, faults)
    bought = sum((o.filled_quantity for o in at_venue), Decimal(0))
    assert bought == order.filled_quantity <= order.quantity
    assert order.is_terminal
