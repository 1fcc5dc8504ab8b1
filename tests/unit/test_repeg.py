"""Re-peg policy: when a re-peg is due, the new price, history steps and escalation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import InvalidQuote
from execledger.domain.repeg import RepegDecision, decide_repeg, repeg_due
from execledger.domain.types import Quote, QuoteSource, Side

D = Decimal
CROSSING = ExecutionConfig()
NO_CROSSING = ExecutionConfig(allow_cross_spread_on_repeg=False)
T0 = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)


def quote(bid: str, ask: str) -> Quote:
    """A streamed quote at T0."""
    return Quote(
        symbol="ABC",
        bid=D(bid),
        ask=D(ask),
        bid_size=D(100),
        ask_size=D(100),
        quoted_at=T0,
        source=QuoteSource.STREAM,
    )


def repeg(
    side: Side,
    bid: str,
    ask: str,
    last: str,
    *,
    history: Sequence[str] = (),
    done: int = 0,
    config: ExecutionConfig = CROSSING,
) -> RepegDecision:
    """decide_repeg with strings for prices; the last price is in the history."""
    return decide_repeg(
        side=side,
        quote=quote(bid, ask),
        last_price=D(last),
        price_history=[D(last), *(D(price) for price in history)],
        repegs_done=done,
        config=config,
    )


def test_repeg_is_not_due_before_the_fill_wait() -> None:
    """9.999 s after placement an unfilled order keeps working."""
    assert not repeg_due(T0, T0 + timedelta(seconds=9.999), CROSSING)


def test_repeg_is_due_at_the_fill_wait() -> None:
    """Exactly fill_wait_seconds (10 s) after placement the order is re-pegged."""
    assert repeg_due(T0, T0 + timedelta(seconds=10), CROSSING)


def test_fill_wait_comes_from_config() -> None:
    """fill_wait_seconds=2.5 makes a re-peg due at 2.5 s."""
    config = ExecutionConfig(fill_wait_seconds=D("2.5"))
    assert repeg_due(T0, T0 + timedelta(seconds=2.5), config)
    assert not repeg_due(T0, T0 + timedelta(seconds=2.4), config)


def test_acceptance_buy_with_crossing_goes_past_the_ask() -> None:
    """BUY on 100/101 from 100.25: halfway is 100.62, but at least ask + 0.02 = 101.02."""
    decision = repeg(Side.BUY, "100", "101", "100.25")
    assert (decision.action, decision.new_price, decision.repeg_number) == ("repeg", D("101.02"), 1)


def test_acceptance_sell_with_crossing_goes_past_the_bid() -> None:
    """SELL on 100/101 from 100.75: at most bid - 0.02 = 99.98."""
    assert repeg(Side.SELL, "100", "101", "100.75").new_price == D("99.98")


def test_acceptance_buy_with_crossing_on_a_narrow_spread() -> None:
    """BUY on 100/100.50 from 100.25 goes to ask + 0.02 = 100.52."""
    assert repeg(Side.BUY, "100", "100.50", "100.25").new_price == D("100.52")


def test_acceptance_buy_without_crossing_goes_halfway() -> None:
    """Crossing off: BUY on 100/100.50 from 100.25 goes halfway, 100.375 -> 100.38."""
    decision = repeg(Side.BUY, "100", "100.50", "100.25", config=NO_CROSSING)
    assert decision.new_price == D("100.38")


def test_acceptance_sell_without_crossing_goes_halfway() -> None:
    """Crossing off: SELL on 100/100.50 from 100.25 goes halfway, 100.125 -> 100.12."""
    decision = repeg(Side.SELL, "100", "100.50", "100.25", config=NO_CROSSING)
    assert decision.new_price == D("100.12")


def test_acceptance_used_price_moves_one_more_improvement_step() -> None:
    """BUY on 100/101 whose 101.02 was already used goes to 101.04."""
    decision = repeg(Side.BUY, "100", "101", "100.25", history=["101.02"], done=1)
    assert decision.new_price == D("101.04")
    assert any("already used" in reason for reason in decision.reasons)


def test_history_steps_repeat_until_the_price_is_unused() -> None:
    """SELL with 99.98 and 99.96 used steps twice, to 99.94."""
    decision = repeg(Side.SELL, "100", "101", "100.75", history=["99.98", "99.96"], done=1)
    assert decision.new_price == D("99.94")


def test_history_step_without_crossing_stops_at_the_far_side() -> None:
    """Crossing off: a used price steps 0.02; a step past the ask stops at the ask."""
    decision = repeg(Side.BUY, "100", "100.40", "100.25", history=["100.32", "100.33"], config=NO_CROSSING)
    assert decision.new_price == D("100.34")
    decision = repeg(Side.BUY, "100", "100.40", "100.38", history=["100.39"], config=NO_CROSSING)
    assert decision.new_price == D("100.40")


def test_no_unused_price_inside_the_far_side_escalates() -> None:
    """Crossing off and every price up to the ask already used: escalate, with the reason."""
    decision = repeg(Side.BUY, "100", "100.50", "100.49", history=["100.50"], config=NO_CROSSING)
    assert decision.action == "escalate" and decision.new_price is None
    assert "every price up to the ask has been used" in decision.reasons[0]


def test_without_crossing_a_buy_above_the_ask_comes_back_to_the_ask() -> None:
    """Crossing off, the market fell below the working BUY: the new price is the ask."""
    decision = repeg(Side.BUY, "99", "99.50", "100.25", config=NO_CROSSING)
    assert decision.new_price == D("99.50")


def test_sub_dollar_repeg_prices_on_the_sub_penny_tick() -> None:
    """Crossing off, BUY on 0.5012/0.5050 from 0.5013: halfway 0.50315 -> 0.5032."""
    decision = repeg(Side.BUY, "0.5012", "0.5050", "0.5013", config=NO_CROSSING)
    assert decision.new_price == D("0.5032")


def test_improvement_comes_from_config() -> None:
    """repeg_min_improvement=0.05 puts a crossing BUY at ask + 0.05."""
    config = ExecutionConfig(repeg_min_improvement=D("0.05"))
    assert repeg(Side.BUY, "100", "101", "100.25", config=config).new_price == D("101.05")


def test_second_repeg_is_numbered_two() -> None:
    """With one re-peg done and max_repegs=2, the next is re-peg 2."""
    decision = repeg(Side.BUY, "100", "101", "101.02", done=1)
    assert (decision.action, decision.repeg_number) == ("repeg", 2)
    assert decision.reasons[0] == "re-peg 2 of 2"


def test_max_repegs_two_escalates_after_two_repegs() -> None:
    """max_repegs=2: placement, re-peg 1, re-peg 2, then the third due re-peg escalates."""
    decision = repeg(Side.BUY, "100", "101", "101.04", done=2)
    assert (decision.action, decision.new_price, decision.repeg_number) == ("escalate", None, None)
    assert "max_repegs is 2" in decision.reasons[0]


def test_max_repegs_zero_escalates_at_the_first_due_repeg() -> None:
    """max_repegs=0: no limit re-peg at all, straight to market."""
    config = ExecutionConfig(max_repegs=0)
    assert repeg(Side.SELL, "100", "101", "100.75", config=config).action == "escalate"


def test_escalation_needs_no_valid_quote() -> None:
    """Re-pegs exhausted: escalate even on a crossed quote (a market order needs no price)."""
    assert repeg(Side.BUY, "101", "100", "100.25", done=2).action == "escalate"


@pytest.mark.parametrize(("bid", "ask"), [("101", "100"), ("0", "100"), ("0", "0")])
def test_repeg_on_an_unpriceable_quote_raises_invalid_quote(bid: str, ask: str) -> None:
    """A re-peg on a crossed quote or one with a side <= 0 is rejected with reasons."""
    with pytest.raises(InvalidQuote) as caught:
        repeg(Side.BUY, bid, ask, "100.25")
    assert caught.value.reasons
