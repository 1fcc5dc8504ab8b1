"""The tick rule: which price increments are legal, and how a price is put on one."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

PENNY = Decimal("0.01")
SUB_PENNY = Decimal("0.0001")
ONE_DOLLAR = Decimal("1.00")


def tick_for(price: Decimal) -> Decimal:
    """The tick of a price: 0.01 at or above $1.00, 0.0001 below (the sub-penny rule)."""
    return PENNY if price >= ONE_DOLLAR else SUB_PENNY


def round_to_tick(price: Decimal, tick: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """``price`` on a multiple of ``tick``, half-even by default, never below one tick.

    ``rounding`` is one of the ``decimal`` module's rounding modes; the re-peg policy
    uses ``ROUND_CEILING``/``ROUND_FLOOR`` only to keep a bound on its correct side.
    """
    if tick <= 0:
        raise ValueError("tick must be positive")
    steps = (price / tick).to_integral_value(rounding=rounding)
    return max(steps * tick, tick)


def on_tick(price: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """``price`` rounded to the tick that applies to it (``tick_for(price)``)."""
    return round_to_tick(price, tick_for(price), rounding)


def tick_above(price: Decimal, count: int = 1) -> Decimal:
    """The price ``count`` legal ticks above ``price`` (the tick may change at $1.00)."""
    for _ in range(count):
        price = price + tick_for(price)
    return price


def tick_below(price: Decimal, count: int = 1) -> Decimal:
    """The price ``count`` legal ticks below ``price`` (1.00 steps down to 0.9999)."""
    for _ in range(count):
        price = price - tick_for(price - SUB_PENNY)
    return price
