"""A rebalance of a few thousand orders runs to the end: bounded lanes, one commit per round."""

from __future__ import annotations

import asyncio
from collections import Counter

from execledger.domain.config import ExecutionConfig
from execledger.infrastructure.bootstrap import execution_session, simulated_venue, synthetic_session_tape
from execledger.infrastructure.ledger import open_ledger

from tests.rebalance import rebalance_requests

ORDERS = 2000


def test_a_rebalance_of_two_thousand_orders_completes(database_url: str) -> None:
    """2,000 orders on 50 symbols: every order terminal (the session never stalls on the
    writer), far fewer commits than events, and no order worked by more than one lane."""
    requests = rebalance_requests(ORDERS)
    tape = synthetic_session_tape(sorted({request.symbol for request in requests}), seed=1)
    with open_ledger(database_url) as ledger:
        ports, _ = simulated_venue(tape)
        session = execution_session(ledger, ports, ExecutionConfig(), seed=1, max_active_orders=250)
        result = asyncio.run(session.run(requests))
        events = ledger.recorder.max_notification_id() or 0

    assert result.all_terminal and len(result.orders) == ORDERS
    assert Counter(order.status.value for order in result.orders) == {"completed": ORDERS}
    assert len(result.worked) == ORDERS
    assert session.commits.transactions * 10 < events


def test_no_more_orders_are_worked_at_once_than_the_session_allows(sqlite_url: str) -> None:
    """Five lanes for forty orders: at no business time are more than five being worked,
    and every order still ends terminal."""
    requests = rebalance_requests(40, symbols=5)
    tape = synthetic_session_tape(sorted({request.symbol for request in requests}), seed=1)
    with open_ledger(sqlite_url) as ledger:
        ports, _ = simulated_venue(tape)
        result = asyncio.run(
            execution_session(ledger, ports, ExecutionConfig(), max_active_orders=5).run(requests)
        )
        spans = []
        for order in result.orders:
            events = ledger.events_of(order.id)
            spans.append((events[1].occurred_at, events[-1].occurred_at))

    assert result.all_terminal
    moments = sorted({start for start, _ in spans})
    busiest = max(sum(1 for start, end in spans if start <= moment < end) for moment in moments)
    assert busiest <= 5
    assert len(moments) > 1  # orders did wait for a lane
