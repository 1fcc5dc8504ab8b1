"""Building the Alpaca adapters from settings: keys checked, live trading gated, every
client given our timeout, the process's pace and no blind retries."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import requests
import structlog
from alpaca.common.exceptions import APIError
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

log = structlog.get_logger(__name__)
#: Alpaca's answers that mean "these keys are not allowed here".
REFUSED_KEYS = frozenset({401, 403})


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
    trading: TradingClient

    def confirm_keys(self) -> None:
        """Ask Alpaca for the account once, before anything is written: keys it refuses
        are a settings error (exit 2), not orders left NEW after a session of retries.
        Any other failure (Alpaca slow or down) is the engine's to wait out, as always."""
        try:
            self.trading.get_account()
        except APIError as error:
            if error.status_code in REFUSED_KEYS:
                raise AlpacaSettingsError(
                    f"{KEY_VARIABLE}/{SECRET_VARIABLE}: Alpaca refused the keys (HTTP {error.status_code})"
                ) from None
            log.warning("alpaca_account_check_failed", status=error.status_code)
        except requests.RequestException as error:
            log.warning("alpaca_account_check_failed", error=type(error).__name__)


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
        trading=trading,
    )
