"""The Alpaca adapters (alpaca-py 0.44): Broker, MarketData and AssetDirectory ports.

The names below load their modules on first use (PEP 562): alpaca-py imports pandas,
about a second of start-up that every command not talking to Alpaca would pay.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from execledger.infrastructure.alpaca.assets import AlpacaAssets
    from execledger.infrastructure.alpaca.broker import AlpacaBroker
    from execledger.infrastructure.alpaca.connection import (
        AlpacaAdapters,
        AlpacaSettingsError,
        check_settings,
        connect,
    )
    from execledger.infrastructure.alpaca.market_data import AlpacaMarketData
    from execledger.infrastructure.alpaca.pacing import (
        PacingState,
        RequestPacer,
        pacing_states,
        shared_pacer,
    )
    from execledger.infrastructure.alpaca.settings import AlpacaEnvironment, AlpacaSettings

_MODULE_OF = {
    "AlpacaAdapters": "connection",
    "AlpacaAssets": "assets",
    "AlpacaBroker": "broker",
    "AlpacaEnvironment": "settings",
    "AlpacaMarketData": "market_data",
    "AlpacaSettings": "settings",
    "AlpacaSettingsError": "connection",
    "PacingState": "pacing",
    "RequestPacer": "pacing",
    "check_settings": "connection",
    "connect": "connection",
    "pacing_states": "pacing",
    "shared_pacer": "pacing",
}

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


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
