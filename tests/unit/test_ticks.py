"""The tick rule and half-even rounding to the tick."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pytest
from execledger.domain.ticks import on_tick, round_to_tick, tick_above, tick_below, tick_for

D = Decimal


@pytest.mark.parametrize(
    ("price", "tick"),
    [("1.00", "0.01"), ("100", "0.01"), ("0.9999", "0.0001"), ("0.10", "0.0001"), ("0", "0.0001")],
)
def test_tick_is_a_cent_from_one_dollar_and_a_hundredth_of_a_cent_below(price: str, tick: str) -> None:
    """0.01 at or above $1.00, 0.0001 below $1.00 (the sub-penny rule)."""
    assert tick_for(D(price)) == D(tick)


@pytest.mark.parametrize(
    ("price", "expected"),
    [("100.125", "100.12"), ("100.135", "100.14"), ("100.126", "100.13"), ("100.12", "100.12")],
)
def test_rounding_to_a_cent_is_half_even(price: str, expected: str) -> None:
    """100.125 -> 100.12 and 100.135 -> 100.14: ties go to the even cent."""
    assert round_to_tick(D(price), D("0.01")) == D(expected)


def test_rounding_zero_gives_one_tick() -> None:
    """A price that rounds to nothing becomes one tick, never zero."""
    assert round_to_tick(D("0"), D("0.01")) == D("0.01")


def test_rounding_a_negative_price_gives_one_tick() -> None:
    """Rounding never goes below one tick, even from a negative price."""
    assert round_to_tick(D("-3.5"), D("0.0001")) == D("0.0001")


def test_rounding_to_a_sub_penny_tick_keeps_four_places() -> None:
    """Under $1 the price is rounded to 0.0001, not to a cent."""
    assert round_to_tick(D("0.10005"), D("0.0001")) == D("0.1000")
    assert round_to_tick(D("0.10015"), D("0.0001")) == D("0.1002")


def test_directed_rounding_is_available_for_bounds() -> None:
    """Ceiling and floor rounding keep a bound on its side of the exact value."""
    assert round_to_tick(D("100.561"), D("0.01"), ROUND_CEILING) == D("100.57")
    assert round_to_tick(D("100.569"), D("0.01"), ROUND_FLOOR) == D("100.56")


def test_a_non_positive_tick_is_rejected() -> None:
    """A zero tick is a programming error, not a price."""
    with pytest.raises(ValueError, match="tick must be positive"):
        round_to_tick(D("1"), D("0"))


def test_on_tick_uses_the_tick_of_the_price_itself() -> None:
    """0.99996 rounds on the sub-penny tick up to 1.0000, which is also a whole cent."""
    assert on_tick(D("0.99996")) == D("1.0000")
    assert on_tick(D("1.005")) == D("1.00")


def test_ticks_step_across_the_dollar_boundary() -> None:
    """One tick below 1.00 is 0.9999; one tick above 0.9999 is 1.0000; 1.01 steps to 1.00."""
    assert tick_below(D("1.00")) == D("0.9999")
    assert tick_above(D("0.9999")) == D("1.0000")
    assert tick_below(D("1.01")) == D("1.00")
    assert tick_above(D("100.00"), 2) == D("100.02")
