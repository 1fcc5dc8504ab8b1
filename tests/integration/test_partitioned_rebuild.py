"""A rebuild split by order across worker processes: same rows, resumable, poison once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest
from execledger.infrastructure.ledger import Ledger
from execledger.infrastructure.read_models import ledger_and_projections
from execledger.projections import ProjectionRunner, ProjectionStore, queries
from execledger.projections.partition import Partition
from execledger.projections.rebuild import RebuildFailed

from tests.integration.test_projection_poison import _poisoned_order
from tests.integration.test_projections_runner import save_orders, snapshot

#: A partitioned rebuild (2 workers, small batches, slowed down) in a child process.
SLOW_PARTITIONED_REBUILD = """
import sys
from functools import partial
from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.read_models import open_projections
from execledger.projections import ProjectionRunner
from tests.integration.test_partitioned_rebuild import slow_side
url = sys.argv[1]
with open_ledger(url) as ledger:
    store = open_projections(url)
    ProjectionRunner(ledger, store, batch_size=20).rebuild(
        None, processes=2, opener=partial(slow_side, url), threshold=0
    )
"""


class _SlowStore:
    """A store whose every transaction first sleeps, so a rebuild can be killed half-way."""

    def __init__(self, store: ProjectionStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        time.sleep(0.1)
        with self._store.transaction() as tx:
            yield tx


@contextmanager
def slow_side(url: str) -> Iterator[tuple[Ledger, Any]]:
    """A worker's ledger and store, the store slowed down (see ``_SlowStore``)."""
    with ledger_and_projections(url) as (ledger, store):
        yield ledger, _SlowStore(store)


@contextmanager
def failing_side(url: str) -> Iterator[tuple[Ledger, ProjectionStore]]:
    """A worker's opener that fails, as a worker losing its database would."""
    raise ConnectionError(f"no database for this worker ({len(url)})")
    yield  # pragma: no cover


def _partitioned(
    runner: ProjectionRunner, url: str, progress: Callable[[int, int], None] | None = None
) -> int:
    opener = partial(ledger_and_projections, url)
    return runner.rebuild(None, progress, processes=2, opener=opener, threshold=0)


def _rebuilding_position(runner: ProjectionRunner) -> int:
    return min((s["position"] for s in runner.status() if s["role"] == "rebuilding"), default=0)


def test_a_partitioned_rebuild_gives_the_rows_of_one_process_and_of_following(
    database_url: str, ledger: Ledger, store: ProjectionStore
) -> None:
    """Two workers, each folding half the orders, leave exactly the rows that following the
    ledger in small batches left, and no partition tracking behind."""
    save_orders(ledger, range(30))
    runner = ProjectionRunner(ledger, store, batch_size=7)
    runner.catch_up()
    followed = snapshot(store)
    head = ledger.recorder.max_notification_id()
    reported: list[tuple[int, int]] = []
    assert _partitioned(runner, database_url, lambda *at: reported.append(at)) == head
    assert snapshot(store) == followed
    assert reported[-1] == (head, head)  # the last report: the one-process catch-up's end
    assert all(done <= total == head for done, total in reported)
    assert {(s["role"], s["generation"], s["lag"]) for s in runner.status()} == {("serving", 1, 0)}
    assert not [name for name in store.positions() if "/" in name]
    assert runner.rebuild() == head  # and one process gives the same rows again
    assert snapshot(store) == followed


def test_a_partitioned_rebuild_killed_half_way_leaves_reads_serving_and_resumes(
    database_url: str, ledger: Ledger, store: ProjectionStore
) -> None:
    """SIGKILL to the rebuild and its workers: reads answer from the serving models, and
    the next rebuild continues each partition from its own position to the same rows."""
    save_orders(ledger, range(40))
    runner = ProjectionRunner(ledger, store)
    runner.catch_up()
    before = snapshot(store)
    orders_before = queries.orders(store)
    head = ledger.recorder.max_notification_id()
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_PARTITIONED_REBUILD, database_url],
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the workers are killed with it
    )
    try:
        deadline = time.monotonic() + 60
        while _rebuilding_position(runner) < 40 and time.monotonic() < deadline:
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            time.sleep(0.02)
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    killed_at = _rebuilding_position(runner)
    assert 40 <= killed_at < head
    assert queries.orders(store) == orders_before
    assert sorted(name for name in store.positions() if "/" in name) == [
        f"{p}@1/{i}of2" for p in ("execution_quality", "order_status", "order_timeline") for i in (0, 1)
    ]
    assert _partitioned(runner, database_url) == head - killed_at
    assert snapshot(store) == before
    assert {(s["role"], s["generation"], s["lag"]) for s in runner.status()} == {("serving", 1, 0)}


@pytest.mark.parametrize("kind", ["fold raises", "NUL in a text column"])
def test_poison_in_a_partitioned_rebuild_is_recorded_once_under_the_generation(
    kind: str, database_url: str, ledger: Ledger, store: ProjectionStore
) -> None:
    """The bad event is set aside once per projection, under the generation's name (shown
    as the projection's once it serves), as one process records it."""
    if kind == "NUL in a text column" and database_url.startswith("sqlite"):
        pytest.skip("SQLite stores a NUL in text: nothing to refuse")
    order_id, version = _poisoned_order(ledger, kind)
    runner = ProjectionRunner(ledger, store, batch_size=3)
    assert _partitioned(runner, database_url) == ledger.recorder.max_notification_id()
    errors = queries.projection_errors(store)
    assert sorted((e["projection"], e["order_id"], e["version"]) for e in errors) == [
        (name, order_id, version) for name in ("execution_quality", "order_status", "order_timeline")
    ]
    assert {s["errors"] for s in runner.status()} == {1}


def test_a_failed_worker_fails_the_rebuild_in_one_line_and_it_resumes(sqlite_url: str) -> None:
    """A worker that cannot start fails the rebuild with one line naming it; the serving
    read models are untouched, and the next rebuild, in one process, completes it."""
    with ledger_and_projections(sqlite_url) as (ledger, store):
        save_orders(ledger, range(10))
        runner = ProjectionRunner(ledger, store)
        runner.catch_up()
        before = snapshot(store)
        with pytest.raises(
            RebuildFailed, match=r"^rebuild worker \d of 2 failed: ConnectionError: no database"
        ):
            runner.rebuild(processes=2, opener=partial(failing_side, sqlite_url), threshold=0)
        assert snapshot(store) == before
        assert {(s["role"], s["generation"]) for s in runner.status()} == {("serving", 0), ("rebuilding", 1)}
        assert runner.rebuild() == ledger.recorder.max_notification_id()  # resumed in one process
        assert snapshot(store) == before
        assert not [name for name in store.positions() if "/" in name]


def test_the_database_picks_a_partitions_events_as_partition_select_does(
    ledger: Ledger, store: ProjectionStore
) -> None:
    """A worker's read is filtered by the database (SQLite: ``bucket`` as an SQL function;
    PostgreSQL: the same last 32 bits of the UUID, computed by the server): for every
    partition count, each partition gets exactly the events ``Partition.select`` keeps."""
    save_orders(ledger, range(40))
    table = store.events_table_of(ledger.recorder)
    assert table is not None
    every = store.read_events(table, 1, 10_000)
    assert len(every) == ledger.recorder.max_notification_id()
    for count in (1, 2, 3, 4):
        picked = [store.read_events(table, 1, 10_000, (index, count)) for index in range(count)]
        assert picked == [Partition(index, count).select(every) for index in range(count)]
        assert sorted(row for rows in picked for row in rows) == sorted(every)
