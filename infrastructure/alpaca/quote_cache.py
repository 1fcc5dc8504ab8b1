"""StreamedQuotes: the latest streamed quote per symbol, as the engine's streamed source.

The engine asks ``latest_quote``; this keeps one data-stream connection (Alpaca allows
one on the free plan) subscribed to the batch's symbols and answers from what it last
received. Quotes never seen are None, so the engine falls back to REST.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import structlog
from execledger.domain.types import Quote
from execledger.infrastructure.alpaca.market_data import AlpacaMarketData
from execledger.infrastructure.errors import MarketDataError

log = structlog.get_logger(__name__)


class StreamedQuotes:
    """A MarketData whose ``latest_quote`` is the data stream's last quote of the symbol."""

    def __init__(self, source: AlpacaMarketData, symbols: Iterable[str]) -> None:
        self._source = source
        self._symbols = sorted(set(symbols))
        self._latest: dict[str, Quote] = {}
        self._task: asyncio.Task[None] | None = None

    async def latest_quote(self, symbol: str) -> Quote | None:
        """The last streamed quote of ``symbol`` (the stream starts on the first ask)."""
        if self._task is None and self._symbols:
            self._task = asyncio.get_running_loop().create_task(self._follow(), name="alpaca-quote-cache")
        return self._latest.get(symbol)

    def quote_stream(self, symbols: list[str]) -> AsyncIterator[Quote]:
        return self._source.quote_stream(symbols)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _follow(self) -> None:
        stream = self._source.quote_stream(self._symbols)
        try:
            async for quote in stream:
                self._latest[quote.symbol] = quote
        except MarketDataError as error:
            log.warning("quote_stream_stopped", error=str(error))
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
