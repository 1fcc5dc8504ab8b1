"""Quote validation: is a quote usable, is it suspicious, and which quote to use."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from execledger.domain.config import ExecutionConfig
from execledger.domain.types import Quote
from pydantic import BaseModel, ConfigDict

SUB_PENNY_FLOOR = Decimal("0.01")
HUNDRED = Decimal("100")
MICROSECONDS = Decimal("1000000")


class QuoteAssessment(BaseModel):
    """Why a quote cannot be used (invalid) and why it should be doubted (suspicious)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    invalid_reasons: tuple[str, ...] = ()
    suspicious_reasons: tuple[str, ...] = ()

    @property
    def is_valid(self) -> bool:
        """True when nothing makes the quote unusable."""
        return not self.invalid_reasons

    @property
    def is_suspicious(self) -> bool:
        """True when the quote is usable only if nothing better can be had."""
        return bool(self.suspicious_reasons)


class QuoteChoice(BaseModel):
    """The quote chosen for a decision, the doubts recorded on the way, and whether
    the REST fallback was used."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quote: Quote
    suspicion_reasons: tuple[str, ...] = ()
    fallback_used: bool = False


def seconds_between(earlier: datetime, later: datetime) -> Decimal:
    """``later - earlier`` in seconds, exactly, as a Decimal (negative if reversed)."""
    delta = later - earlier
    whole = Decimal(delta.days * 86_400 + delta.seconds)
    return whole + Decimal(delta.microseconds) / MICROSECONDS


def price_problems(quote: Quote) -> tuple[str, ...]:
    """Reasons the quote's prices are unusable, whatever its age: both sides <= 0, crossed."""
    reasons: list[str] = []
    if quote.bid <= 0 and quote.ask <= 0:
        reasons.append(f"both prices are non-positive (bid {quote.bid}, ask {quote.ask})")
    if quote.bid > quote.ask:
        reasons.append(f"crossed: bid {quote.bid} is above ask {quote.ask}")
    return tuple(reasons)


def _staleness(quote: Quote, config: ExecutionConfig, now: datetime) -> tuple[str, ...]:
    if not quote.is_streamed:
        return ()
    age = seconds_between(quote.quoted_at, now)
    if age > config.quote_freshness_seconds:
        limit = config.quote_freshness_seconds
        return (f"stale: {quote.source.value} quote is {age}s old, limit {limit}s",)
    return ()


def _odd_prices(quote: Quote) -> list[str]:
    reasons: list[str] = []
    for name, price in (("bid", quote.bid), ("ask", quote.ask)):
        if price < 0:
            reasons.append(f"negative {name} {price}")
        elif 0 < price < SUB_PENNY_FLOOR:
            reasons.append(f"{name} {price} is below {SUB_PENNY_FLOOR}")
    return reasons


def _odd_spread(quote: Quote, config: ExecutionConfig) -> list[str]:
    if quote.ask < quote.bid:
        return [f"inverted spread: ask {quote.ask} is below bid {quote.bid}"]
    if quote.ask <= 0:
        return []
    percent = (quote.ask - quote.bid) / quote.ask * HUNDRED
    if percent > config.suspicious_spread_percent:
        shown = percent.quantize(Decimal("0.01"))
        limit = config.suspicious_spread_percent
        return [f"wide spread: {shown}% of ask, limit {limit}%"]
    return []


def assess_quote(quote: Quote, config: ExecutionConfig, now: datetime) -> QuoteAssessment:
    """Assess a quote at time ``now``; staleness applies to streamed quotes only."""
    return QuoteAssessment(
        invalid_reasons=price_problems(quote) + _staleness(quote, config, now),
        suspicious_reasons=tuple(_odd_prices(quote) + _odd_spread(quote, config)),
    )


def _doubts(quote: Quote, assessment: QuoteAssessment) -> tuple[str, ...]:
    reasons = assessment.invalid_reasons + assessment.suspicious_reasons
    return tuple(f"{quote.source.value}: {reason}" for reason in reasons)


def choose_quote(
    streamed: Quote | None, rest: Quote | None, config: ExecutionConfig, now: datetime
) -> QuoteChoice | None:
    """The quote to decide on, or None when no valid quote is had.

    A valid, unsuspicious streamed quote wins. Otherwise a valid, unsuspicious REST
    quote wins (the fallback). Failing both, a valid but suspicious streamed quote is
    used, and after it a valid but suspicious REST quote. Every doubt met on the way
    is recorded, tagged with the source it applies to (``"stream: wide spread ..."``).
    """
    candidates = [
        (quote, assess_quote(quote, config, now), fallback)
        for quote, fallback in ((streamed, False), (rest, True))
        if quote is not None
    ]
    doubts: tuple[str, ...] = ()
    for quote, assessment, fallback in candidates:
        if assessment.is_valid and not assessment.is_suspicious:
            return QuoteChoice(quote=quote, suspicion_reasons=doubts, fallback_used=fallback)
        doubts += _doubts(quote, assessment)
    for quote, assessment, fallback in candidates:
        if assessment.is_valid:
            return QuoteChoice(quote=quote, suspicion_reasons=doubts, fallback_used=fallback)
    return None


def unpriceable_reasons(quote: Quote) -> tuple[str, ...]:
    """Reasons no limit price can be derived from the quote: a side <= 0, or crossed."""
    reasons = [
        f"{name} {price} is not positive"
        for name, price in (("bid", quote.bid), ("ask", quote.ask))
        if price <= 0
    ]
    if quote.bid > quote.ask:
        reasons.append(f"crossed: bid {quote.bid} is above ask {quote.ask}")
    return tuple(reasons)
