"""Tamper evidence: each event's SHA-256 over a canonical encoding of everything it is.

Every event of an order carries ``previous_hash`` (the ``event_hash`` of the event
before it, or ``GENESIS_HASH`` for the first) and its own ``event_hash``. Editing any
stored field of any event breaks either that event's own hash or the next link.

The hashed fields depend on the event's chain version, which the event records
(``chain_version``; absent means 1, the events version 0.1 wrote):

- version 1 hashed the stored fields plus ``originator_id``, ``originator_version`` and
  ``topic``, but not ``class_version``;
- version 2 (written today) hashes all of that, ``class_version`` (1 when the mapper
  leaves it out) and ``chain_version`` itself, so relabelling an event's class version,
  or passing a version-2 event off as a version-1 one, changes its hash.

``event_mac`` (the keyed seal, infrastructure.sealing) is never part of the hash: it is
computed from it.
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
#: The chain version this code writes.
CHAIN_VERSION = 2
#: What the ledger stores beside an event's fields (not attributes of the event as written;
#: an event read back carries them).
STORED_MARKS = frozenset({"chain_version", "event_mac"})
#: Fields no chain version hashes: the hash itself and the keyed seal of it.
_NEVER_HASHED = frozenset({"event_hash", "event_mac"})
#: Version 1 also left out the mapper's class-version marker.
_UNHASHED_V1 = _NEVER_HASHED | {"class_version"}


def canonical(value: Any) -> Any:
    """A JSON-ready form in which equal values always encode to equal bytes.

    The exact built-in types are dispatched first (verify walks every stored field);
    subclasses, enums first, take the general path, with the same results.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {str(k): canonical(v) for k, v in value.items()}
    if kind is Decimal:
        return {"decimal": str(value)}
    if kind is datetime:
        return {"datetime": value.isoformat()}
    if kind is list or kind is tuple:
        return [canonical(v) for v in value]
    if kind is UUID:
        return {"uuid": str(value)}
    return _canonical_subclass(value)


def _canonical_subclass(value: Any) -> Any:
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
    if isinstance(value, (str, int, bool)):
        return value
    raise TypeError(f"no canonical encoding for {type(value).__name__}")


def hashed_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields an event's hash covers, by the chain version they name.

    ``fields`` are the stored fields plus ``originator_id``, ``originator_version`` and
    ``topic``. For version 2 a missing ``class_version`` counts as 1 (the mapper stores
    it only above 1).
    """
    version = fields.get("chain_version", 1)
    if version == 1:
        return {k: v for k, v in fields.items() if k not in _UNHASHED_V1}
    if version == CHAIN_VERSION:
        hashed = {k: v for k, v in fields.items() if k not in _NEVER_HASHED}
        hashed.setdefault("class_version", 1)
        return hashed
    raise ValueError(f"unknown chain version {version!r}")


def event_hash(fields: Mapping[str, Any], *, canonical_form: bool = False) -> str:
    """SHA-256 (hex) of an event's fields (``hashed_fields``), canonically encoded.

    ``canonical_form``: the fields are already ``canonical``'s output, so they are not
    walked again.
    """
    hashed = hashed_fields(fields)
    encoded = json.dumps(
        hashed if canonical_form else canonical(hashed), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def seal_fields(event_class: type[Any], fields: Mapping[str, Any]) -> str:
    """The ``event_hash`` of a new event of ``event_class`` (chain version 2).

    ``fields`` are the event's keyword arguments plus its originator id and version and
    its topic; the class version and chain version are added here.
    """
    return event_hash(
        {
            **fields,
            "class_version": getattr(event_class, "class_version", 1),
            "chain_version": CHAIN_VERSION,
        }
    )
