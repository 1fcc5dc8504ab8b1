"""Stored events to domain events for the runner, faster than the library's mapper, same result.

The ledger stores each event's state as JSON written by the library's JSONTranscoder,
in which a Decimal, a time, an enum or a UUID is a tagged object
``{"_type_": name, "_data_": value}``. The mapper decodes it with a Python hook per
tagged object; here the JSON is parsed by orjson alone (the standard C parser for a
state holding a float or what orjson refuses, since orjson reads an integer past 64
bits as a float and writes some floats differently), and one walk over the
parsed state both rebuilds the typed values (Decimal, datetime, enum, UUID, tuple)
and keeps their JSON-ready forms (Decimals, times, UUIDs as strings), which become
the timeline's ``fields`` without encoding each event's values again.

The event object is built exactly as the mapper builds it (same class, same
``__dict__`` in the same key order, upcasters applied), so the folds cannot tell
the difference; tests/unit/test_projection_decoding.py checks it event by event.
Whatever this decoder does not know falls back to the mapper for that event: a
cipher or compressor, an unknown transcoding, an enum whose value is not a plain
JSON value. An upcast event (stored at an older ``class_version``) is decoded
here but its ``fields`` are encoded from the upcast event, as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Notification,
    StoredEvent,
    UUIDAsHex,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic
from execledger.domain.topics import register_legacy_topics
from execledger.projections.poison import Undecodable, describe
from execledger.projections.values import BOOKKEEPING_FIELDS, business_fields_json

#: A stored event as read from the ledger: (notification id, originator id, version, topic, state).
RawEvent = tuple[int, Any, int, str, bytes]

_PLAIN = (str, int, float, bool, type(None))

register_legacy_topics()
_EXACT = frozenset((str, int, bool, type(None)))  # written alike by orjson and json
_parse = json.JSONDecoder().raw_decode
_from_iso = datetime.fromisoformat
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _dumps(value: Any) -> str:
    """``json.dumps(value, separators=(",", ":"), ensure_ascii=False)`` of a JSON-ready value
    (only for a state holding a float, which the ledger never writes: no fast path needed)."""
    return _ENCODER.encode(value)


_orjson_loads = orjson.loads
_orjson_dumps = orjson.dumps
_OrjsonError = orjson.JSONDecodeError
_OrjsonEncodeError = orjson.JSONEncodeError


def _loads(stored: Any, careful: bool) -> Any:
    """The parsed state: orjson's, else (``careful``, or what orjson refuses: NaN, Infinity,
    lone surrogates, trailing data) the standard parser's. orjson reads an integer past 64
    bits as a float, so a state in which it found a float is parsed again carefully."""
    if not careful:
        try:
            return _orjson_loads(stored)
        except _OrjsonError:
            pass
    text = stored if isinstance(stored, str) else bytes(stored).decode()
    return _parse(text)[0]


def _may_hold_float(plain: Any) -> bool:
    """Whether a JSON-ready value is, or holds at any depth, a float."""
    kind = type(plain)
    if kind is str:
        return False
    if kind is list:
        return any(type(item) is not str and _may_hold_float(item) for item in plain)
    if kind is dict:
        return any(type(item) is not str and _may_hold_float(item) for item in plain.values())
    return kind is float or kind not in _EXACT


def _dumps_plain(value: dict[str, Any]) -> str:
    """``_dumps`` of a dict holding no float at any depth (orjson writes some floats differently
    from ``json``: ``1e16`` for ``1e+16``, ``null`` for NaN), through orjson when it can."""
    try:
        return _orjson_dumps(value).decode()
    except _OrjsonEncodeError:  # an integer past 64 bits, a lone surrogate
        return _dumps(value)


class Decoded(NamedTuple):
    """One event for the folds: notification id, event, fields as JSON (or None), order key.

    ``key`` identifies the order in the runner's dicts: the UUID's integer (hashed in C,
    where a UUID hashes in Python), or the id itself if it is not a UUID.
    """

    position: int
    event: Any
    fields_json: str | None
    key: Any


def order_key(order_id: Any) -> Any:
    """The runner's dict key of an order id (see ``Decoded.key``)."""
    return order_id.int if isinstance(order_id, UUID) else order_id


def as_decoded(position: int, event: Any) -> Decoded:
    """An event already in memory, for the folds (no fields JSON: the timeline writes it
    from the event itself)."""
    return Decoded(position, event, None, order_key(event.originator_id))


