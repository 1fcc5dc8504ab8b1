"""The Alpaca adapters (alpaca-py 0.44): Broker, MarketData and AssetDirectory ports."""

from execledger.infrastructure.alpaca.assets import AlpacaAssets
from execledger.infrastructure.alpaca.broker import AlpacaBroker
from execledger.infrastructure.alpaca.connection import (
    AlpacaAdapters,
    AlpacaSettingsError,
    check_settings,
    connect,
)
from execledger.infrastructure.alpaca.market_data import AlpacaMarketData
from execledger.infrastructure.alpaca.pacing import PacingState, RequestPacer, pacing_states, shared_pacer
from execledger.infrastructure.alpaca.settings import AlpacaEnvironment, AlpacaSettings

__all__ = [
    "AlpacaAdapters",
    "AlpacaAssets",
    "AlpacaBroker",
    "AlpacaEnvironment",
    "AlpacaMarketData",
    "AlpacaSettings",
    "AlpacaSettingsError",
    "PacingState",
    "RequestPacer",
    "check_settings",
    "connect",
    "pacing_states",
    "shared_pacer",
]
