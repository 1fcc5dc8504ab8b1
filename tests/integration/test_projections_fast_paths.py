"""The runner's fast paths change nothing: row cache across runners, deferred indexes, v1 events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from execledger.domain.order import SmartOrder
from execledger.infrastructure.ledger import Ledger
from execledger.infrastructure.read_models import open_projections
from execledger.projections import (
    ALL_PROJECTIONS,
    ProjectionRunner,
    ProjectionStore,
    generation,
    queries,
)
from execledger.projections.projection import tables_of
from execledger.projections.store_postgres import PostgresProjectionStore
from execledger.projections.store_sqlite import SQLiteProjectionStore

from tests.integration.test_projections_runner import save_orders, snapshot
from tests.projection_scenarios import T0, fill, place, quoted_and_priced, requested


def index_names(store: ProjectionStore, number: int = 0, *, serving: bool = True) -> set[str]:
    names = {t.name for p in ALL_PROJECTIONS for t in tables_of(generation.at(p, number, serving=serving))}
    if isinstance(store, SQLiteProjectionStore):
        rows = store.connection.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'")
        return {name for name, table in rows if table in names and not name.startswith("sqlite_")}
    assert isinstance(store, PostgresProjectionStore)
    with store.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, tablename FROM pg_indexes WHERE schemaname = %s", (store.schema or "public",)
        )
        return {name for name, table in cursor.fetchall() if table in names and not name.endswith("_pkey")}


def expected_indexes(number: int = 0) -> set[str]:
    tables = [t for p in ALL_PROJECTIONS for t in tables_of(generation.at(p, number, serving=True))]
    return {i.name for t in tables for i in t.indexes} | {t.key_index_name for t in tables if t.append_only}


def test_interleaved_runners_keep_no_stale_rows(
    database_url: str, ledger: Ledger, store: ProjectionStore
) -> None:
    """Two runners take turns on orders that live across many saves: no runner folds onto a
    row another runner has moved on since (its cached rows are dropped when the positions moved)."""
    other_store = open_projections(database_url)
    runners = [ProjectionRunner(ledger, store, batch_size=4), ProjectionRunner(ledger, other_store)]
    orders = [
        requested(f"S{i}", "BUY", "100", key=f"k{i}", correlation_id="c", when=T0 + timedelta(seconds=i))
        for i in range(5)
    ]
    steps: list[Callable[[SmartOrder, datetime], None]] = [
        lambda order, at: order.validate(tradable=True, fractionable=True, occurred_at=at),
        lambda order, at: quoted_and_priced(order, "10.00", "10.02", "10.01", at),
        lambda order, at: place(order, "10.01", at, f"B-{order.symbol}"),
        lambda order, at: fill(order, "40", "10.01", at, f"E-{order.symbol}-1"),
        lambda order, at: fill(order, "60", "10.01", at, f"E-{order.symbol}-2"),
        lambda order, at: order.complete("filled", occurred_at=at),
    ]
    ledger.save(*orders)
    for number, step in enumerate(steps):
        for order in orders:
            step(order, T0 + timedelta(seconds=10 * (number + 1)))
        ledger.save(*orders)
        runners[number % 2].catch_up()
    runners[0].catch_up()
    following = snapshot(store)
    other_store.close()
    runners[0].rebuild()
    assert snapshot(store) == following
    assert {row["status"] for row in following["order_status"]} == {"completed"}


def test_a_rebuild_builds_every_index_at_its_end(ledger: Ledger, store: ProjectionStore) -> None:
    """The rebuilt generation has every index of the one it replaces, which is dropped."""
    save_orders(ledger, range(12))
    runner = ProjectionRunner(ledger, store, batch_size=10)
    assert index_names(store) == expected_indexes()
    runner.rebuild()
    assert index_names(store) == expected_indexes(1)
    assert index_names(store, 1, serving=False) == set()  # renamed into place


def test_a_killed_rebuild_leaves_the_serving_indexes_and_builds_its_own_when_resumed(
    database_url: str, ledger: Ledger, store: ProjectionStore
) -> None:
    """Killed, the rebuild's generation has no secondary indexes yet and the serving one keeps
    all of them; a reopened store serves reads; the resumed rebuild builds its indexes."""
    save_orders(ledger, range(12))
    runner = ProjectionRunner(ledger, store, batch_size=10)
    runner.catch_up()

    def killed(position: int, ledger_position: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runner.rebuild(None, killed)
    assert index_names(store) == expected_indexes()
    assert index_names(store, 1, serving=False) < expected_indexes(1)  # deferred, not yet built
    reopened = open_projections(database_url)
    try:
        timeline: list[dict[str, Any]] = queries.timeline_of(reopened, f"{ledger_first_order(ledger)}")
        assert timeline and timeline[0]["type"] == "Requested"
        ProjectionRunner(ledger, reopened).rebuild()
        assert index_names(reopened) == expected_indexes(1)
        assert queries.timeline_of(reopened, f"{ledger_first_order(ledger)}") == timeline
    finally:
        reopened.close()


def ledger_first_order(ledger: Ledger) -> str:
    return str(next(ledger.order_ids()))