class _Unknown(Exception):
    """A value this decoder does not handle: the mapper decodes the event."""


class _Floats(Exception):
    """A float in a state orjson parsed: the event is decoded again with the standard parser."""


def _time_shown(data: str, value: datetime) -> str:
    # values._json_default shows a time as value.astimezone(UTC).isoformat(); a stored
    # UTC time ("+00:00") already reads so.
    return data if data.endswith("+00:00") else value.astimezone(UTC).isoformat()


class EventDecoder:
    """Decodes the ledger's stored events into (position, event, fields JSON) for the runner."""

    def __init__(self, mapper: Any) -> None:
        self._mapper = mapper
        transcoder = getattr(mapper, "transcoder", None)
        self._fast = (
            isinstance(transcoder, JSONTranscoder)
            and getattr(mapper, "cipher", None) is None
            and getattr(mapper, "compressor", None) is None
        )
        self._tags: dict[str, Callable[[Any], tuple[Any, Any]]] = {}
        if isinstance(transcoder, JSONTranscoder):
            for name, transcoding in transcoder.names.items():
                tag = self._tag_for(transcoding)
                if tag is not None:
                    self._tags[name] = tag
        self._classes: dict[str, tuple[type[Any], int]] = {}
        self._decimal_tag = self._time_tag = ""
        if isinstance(transcoder, JSONTranscoder):
            for name, transcoding in transcoder.names.items():
                if type(transcoding) is DecimalAsStr:
                    self._decimal_tag = name
                elif type(transcoding) is DatetimeAsISO:
                    self._time_tag = name

    def decode(self, rows: Sequence[RawEvent]) -> list[Decoded]:
        """The events of ``rows``, in order; one that cannot be decoded (unknown topic,
        invalid JSON, a field the event class refuses) comes as an ``Undecodable``."""
        ids: dict[Any, Any] = {}  # an order's events come in runs: convert its id once
        decoded = []
        for row in rows:
            try:
                decoded.append(self._one(row, ids))
            except Exception as error:  # decoding is pure: the same row always fails alike
                position, originator_id, version = row[0], row[1], row[2]
                poison = Undecodable(originator_id, version, describe(error))
                decoded.append(Decoded(position, poison, None, originator_id))
        return decoded

    def _one(self, row: RawEvent, ids: dict[Any, Any]) -> Decoded:
        if not self._fast:
            return self._slow(row)
        try:
            return self._decode(row, ids, False)
        except _Floats:
            try:
                return self._decode(row, ids, True)
            except _Unknown:
                return self._slow(row)
        except _Unknown:
            return self._slow(row)

    def decode_notifications(self, notifications: Sequence[Notification]) -> list[Decoded]:
        """The events of library notifications, in order."""
        return self.decode(
            [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]
        )

    # ---- the work -------------------------------------------------------------------

    def _decode(self, row: RawEvent, ids: dict[Any, Any], careful: bool) -> Decoded:
        position, originator_id, version, topic, stored = row
        found = self._classes.get(topic)
        if found is None:
            cls = resolve_topic(topic)
            found = self._classes[topic] = (cls, getattr(cls, "class_version", 1))
        cls, class_version = found
        state = _loads(stored, careful)
        if type(state) is not dict:
            raise _Unknown
        shown: dict[str, Any] = {}
        floats = False  # a float anywhere in the state
        decimal_tag, time_tag = self._decimal_tag, self._time_tag
        for key, value in state.items():
            kind = type(value)
            if kind is dict:
                name = value.get("_type_")
                if name is not None and len(value) == 2 and "_data_" in value:
                    data = value["_data_"]
                    typed: Any
                    if name == decimal_tag and type(data) is str:
                        typed = Decimal(data)
                        plain = data  # str(Decimal(s)) == s for a stored s
                    elif name == time_tag and type(data) is str:
                        typed = moment = _from_iso(data)
                        plain = data if data.endswith("+00:00") else moment.astimezone(UTC).isoformat()
                    else:
                        tag = self._tags.get(name)
                        if tag is None:
                            raise _Unknown
                        typed, plain = tag(data)
                        if type(plain) is not str and _may_hold_float(plain):
                            floats = True
                else:
                    typed, plain = self._value(value)
                    if _may_hold_float(plain):
                        floats = True
                state[key] = typed
            elif kind is list:
                typed, plain = self._value(value)
                state[key] = typed
                if _may_hold_float(plain):
                    floats = True
            else:
                plain = value
                if kind is float:
                    floats = True
            if key not in BOOKKEEPING_FIELDS:
                shown[key] = plain
        if floats and not careful:
            raise _Floats
        known = ids.get(originator_id)
        if known is None:
            converted = find_id_convertor(cls, type(originator_id))(originator_id)  # type: ignore[arg-type]
            known = ids[originator_id] = (converted, order_key(converted))
        state["originator_id"] = known[0]
        state["originator_version"] = version
        from_version = state.pop("class_version", 1)
        upcast = from_version < class_version
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        if upcast:
            return Decoded(position, event, None, known[1])
        shown.pop("class_version", None)
        return Decoded(position, event, _dumps(shown) if careful else _dumps_plain(shown), known[1])

    def _value(self, value: Any) -> tuple[Any, Any]:
        """(typed value, JSON-ready value) of a parsed dict or list."""
        if type(value) is list:
            typed_items, plain_items = [], []
            for item in value:
                if type(item) is dict or type(item) is list:
                    typed, plain = self._value(item)
                else:
                    typed = plain = item
                typed_items.append(typed)
                plain_items.append(plain)
            return typed_items, plain_items
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            tag = self._tags.get(value["_type_"])
            if tag is None:
                raise _Unknown
            return tag(value["_data_"])
        typed_dict, plain_dict = {}, {}
        for key, item in value.items():
            if type(item) is dict or type(item) is list:
                typed, plain = self._value(item)
            else:
                typed = plain = item
            typed_dict[key] = typed
            plain_dict[key] = plain
        return typed_dict, plain_dict

    def _tag_for(self, transcoding: Any) -> Callable[[Any], tuple[Any, Any]] | None:
        """How to decode one transcoding's data: (typed, JSON-ready), or None if unknown."""
        if type(transcoding) is DecimalAsStr:
            return lambda data: (Decimal(data), data)  # str(Decimal(s)) == s for stored s
        if type(transcoding) is DatetimeAsISO:

            def time(data: Any) -> tuple[Any, Any]:
                value = datetime.fromisoformat(data)
                return value, _time_shown(data, value)

            return time
        if type(transcoding) is UUIDAsHex:

            def uuid(data: Any) -> tuple[Any, Any]:
                value = UUID(data)
                return value, str(value)

            return uuid
        if getattr(transcoding, "name", None) == "tuple_as_list":

            def as_tuple(data: Any) -> tuple[Any, Any]:
                if type(data) is not list:
                    raise _Unknown
                typed, plain = self._value(data)
                return tuple(typed), plain

            return as_tuple
        enum_type: Any = getattr(transcoding, "type", None)
        if _is_enum_as_value(transcoding, enum_type):
            members = {m.value: m for m in enum_type}

            def member(data: Any) -> tuple[Any, Any]:
                if not isinstance(data, _PLAIN):
                    raise _Unknown
                found = members.get(data)  # what enum_type(data) returns, without its overhead
                if found is None or type(found.value) is not type(data):
                    found = transcoding.decode(data)
                return found, data  # shown as its value

            return member
        return None

    def _slow(self, row: RawEvent) -> Decoded:
        position, originator_id, version, topic, stored = row
        event = self._mapper.to_domain_event(
            StoredEvent(originator_id=originator_id, originator_version=version, topic=topic, state=stored)
        )
        return as_decoded(position, event)


def _is_enum_as_value(transcoding: Any, enum_type: Any) -> bool:
    """Whether the transcoding stores each member of an enum as its plain value and back
    (infrastructure.transcodings.EnumAsValue does), checked member by member."""
    if not (isinstance(enum_type, type) and issubclass(enum_type, Enum)):
        return False
    try:
        return all(
            isinstance(member.value, _PLAIN)
            and transcoding.encode(member) == member.value
            and transcoding.decode(member.value) is member
            for member in enum_type
        )
    except Exception:
        return False


def fields_json_of(decoded: Decoded) -> str:
    """The event's business fields as JSON: the decoder's, or encoded from the event."""
    if decoded.fields_json is not None:
        return decoded.fields_json
    return business_fields_json(decoded.event)
