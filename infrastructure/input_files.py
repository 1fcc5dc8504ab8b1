"""Files from outside (orders, configs, tapes), read strictly and the same way.

Text is UTF-8, a leading byte-order mark allowed (spreadsheets write one). JSON is
stricter than the ``json`` module's defaults: a key given twice is reported (not the
last one silently kept), numbers stay exact (Decimal; an integer too long for an int is
left as Decimal for the field's validator to refuse with its name), NaN and Infinity
are refused, and nesting too deep for the parser is an error, not a crash.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from execledger.infrastructure.errors import InputFileError

#: Integers longer than this stay Decimal (int() of thousands of digits is refused by Python).
MAX_INT_DIGITS = 30


class JsonObject(dict[str, Any]):
    """A parsed JSON object that remembers the keys it was given more than once."""

    repeated: tuple[str, ...] = ()


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of ``path`` without a leading byte-order mark."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputFileError(f"{path}: cannot read {what}: {error.strerror or error}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputFileError(f"{path}: {what} is not UTF-8 text (byte {error.start + 1})") from None


def parse_json(text: str, path: Path) -> Any:
    """``text`` parsed as strict JSON (see the module doc)."""
    try:
        return json.loads(
            text,
            object_pairs_hook=_object,
            parse_float=Decimal,
            parse_int=_integer,
            parse_constant=_refuse_constant,
        )
    except json.JSONDecodeError as error:
        raise InputFileError(f"{path}: not valid JSON: {error}") from None
    except RecursionError:
        raise InputFileError(f"{path}: not valid JSON: nested too deeply") from None
    except ValueError as error:
        raise InputFileError(f"{path}: not valid JSON: {error}") from None


def repeated_keys(value: Any) -> tuple[str, ...]:
    """The keys a parsed JSON object was given more than once (none for other values)."""
    return value.repeated if isinstance(value, JsonObject) else ()


def _object(pairs: list[tuple[str, Any]]) -> JsonObject:
    result = JsonObject(pairs)
    if len(result) < len(pairs):
        seen: set[str] = set()
        repeated = []
        for key, _ in pairs:
            if key in seen:
                repeated.append(key)
            seen.add(key)
        result.repeated = tuple(repeated)
    return result


def _integer(text: str) -> int | Decimal:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else Decimal(text)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")
