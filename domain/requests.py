"""OrderRequest: what a trader or a rebalancing job asks the ledger to execute."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from execledger.domain.ids import IdempotencyKey, request_digest
from execledger.domain.inputs import Quantity, Text, printable
from execledger.domain.types import Side, Urgency
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

SYMBOL_PATTERN = r"^[A-Z][A-Z0-9.\-/]{0,14}$"


def _upper(value: Any) -> Any:
    return printable(value).strip().upper() if isinstance(value, str) else value


def _symbol(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text: 1-15 letters, digits, '.', '-' or '/'")
    text: str = _upper(value)
    return text


Symbol = Annotated[str, BeforeValidator(_symbol), StringConstraints(pattern=SYMBOL_PATTERN)]


class OrderRequest(BaseModel):
    """A validated request for one smart order; invalid input names the field.

    Without an ``idempotency_key`` the key derives from what the request asks for (see
    ``effective_idempotency_key``): ``business_date`` is the trading day of the session
    and ``occurrence`` numbers identical requests of one batch (1, 2, ...).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: Symbol
    side: Annotated[Side, BeforeValidator(_upper)]
    quantity: Quantity
    urgency: Annotated[Urgency, BeforeValidator(_upper)] = Urgency.NORMAL
    complete_exit: bool = False
    account: Text = "default"
    correlation_id: Text
    idempotency_key: Text | None = None
    business_date: date | None = None
    occurrence: int = Field(1, ge=1)

    def terms(self) -> dict[str, str]:
        """What the request asks for, as canonical strings (not how or under which key)."""
        return request_terms(
            self.account, self.symbol, self.side, self.quantity, self.urgency, self.complete_exit
        )

    def effective_idempotency_key(self) -> IdempotencyKey:
        """The caller's key, or one derived from the request itself.

        Derived: ``<business date>:<digest of account, symbol, side, quantity,
        urgency>:<occurrence>``, so a file re-saved with other line endings, blank lines
        or more rows maps each row to the same order again. Without a business date
        (programmatic callers), the correlation id stands in for it.
        """
        if self.idempotency_key is not None:
            return IdempotencyKey(self.idempotency_key)
        terms = self.terms()
        del terms["complete_exit"]
        scope = self.business_date.isoformat() if self.business_date else self.correlation_id
        return IdempotencyKey(f"{scope}:{request_digest(terms)}:{self.occurrence}")


def request_terms(
    account: str, symbol: str, side: Side, quantity: Decimal, urgency: Urgency, complete_exit: bool
) -> dict[str, str]:
    """What an order asks for, as canonical strings: two requests asking the same thing,
    however spelled, have equal terms (compare a request with a recorded order by these)."""
    return {
        "account": account,
        "symbol": symbol,
        "side": side.value,
        "quantity": _canonical(quantity),
        "urgency": urgency.value,
        "complete_exit": str(complete_exit).lower(),
    }


def differences(asked: dict[str, str], recorded: dict[str, str]) -> list[str]:
    """``field: asked vs recorded`` for each term that differs."""
    return [
        f"{name} {asked[name]} vs {recorded[name]}" for name in asked if asked[name] != recorded.get(name)
    ]


def numbered(requests: Sequence[OrderRequest]) -> list[OrderRequest]:
    """The requests with ``occurrence`` counting identical keyless requests, in order."""
    seen: Counter[tuple[str, ...]] = Counter()
    result = []
    for request in requests:
        if request.idempotency_key is not None:
            result.append(request)
            continue
        terms = request.terms()
        del terms["complete_exit"]
        identity = tuple(terms.values())
        seen[identity] += 1
        result.append(request.model_copy(update={"occurrence": seen[identity]}))
    return result


def on_business_date(requests: Sequence[OrderRequest], day: date) -> list[OrderRequest]:
    """The requests dated to the session's trading day (their keys derive from it)."""
    return [request.model_copy(update={"business_date": day}) for request in requests]


def _canonical(quantity: Decimal) -> str:
    """``quantity`` without trailing zeros or exponent: 50, 50.0 and 5E+1 read the same."""
    return format(quantity.normalize(), "f")
