"""Blue/green rebuilds: reads never go dark, a killed rebuild resumes, followers coexist."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from execledger.infrastructure.errors import ConcurrentUpdate
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.read_models import open_projections
from execledger.projections import ProjectionRunner, ProjectionStore, queries

from tests.integration.test_projections_runner import save_orders, snapshot
from tests.projection_scenarios import worked_order

#: A rebuild in a child process that sleeps after each batch, so it can be killed half-way.
SLOW_REBUILD = """
import sys, time
from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.read_models import open_projections
from execledger.projections import ProjectionRunner
url = sys.argv[1]
with open_ledger(url) as ledger:
    store = open_projections(url)
    ProjectionRunner(ledger, store, batch_size=20).rebuild(None, lambda *_: time.sleep(0.3))
"""


def _rebuilding_position(store: ProjectionStore, runner: ProjectionRunner) -> int:
    return min((s["position"] for s in runner.status() if s["role"] == "rebuilding"), default=0)


def test_a_rebuild_killed_half_way_leaves_reads_on_the_old_models_and_resumes(
    database_url: str, ledger: Ledger, store: ProjectionStore, tmp_path: Path
) -> None:
    """SIGKILL mid-rebuild: orders and timeline answer as before from the serving models,
    status shows both generations, and the next rebuild resumes where the killed one was."""
    save_orders(ledger, range(24))
    runner = ProjectionRunner(ledger, store)
    runner.catch_up()
    head = ledger.recorder.max_notification_id()
    orders_before = queries.orders(store)
    some_order = orders_before[5]["order_id"]
    timeline_before = queries.timeline_of(store, some_order)
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_REBUILD, database_url],
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while _rebuilding_position(store, runner) < 40 and time.monotonic() < deadline:
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(10)
    killed_at = _rebuilding_position(store, runner)
    assert 40 <= killed_at < head
    assert queries.orders(store) == orders_before
    assert queries.timeline_of(store, some_order) == timeline_before
    roles = {(s["role"], s["generation"]) for s in runner.status()}
    assert roles == {("serving", 0), ("rebuilding", 1)}
    assert runner.rebuild() == head - killed_at
    assert queries.orders(store) == orders_before
    assert queries.timeline_of(store, some_order) == timeline_before
    assert {(s["role"], s["generation"], s["lag"]) for s in runner.status()} == {("serving", 1, 0)}


def test_a_rebuild_while_a_follower_and_writers_run_raises_nothing_and_loses_nothing(
    database_url: str, ledger: Ledger, store: ProjectionStore
) -> None:
    """The engine's in-process follower, a writer, a reader and two rebuilds in a row:
    no error anywhere, reads always answer, and the end state is a clean rebuild's."""
    save_orders(ledger, range(40))
    follower = ProjectionRunner(ledger, store, batch_size=17)
    follower.catch_up()
    follower.start_in_background(poll_interval_seconds=0.002)
    errors: list[BaseException] = []
    done = threading.Event()
    writer_ledger = open_ledger(database_url)
    reader_store = open_projections(database_url)
    rebuild_store = open_projections(database_url)

    def write() -> None:
        try:
            for chunk in range(10):
                save_orders(writer_ledger, range(100 + chunk * 4, 104 + chunk * 4), correlation_id="w")
                time.sleep(0.005)
        except Exception as error:  # surfaced below
            errors.append(error)

    def read() -> None:
        try:
            while not done.is_set():
                assert queries.orders(reader_store)
        except Exception as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    try:
        rebuilder = ProjectionRunner(ledger, rebuild_store, batch_size=23)
        rebuilder.rebuild()
        rebuilder.rebuild(["order_timeline"])
        threads[0].join()
    finally:
        done.set()
        for thread in threads:
            thread.join()
        follower.stop()
        writer_ledger.close()
        reader_store.close()
        rebuild_store.close()
    assert errors == []
    assert follower.error is None
    follower.catch_up()
    followed = snapshot(store)
    assert len(followed["order_status"]) == 80
    follower.rebuild()
    assert snapshot(store) == followed


def test_a_gap_in_notification_ids_is_passed(
    database_url: str, ledger: Ledger, store: ProjectionStore
) -> None:
    """A rolled-back save leaves a permanent gap in PostgreSQL's ids: the follower passes it
    (it once read the gap as a swap and re-read forever)."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite reuses no id: a failed save leaves no gap")
    save_orders(ledger, range(4))
    runner = ProjectionRunner(ledger, store)
    runner.catch_up()
    twin = worked_order(0)
    with pytest.raises(ConcurrentUpdate):
        ledger.save_order(twin)
    save_orders(ledger, range(4, 8))
    caught_up = threading.Thread(target=runner.catch_up, daemon=True)
    caught_up.start()
    caught_up.join(30)
    assert not caught_up.is_alive()
    assert len(queries.orders(store)) == 8
