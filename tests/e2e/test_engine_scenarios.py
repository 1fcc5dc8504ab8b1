"""Hand-worked scenarios: the events the engine records on small tapes, number by number."""

from __future__ import annotations

from decimal import Decimal

import pytest
from execledger.domain.config import ExecutionConfig
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.verification import verify_ledger

from tests.e2e.scenario import request, run_batch, steps, types


@pytest.fixture
def ledger(database_url: str) -> Ledger:
    with open_ledger(database_url) as opened:
        yield opened


def test_buy_repegs_twice_then_escalates_to_market(ledger: Ledger) -> None:
    """BUY 50: 100.02, re-peg 101.12 (20 @ 101.10), re-peg 101.72 (20 @ 101.70), market 10 @ 102.50."""
    order = run_batch(ledger, "escalation.csv", [request("XYZ", "BUY", "50")]).orders[0]
    names = (
        "limit_price",
        "new_price",
        "old_price",
        "repeg_number",
        "quantity",
        "price",
        "order_type",
        "filled_quantity",
        "remaining_quantity",
    )
    recorded = [(s.type, s.fields) for s in steps(ledger, order, *names)]
    priced = [f["limit_price"] for t, f in recorded if t == "Priced"]
    repegs = [(f["old_price"], f["new_price"], f["repeg_number"]) for t, f in recorded if t == "Repegged"]
    sent = [
        (f["order_type"], f["quantity"], f["limit_price"]) for t, f in recorded if t == "PlacementRequested"
    ]
    fills = [
        (t, f["quantity"], f["price"], f["filled_quantity"], f["remaining_quantity"])
        for t, f in recorded
        if t in ("PartiallyFilled", "Filled")
    ]
    assert priced == ["100.02"]  # bid + 1 tick (ratio 0.5) + 1 tick (imbalance -0.67)
    assert repegs == [("100.02", "101.12", "1"), ("101.12", "101.72", "2")]
    assert sent == [
        ("LIMIT", "50", "100.02"),
        ("LIMIT", "50", "101.12"),
        ("LIMIT", "30", "101.72"),
        ("MARKET", "10", "None"),
    ]
    assert fills == [
        ("PartiallyFilled", "20", "101.10", "20", "30"),
        ("PartiallyFilled", "20", "101.70", "40", "10"),
        ("Filled", "10", "102.50", "50", "0"),
    ]
    assert types(ledger, order)[-1] == "Completed"
    assert order.escalated and order.repegs == 2
    assert order.average_fill_price == Decimal("101.62")
    assert verify_ledger(ledger).ok


def test_escalation_is_recorded_before_the_market_order(ledger: Ledger) -> None:
    """Write-ahead: Escalated, CancelRequested, Canceled, then PlacementRequested(MARKET), Placed, Filled."""
    order = run_batch(ledger, "escalation.csv", [request("XYZ", "BUY", "50")]).orders[0]
    tail = types(ledger, order)[-8:]
    assert tail == [
        "Quoted",
        "Escalated",
        "CancelRequested",
        "Canceled",
        "PlacementRequested",
        "Placed",
        "Filled",
        "Completed",
    ]


def test_sub_dollar_sell_prices_on_the_hundredth_of_a_cent(ledger: Ledger) -> None:
    """SELL 400 at 0.5012/0.5050: ask - 1 tick of 0.0001 = 0.5049; re-peg crosses to bid - 0.02."""
    order = run_batch(ledger, "sub_dollar.csv", [request("ABC", "SELL", "400")]).orders[0]
    recorded = steps(ledger, order, "limit_price", "tick", "new_price", "price")
    priced = next(s.fields for s in recorded if s.type == "Priced")
    assert priced == {"limit_price": "0.5049", "tick": "0.0001"}
    assert [s.fields["new_price"] for s in recorded if s.type == "Repegged"] == ["0.4800"]
    assert [s.fields["price"] for s in recorded if s.type == "Filled"] == ["0.5000"]
    assert order.status.value == "completed"


def test_whole_share_asset_rounds_down_or_denies(ledger: Ledger) -> None:
    """A whole-share asset: 10.7 is adjusted to 10 shares; 0.4 rounds to zero and is denied."""
    result = run_batch(
        ledger,
        "short_quiet.csv",
        [request("XYZ", "BUY", "10.7"), request("XYZ", "BUY", "0.4")],
        not_fractionable={"XYZ"},
    )
    adjusted, denied = result.orders
    adjusted_step = steps(ledger, adjusted, "old_quantity", "new_quantity")[1]
    assert adjusted_step.type == "QuantityAdjusted"
    assert adjusted_step.fields == {"old_quantity": "10.7", "new_quantity": "10"}
    assert types(ledger, denied) == ["Requested", "Denied"]


def test_untradable_asset_is_denied_without_reaching_the_venue(ledger: Ledger) -> None:
    """Preflight denies an untradable asset: nothing is quoted or placed."""
    order = run_batch(ledger, "short_quiet.csv", [request("XYZ", "BUY", "5")], not_tradable={"XYZ"}).orders[0]
    assert types(ledger, order) == ["Requested", "Denied"]


def test_order_still_working_when_the_tape_ends_is_canceled_and_expired(ledger: Ledger) -> None:
    """A 5-second tape ends before the first re-peg: the order is canceled, then Expired."""
    order = run_batch(ledger, "short_quiet.csv", [request("XYZ", "BUY", "10")]).orders[0]
    assert types(ledger, order)[-3:] == ["CancelRequested", "Canceled", "Expired"]
    assert order.filled_quantity == 0


def test_no_valid_quote_fails_a_normal_order(ledger: Ledger) -> None:
    """Only crossed quotes: after quote_retry_attempts a NORMAL order fails with the reason."""
    order = run_batch(ledger, "crossed.csv", [request("QQQ", "BUY", "5")]).orders[0]
    assert types(ledger, order) == ["Requested", "Validated", "Failed"]
    assert "no valid quote after 3 attempts" in (order.terminal_reason or "")


def test_no_valid_quote_sends_a_high_urgency_order_to_market(ledger: Ledger) -> None:
    """Only crossed quotes: urgency HIGH escalates and sends the whole quantity as a market order."""
    order = run_batch(ledger, "crossed.csv", [request("QQQ", "BUY", "5", urgency="HIGH")]).orders[0]
    recorded = steps(ledger, order, "order_type", "quantity")
    assert [s.type for s in recorded][:4] == ["Requested", "Validated", "Escalated", "PlacementRequested"]
    assert recorded[3].fields == {"order_type": "MARKET", "quantity": "5"}
    assert order.filled_quantity == Decimal(5)


def test_max_repegs_zero_goes_to_market_at_the_first_wait(ledger: Ledger) -> None:
    """max_repegs=0: no limit re-peg at all; the first due check escalates."""
    config = ExecutionConfig(max_repegs=0)
    order = run_batch(ledger, "escalation.csv", [request("XYZ", "BUY", "50")], config=config).orders[0]
    recorded = types(ledger, order)
    assert "Repegged" not in recorded and "Escalated" in recorded
    assert order.filled_quantity == Decimal(50)


def test_same_batch_twice_creates_nothing_and_sends_nothing(ledger: Ledger) -> None:
    """Re-running a finished batch: same orders, no new events, nothing sent to the venue."""
    batch = [request("XYZ", "BUY", "50", idempotency_key="rebalance-1")]
    run_batch(ledger, "escalation.csv", batch)
    before = ledger.recorder.max_notification_id()
    again = run_batch(ledger, "escalation.csv", batch)
    assert again.created == 0 and again.already_finished == 1
    assert ledger.recorder.max_notification_id() == before
