"""The canonical form (domain.chain) of a stored event, read straight from its bytes.

verify recomputes every event's hash. Decoding each stored state to domain objects and
walking them back into the canonical form cost three quarters of its time; here the
state is parsed once with orjson and the library's tags are rewritten in place to the
canonical ones (the library writes a Decimal as ``str(d)``, a time as ``isoformat()``, an
enum as its value, a UUID as its hex, each as ``{"_type_": ..., "_data_": ...}``; decoding
and re-encoding them gives the same strings), and the hashed bytes are written by orjson
with sorted keys. Anything else (a tag not known here, a float) falls back to the
library's decoding, so the result is always exactly what ``canonical(decode(state))`` and ``json.dumps`` give
(tests/integration/test_verify_fast_path.py and tests/unit/test_canonical_json.py hold
it to them).

Why hand-written: no library rewrites one JSON tagging scheme into another.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import orjson

_DEL = b"\x7f"
_NAMED = {"decimal_str": "decimal", "datetime_iso": "datetime"}


class _NotPlain(Exception):
    """The stored state holds something only the library's decoding can read."""


def stored_canonical(stored: bytes) -> dict[str, Any] | None:
    """The canonical form of a stored state, or None when only the library can decode it."""
    try:
        state = orjson.loads(stored)
        if type(state) is not dict:
            return None
        return _plain_dict(state)
    except (orjson.JSONDecodeError, _NotPlain, ValueError, TypeError):
        return None


def _plain_dict(value: dict[str, Any]) -> dict[str, Any]:
    """``value`` made canonical in place (only its dicts and lists need any work)."""
    for name, item in value.items():
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is dict:
            tag = item.get("_type_")
            if tag is None:
                _plain_dict(item)
                continue
            data = item.get("_data_")
            named = _NAMED.get(tag) if len(item) == 2 else None
            # the common tags inline (verify's hot loop); every other one in _tagged
            value[name] = {named: data} if named is not None and type(data) is str else _tagged(item)
        elif kind is list:
            value[name] = _plain_list(item)
        else:
            raise _NotPlain(kind.__name__)
    return value


def _plain_list(value: list[Any]) -> list[Any]:
    for index, item in enumerate(value):
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is dict:
            value[index] = _tagged(item) if "_type_" in item else _plain_dict(item)
        elif kind is list:
            value[index] = _plain_list(item)
        else:
            raise _NotPlain(kind.__name__)
    return value


def _tagged(value: dict[str, Any]) -> Any:
    """A library-tagged value (``{"_type_": name, "_data_": data}``) in canonical form."""
    if len(value) != 2 or "_data_" not in value:
        raise _NotPlain("_type_")
    name, data = value["_type_"], value["_data_"]
    kind = type(data)
    named = _NAMED.get(name)
    if named is not None and kind is str:
        return {named: data}
    if name == "uuid_hex" and kind is str:
        return {"uuid": str(UUID(data))}
    if type(name) is str and name.startswith("enum_") and (kind is str or kind is int or kind is bool):
        return data
    raise _NotPlain(str(name))


def canonical_json(value: dict[str, Any]) -> bytes:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"))`` encoded, exactly
    (domain.chain.event_hash's bytes): orjson's output when it is plain ASCII without DEL
    (where the two agree), else json's."""
    try:
        encoded = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        encoded = b""
    if encoded and encoded.isascii() and _DEL not in encoded:
        return encoded
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")
