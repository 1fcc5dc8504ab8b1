"""An event's business fields as JSON: the same text whichever encoder writes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from execledger.domain.types import OrderType
from execledger.projections.values import BOOKKEEPING_FIELDS, _json_default, business_fields_json
from hypothesis import given
from hypothesis import strategies as st

from tests.projection_scenarios import worked_order


def reference(event: object) -> str:
    """The definition: the standard encoder over the non-bookkeeping fields."""
    fields = {k: v for k, v in vars(event).items() if k not in BOOKKEEPING_FIELDS}
    return json.dumps(fields, default=_json_default, separators=(",", ":"), ensure_ascii=False)


def test_every_event_of_every_life_is_written_as_the_standard_encoder_writes_it() -> None:
    events = [e for i in range(16) for e in worked_order(i).collect_events()]
    assert len({type(e) for e in events}) >= 10
    for event in events:
        assert business_fields_json(event) == reference(event)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),  # past 64 bits: orjson refuses
    st.floats(allow_nan=True, allow_infinity=True),  # written differently by orjson
    st.text(),  # lone surrogates, controls, DEL, non-ASCII
    st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])),
    st.uuids(),
    st.sampled_from(list(OrderType)),
)
values: Any = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers(0, 3)), inner, max_size=3),
    ),
    max_leaves=8,
)


@given(st.dictionaries(st.text(min_size=1, max_size=8), values, max_size=5))
def test_any_fields_are_written_as_the_standard_encoder_writes_them(fields: dict[str, Any]) -> None:
    event = SimpleNamespace(**fields, originator_id="x", correlation_id="c", occurred_at=datetime.now(UTC))
    assert business_fields_json(event) == reference(event)


def test_a_decimal_is_never_written_in_exponent_form() -> None:
    event = SimpleNamespace(quantity=Decimal("1E+2"), price=Decimal("0.0000001"))
    assert business_fields_json(event) == '{"quantity":"100","price":"0.0000001"}'
