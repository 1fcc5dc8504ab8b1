"""The hash chain: canonical encoding and the links between an order's events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic
from execledger.domain import order_events as ev
from execledger.domain.chain import CHAIN_VERSION, GENESIS_HASH, _canonical_subclass, canonical, event_hash
from execledger.domain.types import Side
from hypothesis import given
from hypothesis import strategies as st

from tests.builders import fill, working_order


def test_each_event_links_to_the_hash_of_the_one_before() -> None:
    """previous_hash is GENESIS for the first event, then the prior event_hash."""
    order = working_order()
    fill(order, "3", execution_id="x-1")
    events = [e for e in order.pending_events if isinstance(e, ev.OrderEvent)]
    assert events[0].previous_hash == GENESIS_HASH
    for before, after in pairwise(events):
        assert after.previous_hash == before.event_hash
    assert order.head_hash == events[-1].event_hash
    assert len({e.event_hash for e in events}) == len(events)


def test_the_event_hash_is_over_its_fields_id_version_topic_and_versions() -> None:
    """Recomputing from the event's fields plus id, version, topic, class and chain version
    gives its event_hash."""
    order = working_order()
    for event in order.pending_events:
        fields = {
            **vars(event),
            "topic": get_topic(type(event)),
            "class_version": getattr(type(event), "class_version", 1),
            "chain_version": CHAIN_VERSION,
        }
        assert event_hash(fields) == event.event_hash  # type: ignore[attr-defined]


def test_chain_version_2_hashes_the_class_version() -> None:
    """Version 2 hashes class_version (absent = 1); only event_hash and event_mac are left out."""
    fields = {"a": Decimal("1.10"), "chain_version": 2, "event_hash": "x", "event_mac": "y"}
    assert event_hash(fields) == event_hash({"a": Decimal("1.10"), "chain_version": 2, "class_version": 1})
    assert event_hash(fields) != event_hash({**fields, "class_version": 2})
    assert event_hash(fields) != event_hash({**fields, "a": Decimal("1.1")})


def test_chain_version_1_ignores_only_itself_and_class_version() -> None:
    """Version 1 (no chain_version: the events version 0.1 wrote) did not hash class_version."""
    fields = {"a": Decimal("1.10"), "event_hash": "x", "class_version": 2}
    assert event_hash(fields) == event_hash({"a": Decimal("1.10")})
    assert event_hash(fields) != event_hash({"a": Decimal("1.1")})


def test_a_version_2_event_relabelled_as_version_1_hashes_differently() -> None:
    """Dropping chain_version changes the hash, so a downgrade needs the hashes recomputed."""
    fields = {"a": Decimal("1.10"), "chain_version": 2}
    assert event_hash(fields) != event_hash({"a": Decimal("1.10")})


def test_an_unknown_chain_version_is_refused() -> None:
    with pytest.raises(ValueError, match="chain version"):
        event_hash({"a": 1, "chain_version": 9})


def test_canonical_keeps_what_distinguishes_values() -> None:
    """Decimal digits, datetime offsets, UUIDs and enums are encoded without loss or clash."""
    moment = datetime(2024, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert canonical(Decimal("1.10")) == {"decimal": "1.10"}
    assert canonical(Decimal("1.10")) != canonical("1.10")
    assert canonical(moment) != canonical(moment.astimezone(UTC))
    assert canonical(UUID(int=1)) == {"uuid": "00000000-0000-0000-0000-000000000001"}
    assert canonical(Side.BUY) == "BUY"
    assert canonical((1, [2])) == [1, [2]]


def test_canonical_refuses_floats() -> None:
    """A float cannot be hashed: money is Decimal."""
    with pytest.raises(TypeError):
        canonical(1.5)


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=5)
        | st.decimals(allow_nan=False, allow_infinity=False)
        | st.datetimes(timezones=st.just(UTC))
        | st.uuids()
        | st.sampled_from(list(Side)),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.tuples(inner, inner)
            | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_canonical_equals_the_general_walk(value: object) -> None:
    """The fast type dispatch gives what the isinstance walk (subclasses' path) gives."""
    assert canonical(value) == _reference(value)


def _reference(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _reference(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not isinstance(value, str):
        return [_reference(v) for v in value]
    return _canonical_subclass(value) if value is not None else None
