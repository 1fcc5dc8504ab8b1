"""Shared value types of the trading desk: sides, urgencies, order types, quotes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator


class Side(StrEnum):
    """Direction of an order."""

    BUY = "BUY"
    SELL = "SELL"


class Urgency(StrEnum):
    """How hard the order should be worked; HIGH may go to market without a quote."""

    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"


class OrderType(StrEnum):
    """The kind of broker order a placement sends."""

    LIMIT = "LIMIT"
    MARKET = "MARKET"


class TimeInForce(StrEnum):
    """How long a broker order stays working."""

    DAY = "DAY"
    IOC = "IOC"
    GTC = "GTC"


class QuoteSource(StrEnum):
    """Where a quote came from; only streamed-like quotes get liquidity-aware pricing."""

    STREAM = "stream"
    REST = "rest"
    SIMULATED = "simulated"
    TAPE = "tape"


class Quote(BaseModel):
    """A top-of-book quote: prices and displayed sizes as Decimal, time aware UTC."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str
    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal
    quoted_at: datetime
    source: QuoteSource

    @field_validator("bid", "ask", "bid_size", "ask_size")
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("must be a finite number")
        return value

    @field_validator("quoted_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must be timezone-aware")
        return value

    @property
    def mid(self) -> Decimal:
        """Midpoint of bid and ask."""
        return (self.bid + self.ask) / 2

    @property
    def is_streamed(self) -> bool:
        """Streamed, simulated and tape quotes are priced liquidity-aware."""
        return self.source is not QuoteSource.REST
