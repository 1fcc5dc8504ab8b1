"""Partitions of the orders for a rebuild across processes: stable, and each order in one."""

from __future__ import annotations

from uuid import UUID

from execledger.projections.partition import Partition, bucket, partition_count, partition_positions
from hypothesis import given
from hypothesis import strategies as st


@given(st.uuids(), st.integers(min_value=1, max_value=64))
def test_an_order_falls_in_exactly_one_partition_whichever_form_its_id_takes(
    order_id: UUID, count: int
) -> None:
    """The UUID, its stored text (SQLite) and its hex give the same bucket: one partition."""
    assert bucket(order_id) == bucket(str(order_id)) == bucket(order_id.hex)
    owners = [n for n in range(count) if Partition(n, count).owns(order_id)]
    assert owners == [bucket(order_id) % count]
    row = (1, str(order_id), 1, "topic", b"{}")
    assert sum(len(Partition(n, count).select([row])) for n in range(count)) == 1


@given(st.text(max_size=40))
def test_an_id_that_is_not_a_uuid_still_falls_in_one_partition(order_id: str) -> None:
    assert [n for n in range(3) if Partition(n, 3).owns(order_id)] == [bucket(order_id) % 3]


def test_partition_rows_are_found_by_their_generation() -> None:
    positions = {
        "order_status@1": 0,
        "order_status@1/0of2": 7,
        "order_status@1/1of2": 9,
        "order_status@2/0of3": 1,
    }
    assert partition_count("order_status@1", positions) == 2
    assert partition_positions("order_status@1", positions) == {
        "order_status@1/0of2": 7,
        "order_status@1/1of2": 9,
    }
    assert partition_count("order_timeline@1", positions) is None
