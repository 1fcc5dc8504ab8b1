"""A quantity that can never be sent is denied at preflight (issue 8, section 4).

0.000000001 of a whole-share stock rounds down to no share: the order is Denied before
anything reaches the venue, never sent and then reported completed with nothing filled.
"""

from __future__ import annotations

from execledger.domain import order_events as ev
from execledger.domain.requests import OrderRequest
from execledger.domain.status import OrderStatus
from execledger.infrastructure.ledger import open_ledger

from tests.e2e.scenario import run_batch


def test_a_billionth_of_a_whole_share_is_denied_and_never_sent(sqlite_url: str) -> None:
    request = OrderRequest(
        symbol="XYZ", side="BUY", quantity="0.000000001", correlation_id="dust", idempotency_key="dust-1"
    )
    with open_ledger(sqlite_url) as ledger:
        order = run_batch(ledger, "escalation.csv", [request], not_fractionable=["XYZ"]).orders[0]
        events = ledger.events_of(order.id)
    assert order.status is OrderStatus.DENIED
    assert [type(e).__name__ for e in events] == ["Requested", "Denied"]
    denied = events[-1]
    assert isinstance(denied, ev.Denied) and "0 shares" in denied.reason
    assert not any(isinstance(e, ev.PlacementRequested | ev.Completed) for e in events)
