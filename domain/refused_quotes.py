"""Quotes a "no valid quote" decision refused, recorded on it so replay can re-derive them.

Each attempt at a quote (``quote_retry_attempts`` of them) that found none usable leaves
one entry per source asked: the quote as it came (or none, and why), the time it was
checked and the reasons it was refused. A quote that passed the checks but could not be
priced (a side not positive) is recorded as refused by pricing. Replay rebuilds each quote
and asks today's checks again (``rederive``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import InvalidQuote
from execledger.domain.pricing import price_order
from execledger.domain.quotes import assess_quote
from execledger.domain.types import Quote, QuoteSource, Side

VALIDATION = "validation"
PRICING = "pricing"
USABLE = "usable"


def refused_entry(
    attempt: int,
    source: QuoteSource,
    checked_at: datetime,
    quote: Quote | None,
    reasons: list[str] | tuple[str, ...],
    refused_by: str = VALIDATION,
) -> dict[str, Any]:
    """One refused quote as recorded on the decision (None prices: no quote came back)."""
    return {
        "attempt": attempt,
        "source": source.value,
        "checked_at": checked_at,
        "bid": None if quote is None else quote.bid,
        "ask": None if quote is None else quote.ask,
        "bid_size": None if quote is None else quote.bid_size,
        "ask_size": None if quote is None else quote.ask_size,
        "quoted_at": None if quote is None else quote.quoted_at,
        "reasons": list(reasons),
        "refused_by": refused_by,
    }


def recorded_quote(entry: dict[str, Any], symbol: str) -> Quote | None:
    """The quote an entry recorded, or None when none came back."""
    if entry.get("bid") is None:
        return None
    return Quote(
        symbol=symbol,
        bid=entry["bid"],
        ask=entry["ask"],
        bid_size=entry["bid_size"],
        ask_size=entry["ask_size"],
        quoted_at=entry["quoted_at"],
        source=QuoteSource(entry["source"]),
    )


def recorded_verdict(entry: dict[str, Any]) -> str:
    """What the entry says: ``refused: <reasons>``."""
    return "refused: " + "; ".join(entry["reasons"])


def rederive(
    entry: dict[str, Any], symbol: str, side: Side, remaining: Decimal, config: ExecutionConfig
) -> str | None:
    """Today's verdict on the recorded quote (None when no quote came back: nothing to re-derive)."""
    quote = recorded_quote(entry, symbol)
    if quote is None:
        return None
    if entry.get("refused_by") == PRICING:
        try:
            price_order(side, remaining, quote, config)
        except InvalidQuote as error:
            return "refused: " + "; ".join(error.reasons)
        return USABLE
    reasons = assess_quote(quote, config, entry["checked_at"]).invalid_reasons
    return "refused: " + "; ".join(reasons) if reasons else USABLE


def expected_attempts(entries: list[dict[str, Any]], config: ExecutionConfig) -> int:
    """How many attempts a no-quote decision makes: every retry, or the one quote that
    passed the checks but could not be priced."""
    if any(e.get("refused_by") == PRICING for e in entries):
        return 1
    return config.quote_retry_attempts
