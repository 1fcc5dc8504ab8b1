"""ExecutionConfig: every threshold, wait and timeout of the smart execution policy."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Self

from execledger.domain.inputs import decimal_literal
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, model_validator

#: The shortest wait the engine accepts: shorter ones would only spin (a re-peg check
#: every microsecond never lets a 30-minute session end).
MIN_WAIT_SECONDS = Decimal("0.01")
#: The longest wait or timeout: one trading day.
MAX_WAIT_SECONDS = Decimal("86400")

_Number = BeforeValidator(decimal_literal)
#: A wait or timeout in seconds, from 0.01 s to a day.
Seconds = Annotated[Decimal, _Number, Field(ge=MIN_WAIT_SECONDS, le=MAX_WAIT_SECONDS)]
#: An order size to displayed size ratio: above zero, at most 100.
Ratio = Annotated[Decimal, _Number, Field(gt=0, le=100)]
#: A count of attempts or re-pegs.
Count = Annotated[StrictInt, Field(ge=0, le=100)]


class ExecutionConfig(BaseModel):
    """The policy's configuration; a snapshot is recorded on every order when it is created.

    ``max_repegs`` is the number of limit re-pegs an order may make. After that many
    re-pegs, the next time a re-peg is due the remaining quantity is sent as a market
    order. So ``max_repegs=2`` means: first placement, re-peg 1, re-peg 2, then market.
    ``max_repegs=0`` means the first unfilled wait escalates straight to market.

    Types are strict where a file could say something else by accident: a count is an
    integer (not ``true``), a switch is ``true`` or ``false`` (not ``"yes"`` or ``1``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fill_wait_seconds: Seconds = Decimal("10")
    max_repegs: Count = 2
    allow_cross_spread_on_repeg: StrictBool = True
    repeg_min_improvement: Annotated[Decimal, _Number, Field(gt=0, le=Decimal("1000"))] = Decimal("0.02")
    repeg_check_interval_seconds: Seconds = Decimal("1")
    quote_freshness_seconds: Seconds = Decimal("5")
    suspicious_spread_percent: Annotated[Decimal, _Number, Field(gt=0, le=100)] = Decimal("10")
    max_quote_wait_seconds: Seconds = Decimal("30")
    quote_retry_attempts: Annotated[StrictInt, Field(ge=1, le=100)] = 3
    min_fractional_notional: Annotated[Decimal, _Number, Field(ge=0, le=Decimal("1000000"))] = Decimal("1.00")
    liquidity_small_ratio: Ratio = Decimal("0.3")
    liquidity_large_ratio: Ratio = Decimal("0.8")
    imbalance_threshold: Annotated[Decimal, _Number, Field(ge=0, lt=1)] = Decimal("0.2")
    broker_timeout_seconds: Seconds = Decimal("10")
    cancel_confirm_timeout_seconds: Seconds = Decimal("5")
    retry_initial_backoff_seconds: Seconds = Decimal("0.2")
    retry_max_backoff_seconds: Seconds = Decimal("5")
    retry_max_attempts: Annotated[StrictInt, Field(ge=1, le=100)] = 4

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        """Pairs of fields whose order the policy relies on."""
        if self.liquidity_small_ratio > self.liquidity_large_ratio:
            raise ValueError(
                f"liquidity_small_ratio ({self.liquidity_small_ratio}) must not be above "
                f"liquidity_large_ratio ({self.liquidity_large_ratio})"
            )
        if self.retry_initial_backoff_seconds > self.retry_max_backoff_seconds:
            raise ValueError(
                f"retry_initial_backoff_seconds ({self.retry_initial_backoff_seconds}) must not be "
                f"above retry_max_backoff_seconds ({self.retry_max_backoff_seconds})"
            )
        return self

    @classmethod
    def recorded(cls, snapshot: dict[str, Any]) -> ExecutionConfig:
        """The config as an order recorded it, not re-checked against today's input bounds
        (it was valid when recorded; a later, stricter bound must not make it unreadable).
        Fields added since keep their defaults."""
        return cls.model_construct(**snapshot)

    def snapshot(self) -> dict[str, Any]:
        """The config as event data: Decimals stay Decimal, nothing is a float."""
        return self.model_dump(mode="python")
