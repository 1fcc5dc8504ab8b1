"""AlpacaMarketData: the MarketData port on StockHistoricalDataClient and StockDataStream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import structlog
from alpaca.data.enums import DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.live import StockDataStream
from alpaca.data.models import Quote as AlpacaQuote
from alpaca.data.requests import StockLatestQuoteRequest
from execledger.domain.types import Quote, QuoteSource
from execledger.infrastructure.alpaca.calls import AlpacaRefusal, call_idempotent
from execledger.infrastructure.alpaca.settings import AlpacaSettings
from execledger.infrastructure.alpaca.translation import quote
from execledger.infrastructure.errors import MarketDataError, TransientBrokerError

log = structlog.get_logger(__name__)


class AlpacaMarketData:
    """Latest quotes over REST (the fallback), live quotes over the data WebSocket."""

    def __init__(self, client: StockHistoricalDataClient, settings: AlpacaSettings, stream_url: str) -> None:
        self._client = client
        self._settings = settings
        self._stream_url = stream_url
        self._feed = DataFeed(settings.feed)

    async def latest_quote(self, symbol: str) -> Quote | None:
        """The latest quote of ``symbol`` (None when Alpaca has none); MarketDataError if unreachable."""
        request = StockLatestQuoteRequest(symbol_or_symbols=symbol, feed=self._feed)
        settings = self._settings
        try:
            quotes = await call_idempotent(
                "latest_quote",
                lambda: self._client.get_stock_latest_quote(request),
                settings.get_retries,
                settings.get_retry_backoff_seconds,
            )
        except (TransientBrokerError, AlpacaRefusal) as error:
            raise MarketDataError(f"latest quote of {symbol}: {error}") from None
        found = quotes.get(symbol) if isinstance(quotes, dict) else None
        if not isinstance(found, AlpacaQuote):
            return None
        return quote(symbol, found, QuoteSource.REST)

    async def quote_stream(self, symbols: list[str]) -> AsyncIterator[Quote]:
        """Quotes of ``symbols`` as Alpaca streams them (the SDK reconnects on drops)."""
        key, secret = self._settings.api_key_id, self._settings.api_secret_key
        if key is None or secret is None:
            raise MarketDataError("Alpaca keys are not set")
        stream = StockDataStream(
            key.get_secret_value(), secret.get_secret_value(), feed=self._feed, url_override=self._stream_url
        )
        stream._reconnect_min_backoff = float(self._settings.stream_reconnect_seconds)
        queue: asyncio.Queue[AlpacaQuote] = asyncio.Queue()

        async def on_quote(received: AlpacaQuote | dict[Any, Any]) -> None:
            if isinstance(received, AlpacaQuote):
                queue.put_nowait(received)

        stream.subscribe_quotes(on_quote, *symbols)
        runner = asyncio.get_running_loop().create_task(stream._run_forever(), name="alpaca-quotes")
        try:
            while True:
                received = await queue.get()
                yield quote(received.symbol, received, QuoteSource.STREAM)
        finally:
            stream._should_run = False
            await stream.close()
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
