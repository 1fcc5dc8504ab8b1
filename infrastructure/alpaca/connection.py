"""Building the Alpaca adapters from settings: keys checked, live trading gated, every
client given our timeout, the process's pace and no blind retries."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from alpaca.data.historical import StockHistoricalDataClient
from alpaca.trading.client import TradingClient
from execledger.infrastructure.alpaca.assets import AlpacaAssets
from execledger.infrastructure.alpaca.bounded_session import bound
from execledger.infrastructure.alpaca.broker import AlpacaBroker
from execledger.infrastructure.alpaca.market_data import AlpacaMarketData
from execledger.infrastructure.alpaca.pacing import RequestPacer, shared_pacer
from execledger.infrastructure.alpaca.settings import (
    KEY_VARIABLE,
    LIVE_VARIABLE,
    SECRET_VARIABLE,
    AlpacaEnvironment,
    AlpacaSettings,
)
from execledger.infrastructure.alpaca.trade_stream import TradeUpdateFeed
from execledger.infrastructure.errors import InfrastructureError


class AlpacaSettingsError(InfrastructureError):
    """The Alpaca settings do not allow a connection; the message names the variable."""


@dataclass(frozen=True)
class AlpacaAdapters:
    """The ports one process uses at Alpaca, sharing one pace."""

    broker: AlpacaBroker
    market_data: AlpacaMarketData
    assets: AlpacaAssets
    pacer: RequestPacer
    environment: AlpacaEnvironment


def check_settings(settings: AlpacaSettings, environment: AlpacaEnvironment) -> None:
    """Refuse, before anything is sent, live trading without the opt-in or missing keys."""
    if environment is AlpacaEnvironment.LIVE and not settings.allow_live:
        raise AlpacaSettingsError(f"live trading at Alpaca needs {LIVE_VARIABLE}=1")
    for variable, value in ((KEY_VARIABLE, settings.api_key_id), (SECRET_VARIABLE, settings.api_secret_key)):
        if value is None or not value.get_secret_value().strip():
            raise AlpacaSettingsError(f"{variable} is not set")


def connect(
    settings: AlpacaSettings,
    environment: AlpacaEnvironment,
    *,
    timeout_seconds: Decimal,
    cancel_confirm_seconds: Decimal = Decimal("5"),
) -> AlpacaAdapters:
    """The Broker, MarketData and AssetDirectory adapters for ``environment``."""
    check_settings(settings, environment)
    assert settings.api_key_id is not None and settings.api_secret_key is not None
    key, secret = settings.api_key_id.get_secret_value(), settings.api_secret_key.get_secret_value()
    pacer = shared_pacer(settings.requests_per_minute)
    trading = TradingClient(
        key,
        secret,
        paper=environment is AlpacaEnvironment.PAPER,
        url_override=settings.trading_url_for(environment),
    )
    data = StockHistoricalDataClient(key, secret, url_override=settings.data_url.rstrip("/"))
    for client in (trading, data):
        bound(client, float(timeout_seconds), pacer)
    feed = TradeUpdateFeed(settings, settings.trading_stream_url_for(environment))
    return AlpacaAdapters(
        broker=AlpacaBroker(trading, settings, feed, cancel_confirm_seconds=cancel_confirm_seconds),
        market_data=AlpacaMarketData(data, settings, settings.data_stream_url_for()),
        assets=AlpacaAssets(trading, settings),
        pacer=pacer,
        environment=environment,
    )
