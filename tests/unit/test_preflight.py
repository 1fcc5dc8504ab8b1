"""Preflight, the remaining-too-small rule, and the no-quote action by urgency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from execledger.domain.config import ExecutionConfig
from execledger.domain.preflight import no_quote_action, preflight, remaining_too_small
from execledger.domain.types import Urgency

D = Decimal
CONFIG = ExecutionConfig()


def test_untradable_asset_is_denied() -> None:
    """An asset that is not tradable is denied, with nothing to execute."""
    decision = preflight(D("10"), tradable=False, fractionable=True)
    assert (decision.outcome, decision.quantity) == ("denied", D(0))
    assert "not tradable" in decision.reason


def test_fractional_quantity_of_fractionable_asset_is_validated() -> None:
    """A fractionable asset keeps its fractional quantity."""
    decision = preflight(D("2.5"), tradable=True, fractionable=True)
    assert (decision.outcome, decision.quantity) == ("validated", D("2.5"))


def test_whole_quantity_of_whole_share_asset_is_validated() -> None:
    """A whole number of shares needs no adjustment, even written as 5.000."""
    decision = preflight(D("5.000"), tradable=True, fractionable=False)
    assert (decision.outcome, decision.quantity) == ("validated", D("5.000"))


def test_fractional_quantity_of_whole_share_asset_is_rounded_down() -> None:
    """2.7 shares of a whole-share asset becomes 2 shares, recorded as adjusted."""
    decision = preflight(D("2.7"), tradable=True, fractionable=False)
    assert (decision.outcome, decision.quantity) == ("adjusted", D("2"))
    assert "2.7" in decision.reason


def test_whole_share_rounding_to_zero_is_denied() -> None:
    """0.9 shares of a whole-share asset rounds down to 0 and is denied."""
    decision = preflight(D("0.9"), tradable=True, fractionable=False)
    assert (decision.outcome, decision.quantity) == ("denied", D(0))


def test_non_positive_quantity_is_denied() -> None:
    """A zero quantity is denied with a reason."""
    assert preflight(D("0"), tradable=True, fractionable=True).outcome == "denied"


@pytest.mark.parametrize(("remaining", "too_small"), [("0.1", True), ("0.2", False)])
def test_fractionable_remaining_is_too_small_under_one_dollar_notional(
    remaining: str, too_small: bool
) -> None:
    """Fractionable: 0.1 @ 5 ($0.50) is too small; 0.2 @ 5 ($1.00) is not."""
    result = remaining_too_small(D(remaining), D("5"), fractionable=True, config=CONFIG)
    assert result is too_small


@pytest.mark.parametrize(
    ("remaining", "too_small"), [("0.4", True), ("0.6", False), ("0.5", True), ("1", False)]
)
def test_whole_share_remaining_is_too_small_when_it_rounds_to_zero_shares(
    remaining: str, too_small: bool
) -> None:
    """Whole-share: 0.4 rounds to 0 shares (too small); 0.6 rounds to 1 (not); 0.5 is half-even."""
    result = remaining_too_small(D(remaining), D("5"), fractionable=False, config=CONFIG)
    assert result is too_small


def test_nothing_remaining_is_too_small() -> None:
    """A fully filled order has nothing left worth sending."""
    assert remaining_too_small(D("0"), D("5"), fractionable=True, config=CONFIG)


def test_min_fractional_notional_comes_from_config() -> None:
    """Raising min_fractional_notional to $5 makes $1.00 of remaining too small."""
    config = ExecutionConfig(min_fractional_notional=D("5"))
    assert remaining_too_small(D("0.2"), D("5"), fractionable=True, config=config)


@pytest.mark.parametrize(
    ("urgency", "action"),
    [(Urgency.HIGH, "market"), (Urgency.NORMAL, "fail"), (Urgency.LOW, "fail")],
)
def test_only_high_urgency_goes_to_market_without_a_quote(urgency: Urgency, action: str) -> None:
    """No valid quote after the retries: HIGH goes to market, LOW and NORMAL fail."""
    assert no_quote_action(urgency) == action
