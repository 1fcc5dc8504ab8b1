"""AlpacaAssets: the AssetDirectory port on TradingClient (tradable, fractionable, positions)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from alpaca.trading.client import TradingClient
from alpaca.trading.models import Asset as AlpacaAsset
from alpaca.trading.models import Position
from execledger.infrastructure.alpaca.calls import AlpacaRefusal, call_idempotent
from execledger.infrastructure.alpaca.settings import AlpacaSettings
from execledger.infrastructure.alpaca.translation import decimal
from execledger.infrastructure.errors import BrokerError
from execledger.infrastructure.ports import Asset

T = TypeVar("T")


class AlpacaAssets:
    """Asset facts and positions from the account's broker."""

    def __init__(self, trading: TradingClient, settings: AlpacaSettings) -> None:
        self._trading = trading
        self._settings = settings

    async def asset(self, symbol: str) -> Asset:
        """Whether ``symbol`` trades (and in fractions); an unknown symbol is not tradable."""
        try:
            found = await self._read("get_asset", lambda: self._trading.get_asset(symbol))
        except AlpacaRefusal as refusal:
            if refusal.status == 404:
                return Asset(symbol=symbol, tradable=False, fractionable=False)
            raise BrokerError(f"asset {symbol}: {refusal}") from None
        assert isinstance(found, AlpacaAsset)
        return Asset(symbol=symbol, tradable=found.tradable, fractionable=found.fractionable)

    async def position(self, symbol: str) -> Decimal:
        """The signed quantity held in ``symbol`` (0 when Alpaca has no position)."""
        try:
            held = await self._read("get_position", lambda: self._trading.get_open_position(symbol))
        except AlpacaRefusal as refusal:
            if refusal.status == 404:
                return Decimal(0)
            raise BrokerError(f"position {symbol}: {refusal}") from None
        assert isinstance(held, Position)
        quantity = decimal(held.qty) or Decimal(0)
        return quantity if str(held.side.value) == "long" else -quantity

    async def _read(self, operation: str, function: Callable[[], T]) -> T:
        settings = self._settings
        return await call_idempotent(
            operation, function, settings.get_retries, settings.get_retry_backoff_seconds
        )
