"""Two writers on one order: one save wins, the other gets ConcurrentUpdate; nothing lost or doubled."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest
from execledger.domain import order_events as ev
from execledger.infrastructure.errors import ConcurrentUpdate
from execledger.infrastructure.ledger import Ledger, open_ledger

from tests.builders import at, fill, working_order
from tests.conftest import _fresh_schema, postgres_dsn


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL of an empty PostgreSQL ledger schema (fails in CI without PostgreSQL)."""
    yield from _fresh_schema(postgres_dsn())


def _fill_events(ledger: Ledger, order_id: object) -> list[ev.OrderEvent]:
    return [e for e in ledger.events_of(order_id) if isinstance(e, ev.PartiallyFilled | ev.Filled)]  # type: ignore[arg-type]


def test_the_second_of_two_writers_gets_a_concurrent_update(database_url: str) -> None:
    """Both load version N and act; the first save wins, the second raises and stores nothing."""
    order = working_order()
    with open_ledger(database_url) as setup:
        setup.save_order(order)
    version = order.version
    with open_ledger(database_url) as writer_a, open_ledger(database_url) as writer_b:
        mine, theirs = writer_a.order(order.id), writer_b.order(order.id)
        assert mine.version == theirs.version == version
        fill(mine, "2", execution_id="x-a")
        theirs.request_cancel("re-peg", occurred_at=at(10))

        writer_a.save_order(mine)
        with pytest.raises(ConcurrentUpdate):
            writer_b.save_order(theirs)

        stored = writer_b.events_of(order.id)
        assert len(stored) == version + 1
        assert type(stored[-1]).__name__ == "PartiallyFilled"

        retry = writer_b.order(order.id)  # reload and decide again
        retry.request_cancel("re-peg", occurred_at=at(10))
        writer_b.save_order(retry)
        names = [type(e).__name__ for e in writer_a.events_of(order.id)][-2:]
        assert names == ["PartiallyFilled", "CancelRequested"]
        assert [e.originator_version for e in writer_a.events_of(order.id)] == list(range(1, version + 3))


@pytest.mark.postgres
def test_threads_filling_one_order_on_postgres_lose_and_double_nothing(postgres_url: str) -> None:
    """Eight threads each record one fill, retrying on conflict: every fill is stored exactly once."""
    database_url = postgres_url
    order = working_order()
    with open_ledger(database_url) as setup:
        setup.save_order(order)
    writers = 8
    # Opened one by one: concurrent CREATE TABLE IF NOT EXISTS races on PostgreSQL.
    ledgers = [open_ledger(database_url) for _ in range(writers)]
    start = threading.Barrier(writers)
    conflicts: list[int] = []
    errors: list[BaseException] = []

    def record_one_fill(n: int) -> None:
        ledger = ledgers[n]
        try:
            start.wait(timeout=10)
            while True:
                current = ledger.order(order.id)
                fill(current, "1", execution_id=f"x-{n}", when=at(10 + n))
                try:
                    ledger.save_order(current)
                    return
                except ConcurrentUpdate:
                    conflicts.append(n)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=record_one_fill, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for ledger in ledgers:
        ledger.close()
    assert not errors
    with open_ledger(database_url) as ledger:
        fills = _fill_events(ledger, order.id)
        final = ledger.order(order.id)
    assert sorted(f.execution_id for f in fills) == sorted(f"x-{n}" for n in range(writers))  # type: ignore[attr-defined]
    assert [f.filled_quantity for f in fills] == [Decimal(n) for n in range(1, writers + 1)]  # type: ignore[attr-defined]
    assert final.filled_quantity == Decimal(writers)
    assert final.version == order.version + writers
    assert conflicts, "the barrier should make at least one writer lose a race"
