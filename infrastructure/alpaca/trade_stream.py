"""TradeUpdateFeed: Alpaca's trade-updates WebSocket as an async iterator of OrderUpdates.

It runs alpaca-py's TradingStream in the consumer's event loop; the SDK reconnects a
dropped socket with jittered backoff. Each (re)connect yields ``None`` first, the
signal to read every open order over REST (Alpaca does not replay missed updates).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from alpaca.trading.models import TradeUpdate
from alpaca.trading.stream import TradingStream
from execledger.infrastructure.alpaca.settings import AlpacaSettings
from execledger.infrastructure.alpaca.translation import order_update
from execledger.infrastructure.errors import BrokerError
from execledger.infrastructure.ports import OrderUpdate

log = structlog.get_logger(__name__)


class _Stream(TradingStream):
    """TradingStream that reports each established connection (the SDK has no hook)."""

    def __init__(self, on_connected: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_connected = on_connected

    async def _start_ws(self) -> None:
        await super()._start_ws()  # type: ignore[no-untyped-call]
        self._on_connected()


class TradeUpdateFeed:
    """Opens one trade-updates connection per ``updates()`` iteration."""

    def __init__(self, settings: AlpacaSettings, url: str) -> None:
        self._settings = settings
        self._url = url
        self.connections = 0

    async def updates(self) -> AsyncIterator[OrderUpdate | None]:
        """Updates as Alpaca sends them; ``None`` right after every (re)connect."""
        key, secret = self._settings.api_key_id, self._settings.api_secret_key
        if key is None or secret is None:
            raise BrokerError("Alpaca keys are not set")
        queue: asyncio.Queue[TradeUpdate | None] = asyncio.Queue()

        def connected() -> None:
            self.connections += 1
            log.info("trade_updates_connected", connections=self.connections)
            queue.put_nowait(None)

        stream = _Stream(
            connected,
            api_key=key.get_secret_value(),
            secret_key=secret.get_secret_value(),
            url_override=self._url,
        )
        stream._reconnect_min_backoff = float(self._settings.stream_reconnect_seconds)

        async def on_update(update: TradeUpdate) -> None:
            queue.put_nowait(update)

        stream.subscribe_trade_updates(on_update)
        runner = asyncio.get_running_loop().create_task(
            stream._run_forever(),  # type: ignore[no-untyped-call]
            name="alpaca-trade-updates",
        )
        try:
            while True:
                item = await queue.get()
                if item is None:
                    yield None
                    continue
                try:
                    update = order_update(item)
                except (BrokerError, ValueError) as error:
                    log.warning("trade_update_skipped", error=str(error), event=str(item.event))
                    continue
                yield update
        finally:
            stream._should_run = False
            await stream.close()
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
