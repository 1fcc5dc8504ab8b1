"""Read-model values: JSON-ready event fields, exact durations and rounded figures."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum
from typing import Any
from uuid import UUID

#: Fields every event carries that are bookkeeping rather than business content.
BOOKKEEPING_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "previous_hash",
        "event_hash",
        "chain_version",
        "event_mac",
        "occurred_at",
        "correlation_id",
    }
)

PRICE_STEP = Decimal("0.000001")


def json_ready(value: Any) -> Any:
    """The value with Decimals, times, UUIDs and enums as strings (exact, not floats)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value  # the common cases first; an enum is never exactly one of these
    if kind is Decimal or kind is UUID:
        return str(value)
    if kind is datetime:
        return value.astimezone(UTC).isoformat()
    if kind is list:
        return [json_ready(item) for item in value]
    if isinstance(value, Enum):
        return json_ready(value.value)
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Mapping):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_ready(item) for item in value]
    return value


def business_fields_json(event: object) -> str:
    """The event's own fields as a JSON object (Decimals and times as strings)."""
    fields = {k: v for k, v in vars(event).items() if k not in BOOKKEEPING_FIELDS}
    return json.dumps(fields, default=_json_default, separators=(",", ":"), ensure_ascii=False)


def _json_default(value: Any) -> Any:
    """What ``json.dumps`` cannot encode itself, as ``json_ready`` makes it."""
    ready = json_ready(value)
    if ready is value:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")
    return ready


_STEPS: dict[str, Decimal] = {}


def rounded(value: Decimal, step: str) -> Decimal:
    """``value`` rounded half-even to ``step`` (e.g. "0.01")."""
    exponent = _STEPS.get(step)
    if exponent is None:
        exponent = _STEPS[step] = Decimal(step)
    return value.quantize(exponent, rounding=ROUND_HALF_EVEN)


def average_price(notional: Decimal, quantity: Decimal) -> Decimal | None:
    """Volume-weighted average price to six decimals, or None before the first fill."""
    if quantity == 0:
        return None
    return (notional / quantity).quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN)
