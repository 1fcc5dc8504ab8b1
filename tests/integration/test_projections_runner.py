"""The projection runner on SQLite and PostgreSQL: exactly once, rebuildable, resumable."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.read_models import catch_up_after_save, open_projections
from execledger.projections import ALL_PROJECTIONS, ProjectionRunner, ProjectionStore
from execledger.projections.projection import tables_of

from tests.projection_scenarios import worked_order


def save_orders(ledger: Ledger, indexes: range, **kwargs: Any) -> None:
    ledger.save(*[worked_order(i, symbol=f"S{i % 3}", **kwargs) for i in indexes])


def snapshot(store: ProjectionStore) -> dict[str, list[dict[str, Any]]]:
    """Every read-model row of every projection, in key order."""
    result = {}
    for projection in ALL_PROJECTIONS:
        for table in tables_of(projection):
            result[table.name] = store.select(table, order_by=table.key)
    return result


def test_incremental_state_equals_rebuilt_state(ledger: Ledger, store: ProjectionStore) -> None:
    """Following the ledger in small batches as it grows gives what a full rebuild gives."""
    runner = ProjectionRunner(ledger, store, batch_size=7)
    for start in range(0, 40, 10):
        save_orders(ledger, range(start, start + 10))
        runner.catch_up()
    incremental = snapshot(store)
    assert runner.rebuild() == ledger.recorder.max_notification_id()
    assert snapshot(store) == incremental
    assert len(incremental["order_timeline"]) == ledger.recorder.max_notification_id()
    assert len(incremental["order_status"]) == 40


def test_projected_orders_agree_with_the_aggregates(ledger: Ledger, store: ProjectionStore) -> None:
    """Status, quantities and exact Decimal prices read back as the aggregates hold them."""
    save_orders(ledger, range(16))
    ProjectionRunner(ledger, store).catch_up()
    rows = store.select(ALL_PROJECTIONS[0].state_table)
    assert len(rows) == 16, "every saved order has a row to compare"
    for row in rows:
        order = ledger.order(row["order_id"])
        assert row["status"] == order.status.value
        assert row["filled_quantity"] == order.filled_quantity
        assert row["filled_notional"] == order.filled_notional
        assert row["limit_price"] == order.limit_price
        assert isinstance(row["quantity"], Decimal)
        assert row["updated_at"] == order.last_event_at


def test_duplicate_delivery_changes_nothing(ledger: Ledger, store: ProjectionStore) -> None:
    """Delivering already-applied notifications again (whole or overlapping) is a no-op."""
    save_orders(ledger, range(8))
    runner = ProjectionRunner(ledger, store)
    runner.catch_up()
    before = snapshot(store)
    notifications = ledger.recorder.select_notifications(1, 1000)
    assert runner.process(notifications) == 0
    assert runner.process(notifications[10:20]) == 0
    assert snapshot(store) == before
    assert {s["lag"] for s in runner.status()} == {0}


def test_a_rebuild_killed_half_way_resumes_without_double_counting(
    ledger: Ledger, store: ProjectionStore
) -> None:
    """A rebuild stopped after two batches leaves the serving read models as they were
    (status shows both generations); the next rebuild resumes and ends where a clean one does."""
    save_orders(ledger, range(30))
    runner = ProjectionRunner(ledger, store, batch_size=25)
    runner.catch_up()
    expected = snapshot(store)
    head = ledger.recorder.max_notification_id()
    batches = 0

    def killed(position: int, ledger_position: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runner.rebuild(None, killed)
    assert snapshot(store) == expected
    status = {(s["name"], s["role"]): s["position"] for s in runner.status()}
    assert {status[(p.name, "serving")] for p in ALL_PROJECTIONS} == {head}
    assert {status[(p.name, "rebuilding")] for p in ALL_PROJECTIONS} == {50}
    assert runner.rebuild() == head - 50
    assert snapshot(store) == expected
    assert [(s["role"], s["generation"], s["lag"]) for s in runner.status()] == [("serving", 1, 0)] * 3


def test_rebuilding_one_projection_leaves_the_others_alone(ledger: Ledger, store: ProjectionStore) -> None:
    """``rebuild order_timeline`` resets that one; the others keep their rows and positions."""
    save_orders(ledger, range(10))
    runner = ProjectionRunner(ledger, store)
    runner.catch_up()
    expected = snapshot(store)
    progress: list[int] = []
    runner.rebuild(["order_timeline"], lambda position, _: progress.append(position))
    assert progress[-1] == ledger.recorder.max_notification_id()
    assert snapshot(store) == expected


def test_concurrent_writers_are_all_projected_exactly_once(
    database_url: str, ledger: Ledger, store: ProjectionStore
) -> None:
    """Four writers append while two runners follow: every event is projected once, none skipped."""
    second_store = open_projections(database_url)
    runners = [
        ProjectionRunner(ledger, store, batch_size=13),
        ProjectionRunner(ledger, second_store, batch_size=29),
    ]
    for runner in runners:
        runner.start_in_background(poll_interval_seconds=0.002)
    errors: list[BaseException] = []
    # Opened one by one: concurrent first opens race on the ledger's CREATE TABLE in PostgreSQL.
    writer_ledgers = [open_ledger(database_url) for _ in range(4)]

    def writer(number: int) -> None:
        own = writer_ledgers[number]
        try:
            for chunk in range(6):
                first = number * 1000 + chunk * 4
                save_orders(own, range(first, first + 4), correlation_id=f"w{number}")
                time.sleep(0.001)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            own.close()

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    assert errors == []
    total = ledger.recorder.max_notification_id()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(s["lag"] for s in runners[0].status()):
        time.sleep(0.01)
    for runner in runners:
        runner.stop()
        assert runner.error is None
    second_store.close()
    rows = snapshot(store)
    timeline = rows["order_timeline"]
    assert len(timeline) == total == sum(1 for _ in ledger.notifications())
    assert sorted(row["position"] for row in timeline) == [n.id for n in ledger.notifications()]
    assert len(rows["order_status"]) == 4 * 6 * 4
    for status in rows["order_status"]:
        assert status["version"] == ledger.order(status["order_id"]).version
    ProjectionRunner(ledger, store).rebuild()
    assert snapshot(store) == rows


def test_saves_folded_from_memory_equal_a_rebuild_from_the_log(
    ledger: Ledger, store: ProjectionStore
) -> None:
    """The engine's follower folds the events it just saved as they are in memory; a rebuild
    decodes them from the log: every row of every read model is the same. (Nothing is read
    back while the follower is current: the fast path is the one under test.)"""
    runner = ProjectionRunner(ledger, store)
    reads = []
    read = runner._read
    runner._read = lambda start: reads.append(start) or read(start)  # type: ignore[method-assign]
    listener = catch_up_after_save(runner)
    ledger.add_save_listener(listener)
    try:
        for start in range(0, 40, 10):
            save_orders(ledger, range(start, start + 10))
        for index in range(40, 48):
            ledger.save(worked_order(index))
    finally:
        ledger.remove_save_listener(listener)
    assert reads == []
    followed = snapshot(store)
    assert len(followed["order_timeline"]) == ledger.recorder.max_notification_id()
    assert runner.rebuild() == ledger.recorder.max_notification_id()
    assert snapshot(store) == followed


def test_saves_after_events_from_elsewhere_are_read_from_the_log(
    database_url: str, ledger: Ledger, store: ProjectionStore
) -> None:
    """When another writer's events came before this process's save, the follower is behind
    the save's first event: it reads the log from where it is, and misses nothing."""
    runner = ProjectionRunner(ledger, store)
    listener = catch_up_after_save(runner)
    ledger.add_save_listener(listener)
    try:
        with open_ledger(database_url) as elsewhere:
            elsewhere.save(worked_order(1))
        ledger.save(worked_order(2))
    finally:
        ledger.remove_save_listener(listener)
    assert len(store.select(ALL_PROJECTIONS[0].state_table)) == 2
    assert {s["lag"] for s in runner.status()} == {0}
