"""Getting a quote to decide on: streamed first, REST as the fallback, retried."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
from execledger.domain.config import ExecutionConfig
from execledger.domain.quotes import QuoteChoice, assess_quote, choose_quote
from execledger.domain.refused_quotes import refused_entry
from execledger.domain.types import Quote, QuoteSource
from execledger.infrastructure.engine.retry import Retrier
from execledger.infrastructure.errors import BrokerUnavailable
from execledger.infrastructure.ports import Clock, MarketData

log = structlog.get_logger(__name__)


class QuoteFetcher:
    """Asks the market-data ports for a quote the policy accepts, within the configured wait."""

    def __init__(
        self,
        streamed: MarketData,
        rest: MarketData | None,
        clock: Clock,
        retrier: Retrier,
    ) -> None:
        self._streamed = streamed
        self._rest = rest
        self._clock = clock
        self._retrier = retrier

    async def choose(
        self, symbol: str, config: ExecutionConfig, refused: list[dict[str, Any]] | None = None
    ) -> QuoteChoice | None:
        """A quote the policy accepts, or None after ``quote_retry_attempts`` tries.

        ``refused`` gathers, for each attempt that found none, every quote refused and why
        (or the source that gave none): the no-quote decision records them.
        """
        attempts = config.quote_retry_attempts
        pause = config.max_quote_wait_seconds / attempts
        for attempt in range(1, attempts + 1):
            streamed, missing_stream = await self._latest(self._streamed, symbol)
            asked_rest = self._needs_rest(streamed, config)
            rest, missing_rest = await self._latest(self._rest, symbol) if asked_rest else (None, "")
            now = self._clock.now()
            choice = choose_quote(streamed, rest, config, now)
            if choice is not None:
                return choice
            if refused is not None:
                refused.append(_refusal(attempt, QuoteSource.STREAM, now, streamed, missing_stream, config))
                if asked_rest:
                    refused.append(_refusal(attempt, QuoteSource.REST, now, rest, missing_rest, config))
            log.info("no_valid_quote", symbol=symbol, attempt=attempt, of=attempts)
            if attempt < attempts:
                await self._clock.sleep(pause)
        return None

    def _needs_rest(self, streamed: Quote | None, config: ExecutionConfig) -> bool:
        """REST is asked only when the streamed quote is missing, invalid or suspicious."""
        if self._rest is None:
            return False
        if streamed is None:
            return True
        assessment = assess_quote(streamed, config, self._clock.now())
        return not assessment.is_valid or assessment.is_suspicious

    async def _latest(self, source: MarketData | None, symbol: str) -> tuple[Quote | None, str]:
        """The source's latest quote, or None and why there is none."""
        if source is None:
            return None, "no such source"
        try:
            quote = await self._retrier.call("latest_quote", lambda: source.latest_quote(symbol))
        except BrokerUnavailable as error:
            log.warning("quote_unavailable", symbol=symbol, error=str(error))
            return None, f"unavailable: {error}"
        return quote, "" if quote is not None else "no quote returned"


def _refusal(
    attempt: int,
    source: QuoteSource,
    now: datetime,
    quote: Quote | None,
    missing: str,
    config: ExecutionConfig,
) -> dict[str, Any]:
    """One refused quote (domain.refused_quotes); a usable one is never refused here, since
    choose_quote found none."""
    if quote is None:
        return refused_entry(attempt, source, now, None, [missing])
    return refused_entry(attempt, source, now, quote, assess_quote(quote, config, now).invalid_reasons)


def reference_price(mid: Decimal | None, fallback: Decimal | None) -> Decimal | None:
    """The price used to judge notional (remaining too small): the mid, else the last limit."""
    if mid is not None and mid > 0:
        return mid
    return fallback
