"""Limit pricing: liquidity-aware for streamed quotes, inside-spread for REST quotes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import DomainError, InvalidQuote
from execledger.domain.quotes import unpriceable_reasons
from execledger.domain.ticks import on_tick, tick_above, tick_below, tick_for
from execledger.domain.types import Quote, Side
from pydantic import BaseModel, ConfigDict

PricingMethod = Literal["liquidity_aware", "inside_spread"]
Recommendation = Literal["normal", "patient", "split", "aggressive"]

ONE = Decimal("1")
HUNDRED = Decimal("100")
SHOWN_RATIO = Decimal("0.0001")
SHOWN_CONFIDENCE = Decimal("0.01")


class PriceDecision(BaseModel):
    """A limit price, how it was found, its tick, and the analysis behind it (as text)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    limit_price: Decimal
    method: PricingMethod
    tick: Decimal
    metadata: dict[str, str]


@dataclass(frozen=True)
class LiquidityAnalysis:
    """What the displayed sizes say about an order; only the tick counts move the price."""

    ratio: Decimal
    imbalance: Decimal
    size_ticks: int
    imbalance_ticks: int
    score: Decimal
    confidence: Decimal
    recommendation: Recommendation

    def as_metadata(self) -> dict[str, str]:
        """The analysis as JSON-safe strings."""
        return {
            "liquidity_score": str(self.score),
            "confidence": str(self.confidence),
            "recommendation": self.recommendation,
            "imbalance": str(self.imbalance.quantize(SHOWN_RATIO)),
            "ratio": str(self.ratio.quantize(SHOWN_RATIO)),
            "size_ticks": str(self.size_ticks),
            "imbalance_ticks": str(self.imbalance_ticks),
        }


def _imbalance(bid_size: Decimal, ask_size: Decimal) -> Decimal:
    total = bid_size + ask_size
    return (ask_size - bid_size) / total if total > 0 else Decimal(0)


def _size_ticks(ratio: Decimal, config: ExecutionConfig) -> int:
    if ratio > config.liquidity_large_ratio:
        return 2
    return 1 if ratio > config.liquidity_small_ratio else 0


def _recommend(
    ratio: Decimal, pressure: int, imbalance: Decimal, side: Side, config: ExecutionConfig
) -> Recommendation:
    if ratio > config.liquidity_large_ratio:
        return "split"
    if pressure:
        return "aggressive"
    leaning = imbalance if side is Side.BUY else -imbalance
    return "patient" if leaning > config.imbalance_threshold else "normal"


def analyse_liquidity(
    side: Side, quantity: Decimal, quote: Quote, config: ExecutionConfig
) -> LiquidityAnalysis:
    """Ratio of the order to its own side's displayed size, book imbalance, and scores."""
    bid_size, ask_size = max(quote.bid_size, Decimal(0)), max(quote.ask_size, Decimal(0))
    own_size = bid_size if side is Side.BUY else ask_size
    ratio = quantity / max(own_size, ONE)
    imbalance = _imbalance(bid_size, ask_size)
    size_ticks = _size_ticks(ratio, config)
    against = -imbalance if side is Side.BUY else imbalance
    pressure = 1 if against > config.imbalance_threshold else 0
    confidence = min(ONE, (bid_size + ask_size) / (2 * quantity))
    return LiquidityAnalysis(
        ratio=ratio,
        imbalance=imbalance,
        size_ticks=size_ticks,
        imbalance_ticks=pressure,
        score=(HUNDRED * (ONE - min(ratio, ONE))).quantize(ONE),
        confidence=confidence.quantize(SHOWN_CONFIDENCE),
        recommendation=_recommend(ratio, pressure, imbalance, side, config),
    )


def _liquidity_aware(side: Side, quote: Quote, analysis: LiquidityAnalysis) -> Decimal:
    ticks = analysis.size_ticks + analysis.imbalance_ticks
    if side is Side.BUY:
        return max(quote.bid, min(tick_above(quote.bid, ticks), tick_below(quote.ask)))
    return min(quote.ask, max(tick_below(quote.ask, ticks), tick_above(quote.bid)))


def _inside_spread(side: Side, quote: Quote) -> tuple[Decimal, str]:
    if side is Side.BUY:
        price, rule = tick_above(quote.bid), "bid + 1 tick"
        if price >= quote.ask:
            price, rule = max(tick_below(quote.ask), quote.bid), "max(ask - 1 tick, bid)"
        return (quote.mid, "mid") if quote.mid < price else (price, rule)
    price, rule = tick_below(quote.ask), "ask - 1 tick"
    if price <= quote.bid:
        price, rule = min(tick_above(quote.bid), quote.ask), "min(bid + 1 tick, ask)"
    return (quote.mid, "mid") if quote.mid > price else (price, rule)


def price_order(side: Side, quantity: Decimal, quote: Quote, config: ExecutionConfig) -> PriceDecision:
    """The limit price for an order on this quote: liquidity-aware if the quote is
    streamed, inside-spread if it came from REST. Raises InvalidQuote when a side is
    not positive or the quote is crossed, DomainError when the quantity is not positive.
    """
    problems = unpriceable_reasons(quote)
    if problems:
        raise InvalidQuote(list(problems))
    if quantity <= 0:
        raise DomainError(f"quantity {quantity} must be greater than zero")
    analysis = analyse_liquidity(side, quantity, quote, config)
    metadata = {**analysis.as_metadata(), "quote_source": quote.source.value}
    method: PricingMethod
    if quote.is_streamed:
        method, raw = "liquidity_aware", _liquidity_aware(side, quote, analysis)
        metadata["rule"] = "bid + ticks" if side is Side.BUY else "ask - ticks"
    else:
        method, (raw, metadata["rule"]) = "inside_spread", _inside_spread(side, quote)
        metadata["mid"] = str(quote.mid)
    price = on_tick(raw)
    return PriceDecision(limit_price=price, method=method, tick=tick_for(price), metadata=metadata)
