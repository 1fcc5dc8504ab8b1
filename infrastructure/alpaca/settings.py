"""Alpaca settings from the environment, under exactly the names operators set.

The keys are ``SecretStr``: their value never appears in a repr, a log line, an event or
an error message; only ``http``/``streams`` read it, to authenticate.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PAPER_TRADING_URL = "https://paper-api.alpaca.markets"
LIVE_TRADING_URL = "https://api.alpaca.markets"
DATA_URL = "https://data.alpaca.markets"
PAPER_TRADING_STREAM_URL = "wss://paper-api.alpaca.markets/stream"
LIVE_TRADING_STREAM_URL = "wss://api.alpaca.markets/stream"
DATA_STREAM_URL = "wss://stream.data.alpaca.markets/v2/{feed}"
KEY_VARIABLE = "APCA_API_KEY_ID"
SECRET_VARIABLE = "APCA_API_SECRET_KEY"
LIVE_VARIABLE = "EXECLEDGER_ALLOW_LIVE"


class AlpacaEnvironment(StrEnum):
    """Which Alpaca account the keys belong to."""

    PAPER = "paper"
    LIVE = "live"


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class AlpacaSettings(BaseSettings):
    """Keys, endpoints, feed and pacing of the Alpaca adapter."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=False)

    api_key_id: SecretStr | None = Field(None, validation_alias=_env(KEY_VARIABLE))
    api_secret_key: SecretStr | None = Field(None, validation_alias=_env(SECRET_VARIABLE))
    trading_url: str | None = Field(None, validation_alias=_env("EXECLEDGER_ALPACA_TRADING_URL"))
    data_url: str = Field(DATA_URL, validation_alias=_env("EXECLEDGER_ALPACA_DATA_URL"))
    trading_stream_url: str | None = Field(
        None, validation_alias=_env("EXECLEDGER_ALPACA_TRADING_STREAM_URL")
    )
    data_stream_url: str | None = Field(None, validation_alias=_env("EXECLEDGER_ALPACA_DATA_STREAM_URL"))
    feed: str = Field("iex", pattern="^(iex|sip)$", validation_alias=_env("EXECLEDGER_ALPACA_FEED"))
    allow_live: bool = Field(False, validation_alias=_env(LIVE_VARIABLE))
    #: Alpaca answers 429 past ~200 requests a minute per key; stay well below.
    requests_per_minute: int = Field(
        150, gt=0, validation_alias=_env("EXECLEDGER_ALPACA_REQUESTS_PER_MINUTE")
    )
    #: Idempotent GETs are retried this many times on 429/5xx/connection errors.
    get_retries: int = Field(2, ge=0, le=10, validation_alias=_env("EXECLEDGER_ALPACA_GET_RETRIES"))
    get_retry_backoff_seconds: Decimal = Field(
        Decimal("0.5"), gt=0, validation_alias=_env("EXECLEDGER_ALPACA_GET_RETRY_BACKOFF_SECONDS")
    )
    #: First delay before a dropped stream reconnects (the SDK doubles it up to 30 s).
    stream_reconnect_seconds: Decimal = Field(
        Decimal("1"), gt=0, validation_alias=_env("EXECLEDGER_ALPACA_STREAM_RECONNECT_SECONDS")
    )

    def trading_url_for(self, environment: AlpacaEnvironment) -> str:
        default = LIVE_TRADING_URL if environment is AlpacaEnvironment.LIVE else PAPER_TRADING_URL
        return (self.trading_url or default).rstrip("/")

    def trading_stream_url_for(self, environment: AlpacaEnvironment) -> str:
        live = environment is AlpacaEnvironment.LIVE
        return self.trading_stream_url or (LIVE_TRADING_STREAM_URL if live else PAPER_TRADING_STREAM_URL)

    def data_stream_url_for(self) -> str:
        return self.data_stream_url or DATA_STREAM_URL.format(feed=self.feed)
