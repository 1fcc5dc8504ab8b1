"""Read-model values: JSON-ready event fields, exact durations and rounded figures."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from execledger.domain.ticks import tick_for

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
    if kind is Decimal:
        return format(value, "f")  # never in exponent form (1E+2)
    if kind is UUID:
        return str(value)
    if kind is datetime:
        return value.astimezone(UTC).isoformat()
    if kind is list:
        return [json_ready(item) for item in value]
    if isinstance(value, Enum):
        return json_ready(value.value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Mapping):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_ready(item) for item in value]
    return value


def business_fields_json(event: object) -> str:
    """The event's own fields as a JSON object (Decimals and times as strings).

    The text is ``json.dumps(fields, default=..., separators=(",", ":"), ensure_ascii=False)``;
    orjson writes it (a third of the time) when every value is one whose text the two
    encoders write alike, and the standard encoder otherwise (a float: orjson writes
    ``1e16`` for ``1e+16``; a key that is not a string; what orjson refuses: an integer
    past 64 bits, a lone surrogate).
    """
    fields = {}
    alike = True
    for name, value in vars(event).items():
        if name not in BOOKKEEPING_FIELDS:
            fields[name] = value
            if alike and type(value) not in _ALIKE:
                alike = _written_alike(value)
    if alike:
        try:
            return _orjson_dumps(fields, default=_json_default, option=_PASS_TIMES).decode()
        except orjson.JSONEncodeError:
            pass
    return json.dumps(fields, default=_json_default, separators=(",", ":"), ensure_ascii=False)


#: Types whose JSON text orjson writes as ``json.dumps`` does (times and Decimals go
#: through ``_json_default`` in both).
_ALIKE = frozenset({str, int, bool, type(None), Decimal, UUID, datetime})
_PASS_TIMES = orjson.OPT_PASSTHROUGH_DATETIME
_orjson_dumps = orjson.dumps


def _written_alike(value: Any) -> bool:
    """Whether orjson writes the value's JSON as ``json.dumps`` does, at any depth."""
    kind = type(value)
    if kind in _ALIKE:
        return True
    if kind is list or kind is tuple:
        return all(_written_alike(item) for item in value)
    if kind is dict:
        return all(type(key) is str and _written_alike(item) for key, item in value.items())
    return isinstance(value, Enum) and type(value.value) in (str, int)


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


#: Fields that hold a price: shown with at least their tick's decimals (100.10, 0.5000).
PRICE_FIELDS = frozenset(
    {
        "limit_price",
        "average_fill_price",
        "arrival_bid",
        "arrival_ask",
        "arrival_mid",
        "bid",
        "ask",
        "price",
        "old_price",
        "new_price",
    }
)
#: Fields that hold a quantity: shown in plain notation (100, never 1E+2).
QUANTITY_FIELDS = frozenset(
    {"quantity", "filled_quantity", "remaining_quantity", "new_quantity", "old_quantity"}
)


def price_text(value: Decimal) -> str:
    """A price as the tables and JSON show it: every significant decimal, and at least as
    many as its tick has (0.01 from $1, else 0.0001); never rounded, never 1E+2."""
    exact = value.normalize()
    tick = tick_for(abs(value))
    if int(exact.as_tuple().exponent) > int(tick.as_tuple().exponent):
        exact = exact.quantize(tick)
    return format(exact, "f")


def shown(name: str, value: Any) -> Any:
    """A JSON-ready field value as shown: prices with their tick's decimals, quantities plain."""
    if value is None or (name not in PRICE_FIELDS and name not in QUANTITY_FIELDS):
        return value
    try:
        number = Decimal(value) if isinstance(value, str) else value
    except ArithmeticError:
        return value
    if not isinstance(number, Decimal) or not number.is_finite():
        return value
    return price_text(number) if name in PRICE_FIELDS else format(number, "f")
