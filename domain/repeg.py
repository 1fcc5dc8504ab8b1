"""Re-peg policy: when an unfilled order is re-priced, to what price, and when it escalates.

``max_repegs`` counts limit re-pegs, not placements. With ``max_repegs=2`` an order is
placed, re-pegged twice (re-peg 1, re-peg 2), and the next time a re-peg is due its
remaining quantity goes to market: ``decide_repeg`` escalates once ``repegs_done`` has
reached ``max_repegs``. ``max_repegs=0`` escalates at the first due re-peg.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import InvalidQuote
from execledger.domain.quotes import seconds_between, unpriceable_reasons
from execledger.domain.ticks import on_tick
from execledger.domain.types import Quote, Side
from pydantic import BaseModel, ConfigDict


class RepegDecision(BaseModel):
    """Re-peg to ``new_price`` (re-peg number ``repeg_number``), or escalate to market."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["repeg", "escalate"]
    new_price: Decimal | None = None
    reasons: tuple[str, ...]
    repeg_number: int | None = None


class _Way:
    """One side's direction: its far side, and what "more aggressive" means for it."""

    def __init__(self, side: Side, quote: Quote) -> None:
        buy = side is Side.BUY
        self.far_name = "ask" if buy else "bid"
        self.far = quote.ask if buy else quote.bid
        self.sign = Decimal(1) if buy else Decimal(-1)
        self.toward = ROUND_CEILING if buy else ROUND_FLOOR
        self.away = ROUND_FLOOR if buy else ROUND_CEILING
        self.buy = buy

    def bolder(self, first: Decimal, second: Decimal) -> Decimal:
        """The more aggressive of two prices (higher for a BUY, lower for a SELL)."""
        return max(first, second) if self.buy else min(first, second)

    def meeker(self, first: Decimal, second: Decimal) -> Decimal:
        """The less aggressive of two prices."""
        return min(first, second) if self.buy else max(first, second)


def repeg_due(last_placed_at: datetime, now: datetime, config: ExecutionConfig) -> bool:
    """True once ``fill_wait_seconds`` have passed since the last placement (inclusive)."""
    return seconds_between(last_placed_at, now) >= config.fill_wait_seconds


def _escalate(reason: str) -> RepegDecision:
    return RepegDecision(action="escalate", reasons=(reason,))


def _target(way: _Way, last_price: Decimal, config: ExecutionConfig) -> tuple[Decimal, str]:
    halfway = last_price + (way.far - last_price) / 2
    price = on_tick(halfway)
    why = f"halfway from {last_price} toward {way.far_name} {way.far} is {halfway} -> {price}"
    if config.allow_cross_spread_on_repeg:
        bound = on_tick(way.far + way.sign * config.repeg_min_improvement, way.toward)
        words = "at least" if way.buy else "at most"
        step = f"{'+' if way.buy else '-'} {config.repeg_min_improvement}"
        why += f"; crossing allowed, so {words} {way.far_name} {step} = {bound}"
        return way.bolder(price, bound), why
    limit = on_tick(way.far, way.away)
    words = "at most" if way.buy else "at least"
    return way.meeker(price, limit), f"{why}; crossing off, so {words} {way.far_name} {limit}"


def _fresh(way: _Way, price: Decimal, used: set[Decimal], config: ExecutionConfig) -> Decimal | None:
    """Step ``price`` by the minimum improvement until it is unused; None if it cannot."""
    limit = None if config.allow_cross_spread_on_repeg else on_tick(way.far, way.away)
    while price in used:
        stepped = on_tick(price + way.sign * config.repeg_min_improvement, way.toward)
        stepped = stepped if limit is None else way.meeker(stepped, limit)
        if stepped == price:
            return None
        price = stepped
    return price


def decide_repeg(
    *,
    side: Side,
    quote: Quote,
    last_price: Decimal,
    price_history: Sequence[Decimal],
    repegs_done: int,
    config: ExecutionConfig,
) -> RepegDecision:
    """Re-peg an unfilled order, or escalate it to market. See docs/policy.md.

    ``price_history`` holds the limit prices this order has already used; ``last_price``
    counts as used too. Raises InvalidQuote when a re-peg is needed and the quote has a
    side <= 0 or is crossed (an escalation needs no quote).
    """
    if repegs_done >= config.max_repegs:
        return _escalate(
            f"{repegs_done} limit re-pegs done, max_repegs is {config.max_repegs}: "
            "remaining quantity goes to market"
        )
    problems = unpriceable_reasons(quote)
    if problems:
        raise InvalidQuote(list(problems))
    way = _Way(side, quote)
    target, why = _target(way, last_price, config)
    price = _fresh(way, target, {*price_history, last_price}, config)
    if price is None:
        return _escalate(f"{why}; every price up to the {way.far_name} has been used")
    number = repegs_done + 1
    reasons = [f"re-peg {number} of {config.max_repegs}", why]
    if price != target:
        reasons.append(f"{target} already used by this order: stepped to {price}")
    return RepegDecision(action="repeg", new_price=price, reasons=tuple(reasons), repeg_number=number)
