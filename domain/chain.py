"""Tamper evidence: each event's SHA-256 over a canonical encoding of its fields.

The hashed fields are the event's stored fields plus its ``originator_id``,
``originator_version`` and ``topic`` (so swapping an event's type is caught too).
Every event of an order carries ``previous_hash`` (the ``event_hash`` of the event
before it, or ``GENESIS_HASH`` for the first) and its own ``event_hash``. Editing any
stored field of any event breaks either that event's own hash or the next link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

GENESIS_HASH = "0" * 64
#: Fields that are not hashed: the hash itself, and the mapper's version marker.
UNHASHED_FIELDS = frozenset({"event_hash", "class_version"})


def canonical(value: Any) -> Any:
    """A JSON-ready form in which equal values always encode to equal bytes."""
    if isinstance(value, Enum):
        return canonical(value.value)
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, UUID):
        return {"uuid": str(value)}
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    raise TypeError(f"no canonical encoding for {type(value).__name__}")


def event_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of an event's fields, ignoring the unhashed ones."""
    hashed = {k: v for k, v in fields.items() if k not in UNHASHED_FIELDS}
    encoded = json.dumps(canonical(hashed), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
