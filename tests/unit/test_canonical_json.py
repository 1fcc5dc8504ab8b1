"""verify writes the hashed bytes with orjson; they must be exactly json.dumps's (sorted keys,
compact, ASCII), which the writers hash with (domain.chain.event_hash)."""

from __future__ import annotations

import json
from typing import Any

from execledger.infrastructure.stored_canonical import canonical_json, stored_canonical
from hypothesis import given
from hypothesis import strategies as st

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), _values, max_size=6))
def test_canonical_json_is_json_dumps_exactly(value: dict[str, Any]) -> None:
    """Any text (control characters, DEL, non-ASCII, surrogates), any int: the same bytes."""
    expected = json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")
    assert canonical_json(value) == expected


def test_tags_read_straight_from_the_bytes() -> None:
    """The library's tags become the canonical forms; anything else falls back to the library."""
    stored = (
        b'{"q":{"_type_":"decimal_str","_data_":"1.50"},"t":{"_type_":"datetime_iso","_data_":"2024-03-01T14:30:00+00:00"},'
        b'"s":{"_type_":"enum_Side","_data_":"BUY"},"u":{"_type_":"uuid_hex","_data_":"86538b950225513888e79b655f75fb58"},'
        b'"c":{"n":[{"_type_":"decimal_str","_data_":"2"}]}}'
    )
    assert stored_canonical(stored) == {
        "q": {"decimal": "1.50"},
        "t": {"datetime": "2024-03-01T14:30:00+00:00"},
        "s": "BUY",
        "u": {"uuid": "86538b95-0225-5138-88e7-9b655f75fb58"},
        "c": {"n": [{"decimal": "2"}]},
    }
    assert stored_canonical(b'{"a":[1.5]}') is None  # a float, in a list
    assert stored_canonical(b'{"a":{"_type_":"decimal_str","_data_":"1","x":1}}') is None
    assert stored_canonical(b'{"a":{"_type_":"enum_Side","_data_":[1]}}') is None
    assert stored_canonical(b"[1]") is None
