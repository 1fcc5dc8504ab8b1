"""Preflight and end-of-order rules: tradability, whole shares, dust, and no-quote urgency."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Literal

from execledger.domain.config import ExecutionConfig
from execledger.domain.types import Urgency
from pydantic import BaseModel, ConfigDict

ZERO = Decimal(0)


class PreflightDecision(BaseModel):
    """Whether an order may proceed, and with what quantity (0 when denied)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcome: Literal["validated", "adjusted", "denied"]
    quantity: Decimal
    reason: str


def preflight(quantity: Decimal, *, tradable: bool, fractionable: bool) -> PreflightDecision:
    """Deny an untradable asset; round a fractional quantity of a whole-share asset down,
    denying it when that leaves zero shares."""
    if not tradable:
        return PreflightDecision(outcome="denied", quantity=ZERO, reason="asset is not tradable")
    if quantity <= 0:
        reason = f"quantity {quantity} must be greater than zero"
        return PreflightDecision(outcome="denied", quantity=ZERO, reason=reason)
    whole = quantity.to_integral_value(rounding=ROUND_FLOOR)
    if fractionable or whole == quantity:
        return PreflightDecision(outcome="validated", quantity=quantity, reason="tradable")
    if whole == 0:
        reason = f"whole-share asset: {quantity} rounds down to 0 shares"
        return PreflightDecision(outcome="denied", quantity=ZERO, reason=reason)
    reason = f"whole-share asset: {quantity} rounded down to {whole} shares"
    return PreflightDecision(outcome="adjusted", quantity=whole, reason=reason)


def remaining_too_small(
    remaining: Decimal, price: Decimal, *, fractionable: bool, config: ExecutionConfig
) -> bool:
    """True when the rest of an order is not worth sending, so the order completes.

    Fractionable: ``remaining * price < min_fractional_notional``. Whole-share:
    ``remaining`` rounds (half-even) to 0 shares. Nothing remaining is always too small.
    """
    if remaining <= 0:
        return True
    if fractionable:
        return remaining * price < config.min_fractional_notional
    return remaining.to_integral_value(rounding=ROUND_HALF_EVEN) == 0


def no_quote_action(urgency: Urgency) -> Literal["market", "fail"]:
    """What to do when no valid quote is had after the retries: HIGH goes to market,
    LOW and NORMAL fail the order."""
    return "market" if urgency is Urgency.HIGH else "fail"
