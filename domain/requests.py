"""OrderRequest: what a trader or a rebalancing job asks the ledger to execute."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from execledger.domain.ids import IdempotencyKey, request_digest
from execledger.domain.types import Side, Urgency
from pydantic import BaseModel, ConfigDict, field_validator

SYMBOL_PATTERN = re.compile(r"^[A-Z][A-Z0-9.\-/]{0,14}$")
MAX_QUANTITY_DECIMALS = 9


class OrderRequest(BaseModel):
    """A validated request for one smart order; invalid input names the field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str
    side: Side
    quantity: Decimal
    urgency: Urgency = Urgency.NORMAL
    complete_exit: bool = False
    account: str = "default"
    correlation_id: str
    idempotency_key: str | None = None

    @field_validator("symbol", mode="before")
    @classmethod
    def _symbol(cls, value: Any) -> str:
        if not isinstance(value, str) or not SYMBOL_PATTERN.match(value.strip().upper()):
            raise ValueError("must be 1-15 characters: letters, digits, '.', '-' or '/'")
        return value.strip().upper()

    @field_validator("side", "urgency", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("quantity", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> Decimal:
        if isinstance(value, bool):
            raise ValueError("must be a number")
        try:
            quantity = Decimal(str(value).strip())
        except (InvalidOperation, ValueError) as error:
            raise ValueError("must be a number") from error
        if not quantity.is_finite():
            raise ValueError("must be a finite number")
        if quantity <= 0:
            raise ValueError("must be greater than zero")
        exponent = quantity.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > MAX_QUANTITY_DECIMALS:
            raise ValueError(f"must have at most {MAX_QUANTITY_DECIMALS} decimal places")
        return quantity

    @field_validator("account", "correlation_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("idempotency_key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value is not None else None

    def effective_idempotency_key(self) -> IdempotencyKey:
        """The caller's key, or the correlation id plus a digest of the request."""
        if self.idempotency_key is not None:
            return IdempotencyKey(self.idempotency_key)
        digest = request_digest(
            {
                "symbol": self.symbol,
                "side": self.side.value,
                "quantity": str(self.quantity.normalize()),
                "urgency": self.urgency.value,
                "complete_exit": str(self.complete_exit),
                "account": self.account,
            }
        )
        return IdempotencyKey(f"{self.correlation_id}:{digest}")
