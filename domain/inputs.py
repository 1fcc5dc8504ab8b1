"""Constrained types for values that come from outside: text, quantities, prices, waits.

The bounds are the ledger's: a quantity has at most 12 integer digits and 9 decimals
(what an exchange or Alpaca can carry, and what every store holds exactly); text is
printable, so a control character never reaches an event (PostgreSQL refuses NUL in
text, and a stored one would break every later read). See docs/events.md.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

MAX_INTEGER_DIGITS = 12
MAX_DECIMALS = 9
#: Unicode categories refused in text: control, format, surrogate, private use, unassigned.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
DECIMAL_LITERAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def printable(value: str) -> str:
    """``value`` when every character is printable; names the first one that is not."""
    for position, character in enumerate(value, start=1):
        if unicodedata.category(character) in REFUSED_CATEGORIES:
            raise ValueError(f"character {position} is not printable (U+{ord(character):04X})")
    return value


def decimal_literal(value: Any) -> Any:
    """A number as written in a file: plain ASCII digits, no ``1_000``, no bool, no NaN."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    if isinstance(value, str):
        text = value.strip()
        if not DECIMAL_LITERAL.fullmatch(text):
            raise ValueError(f"not a number: {value!r} (write a plain decimal such as 12.5)")
        return Decimal(text)
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def _filled(value: str) -> str:
    text = printable(value).strip()
    if not text:
        raise ValueError("must not be blank")
    return text


#: Printable text of 1 to 128 characters, surrounding blanks removed.
Text = Annotated[str, StringConstraints(max_length=128), AfterValidator(_filled)]

#: A positive quantity within the ledger's bounds.
Quantity = Annotated[
    Decimal,
    BeforeValidator(decimal_literal),
    Field(gt=0, max_digits=MAX_INTEGER_DIGITS + MAX_DECIMALS, decimal_places=MAX_DECIMALS),
]

#: A non-negative amount (a price or a size) within the ledger's bounds.
Amount = Annotated[
    Decimal,
    BeforeValidator(decimal_literal),
    Field(ge=0, max_digits=MAX_INTEGER_DIGITS + MAX_DECIMALS, decimal_places=MAX_DECIMALS),
]
