"""ExecutionConfig: every threshold, wait and timeout of the smart execution policy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ExecutionConfig(BaseModel):
    """The policy's configuration; a snapshot is recorded on every order when it is created.

    ``max_repegs`` is the number of limit re-pegs an order may make. After that many
    re-pegs, the next time a re-peg is due the remaining quantity is sent as a market
    order. So ``max_repegs=2`` means: first placement, re-peg 1, re-peg 2, then market.
    ``max_repegs=0`` means the first unfilled wait escalates straight to market.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fill_wait_seconds: Decimal = Field(Decimal("10"), gt=0)
    max_repegs: int = Field(2, ge=0)
    allow_cross_spread_on_repeg: bool = True
    repeg_min_improvement: Decimal = Field(Decimal("0.02"), gt=0)
    repeg_check_interval_seconds: Decimal = Field(Decimal("1"), gt=0)
    quote_freshness_seconds: Decimal = Field(Decimal("5"), gt=0)
    suspicious_spread_percent: Decimal = Field(Decimal("10"), gt=0)
    max_quote_wait_seconds: Decimal = Field(Decimal("30"), gt=0)
    quote_retry_attempts: int = Field(3, ge=1)
    min_fractional_notional: Decimal = Field(Decimal("1.00"), ge=0)
    liquidity_small_ratio: Decimal = Field(Decimal("0.3"), gt=0)
    liquidity_large_ratio: Decimal = Field(Decimal("0.8"), gt=0)
    imbalance_threshold: Decimal = Field(Decimal("0.2"), ge=0, lt=1)
    broker_timeout_seconds: Decimal = Field(Decimal("10"), gt=0)
    cancel_confirm_timeout_seconds: Decimal = Field(Decimal("5"), gt=0)
    retry_initial_backoff_seconds: Decimal = Field(Decimal("0.2"), gt=0)
    retry_max_backoff_seconds: Decimal = Field(Decimal("5"), gt=0)
    retry_max_attempts: int = Field(4, ge=1)

    @field_validator("*", mode="before")
    @classmethod
    def _no_float_noise(cls, value: Any) -> Any:
        """Floats from JSON/TOML become Decimal through str, so 0.1 stays 0.1."""
        if isinstance(value, float):
            return Decimal(str(value))
        return value

    @field_validator(
        "fill_wait_seconds",
        "repeg_min_improvement",
        "repeg_check_interval_seconds",
        "quote_freshness_seconds",
        "suspicious_spread_percent",
        "max_quote_wait_seconds",
        "min_fractional_notional",
        "liquidity_small_ratio",
        "liquidity_large_ratio",
        "imbalance_threshold",
        "broker_timeout_seconds",
        "cancel_confirm_timeout_seconds",
        "retry_initial_backoff_seconds",
        "retry_max_backoff_seconds",
    )
    @classmethod
    def _finite(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("must be a finite number")
        return value

    @property
    def placement_send_window_seconds(self) -> Decimal:
        """How long after a placement was requested it may still reach the broker: every
        attempt's timeout and every backoff between them. Only after this window does a
        broker's "not found" mean the placement never arrived."""
        attempts = self.retry_max_attempts
        return self.broker_timeout_seconds * attempts + self.retry_max_backoff_seconds * (attempts - 1)

    def snapshot(self) -> dict[str, Any]:
        """The config as event data: Decimals stay Decimal, nothing is a float."""
        return self.model_dump(mode="python")
