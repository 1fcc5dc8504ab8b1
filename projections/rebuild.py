"""Rebuilding read models blue/green: begin a generation, build it (in partitions across
processes when the work is big), and swap it in.

A partitioned rebuild gives worker process i of K the orders of partition i
(``partition.Partition``), each tracked in its own row (``order_status@1/0of2``), all
writing into the generation being built. When every worker has reached the end of the
log, one transaction sets the generation's tracking row to the lowest partition position
and removes the partition rows; the runner then catches the generation up in one process
(events a partition already applied are skipped by version), builds the indexes and
swaps. A killed partitioned rebuild resumes each partition from its row, with the K the
rows name. Progress while the workers run is the lowest partition position: every event
up to it is applied in every partition.
"""

from __future__ import annotations

import gc
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from execledger.projections import generation, poison
from execledger.projections.errors import ProjectionError
from execledger.projections.generation import Generations, ProjectionAt
from execledger.projections.partition import partition_count, partition_positions
from execledger.projections.projection import Projection, tables_of
from execledger.projections.store import ProjectionStore, StoreTransaction

#: Fewer events to apply than this: one process (a worker's start-up costs 1-2 s of imports).
PARTITION_THRESHOLD = 200_000
#: Seconds between progress reports while the workers run.
PROGRESS_SECONDS = 0.5
#: Seconds a worker gets to end after it is told to stop.
STOP_SECONDS = 10.0

ProgressCallback = Callable[[int, int], None]  # (position reached, ledger position)
#: Opens a worker's own ledger and store on the same database (picklable: it crosses to
#: a spawned process).
ReadSideOpener = Callable[[], AbstractContextManager[tuple[Any, ProjectionStore]]]
#: A worker process's body: (opener, projection names, partition index, count, batch size,
#: parent pid) -> events it applied.
PartitionWork = Callable[[ReadSideOpener, tuple[str, ...], int, int, int, int], int]


class RebuildFailed(ProjectionError):
    """A worker of a partitioned rebuild failed (the serving read models are untouched and
    the next rebuild resumes)."""


def begin_generation(store: ProjectionStore, projections: Sequence[Projection]) -> list[ProjectionAt]:
    """The generation each projection is being rebuilt into: the unfinished one a killed
    rebuild left (resumed), else a new, empty one."""
    building = []
    with store.transaction() as tx:
        generations = tx.generations()
        positions = tx.positions()
        for projection in projections:
            current = generations.get(projection.state_table.name, generation.NONE)
            if current.building is not None:
                building.append(generation.at(projection, current.building, serving=False))
                continue
            new = generation.at(projection, current.serving + 1, serving=False)
            for name in (new.name, *partition_positions(new.name, positions)):
                tx.forget(name)
            for table in tables_of(new):
                tx.drop(table)
                tx.create(table, indexes=False)
            tx.set_position(new.name, 0)
            for table in tables_of(projection):
                tx.set_generations(table.name, Generations(current.serving, new.generation))
            building.append(new)
    return building


def swap(store: ProjectionStore, projections: Sequence[Projection]) -> bool:
    """Make the rebuilt generations serve, if each is at least as far as the serving one
    (in the same transaction that locks the followers out), and drop the old ones."""
    with store.transaction() as tx:
        positions = tx.positions()
        generations = tx.generations()
        pairs = []
        for projection in projections:
            current = generations.get(projection.state_table.name, generation.NONE)
            if current.building is None:
                continue  # swapped by a concurrent rebuild
            old = generation.at(projection, current.serving, serving=True)
            new = generation.at(projection, current.building, serving=False)
            if positions.get(new.name, 0) < positions.get(old.name, 0):
                return False
            pairs.append((projection, old, new))
        for projection, old, new in pairs:
            for table, built in zip(tables_of(old), tables_of(new), strict=True):
                tx.drop(table)
                tx.rename(built, table.name)
            for table in tables_of(projection):
                tx.set_generations(table.name, Generations(new.generation, None))
            tx.forget(old.name)
    return True


def status(
    store: ProjectionStore, projections: Sequence[Projection], ledger_position: int
) -> list[dict[str, Any]]:
    """Each projection's serving generation (and the one being rebuilt, if any): position
    (a partitioned rebuild's: its lowest partition's), events behind, events set aside."""
    positions = store.positions()
    generations = store.generations()
    errors = Counter(row["projection"] for row in store.select(poison.TABLE))
    rows = []
    for projection in projections:
        serving = generation.serving_generation(projection, generations)
        building = generation.building_generation(projection, generations)
        for number, role in ((serving, "serving"), (building, "rebuilding")):
            if number is None:
                continue
            name = generation.tracking_name(projection.name, number)
            position = min(partition_positions(name, positions).values(), default=positions.get(name, 0))
            rows.append(
                {
                    "name": projection.name,
                    "generation": number,
                    "role": role,
                    "position": position,
                    "ledger_position": ledger_position,
                    "lag": max(0, ledger_position - position),
                    "errors": errors.get(name, 0),
                }
            )
    return rows


def partitions_wanted(
    store: ProjectionStore,
    building: Sequence[ProjectionAt],
    processes: int,
    ledger_position: int,
    threshold: int,
) -> int | None:
    """How many partitions to build in: the count an unfinished partitioned rebuild left,
    else ``processes`` if there is enough to do, else None (one process)."""
    positions = store.positions()
    for placed in building:
        count = partition_count(placed.name, positions)
        if count is not None:
            return count
    if processes < 2:
        return None
    lowest = min((positions.get(p.name, 0) for p in building), default=0)
    return processes if ledger_position - lowest >= max(threshold, 1) else None


def build_in_partitions(
    store: ProjectionStore,
    building: Sequence[ProjectionAt],
    count: int,
    work: PartitionWork,
    opener: ReadSideOpener,
    batch_size: int,
    progress: ProgressCallback | None,
    ledger_position: int,
) -> int:
    """Build the generations in ``count`` worker processes, one per partition, then fold
    the partition rows back into each generation's own; the events passed."""
    names = tuple(p.projection.name for p in building)
    started = _start_partitions(store, building, count)
    context = get_context("spawn")
    workers: list[tuple[BaseProcess, Connection]] = []
    try:
        for index in range(count):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(
                target=_run_worker,
                args=(sender, work, opener, names, index, count, batch_size, os.getpid()),
                name=f"rebuild-{index}of{count}",
                daemon=True,
            )
            process.start()
            sender.close()
            workers.append((process, receiver))
        _wait_for(workers, store, building, progress, ledger_position)
    finally:
        for started_process, started_receiver in workers:
            if started_process.is_alive():
                started_process.terminate()
            started_process.join(STOP_SECONDS)
            started_receiver.close()
    return merge_partitions(store, building) - started


def _start_partitions(store: ProjectionStore, building: Sequence[ProjectionAt], count: int) -> int:
    """Give each generation ``count`` partition rows (kept if a killed rebuild left them;
    new ones start at the generation's position); the lowest position of all."""
    lowest = []
    with store.transaction() as tx:
        positions = tx.positions()
        for placed in building:
            existing = partition_count(placed.name, positions)
            if existing is not None and existing != count:
                _merge(tx, placed, positions)  # left by a rebuild of other projections
                positions = tx.positions()
            for index in range(count):
                name = generation.partition_name(placed.name, index, count)
                if name not in positions:
                    tx.set_position(name, positions.get(placed.name, 0))
                lowest.append(positions.get(name, positions.get(placed.name, 0)))
    return min(lowest, default=0)


def merge_partitions(store: ProjectionStore, building: Sequence[ProjectionAt]) -> int:
    """One transaction: each generation's position becomes its lowest partition's (if it has
    partition rows), and the partition rows go; the lowest position of all."""
    with store.transaction() as tx:
        positions = tx.positions()
        return min((_merge(tx, placed, positions) for placed in building), default=0)


def _merge(tx: StoreTransaction, placed: ProjectionAt, positions: dict[str, int]) -> int:
    parts = partition_positions(placed.name, positions)
    if not parts:
        return positions.get(placed.name, 0)
    lowest = min(parts.values())
    tx.set_position(placed.name, lowest)
    for name in parts:
        tx.forget(name)
    return lowest


def _wait_for(
    workers: Sequence[tuple[BaseProcess, Connection]],
    store: ProjectionStore,
    building: Sequence[ProjectionAt],
    progress: ProgressCallback | None,
    ledger_position: int,
) -> None:
    """Until every worker has reported; the first failure raises ``RebuildFailed``."""
    pending = {receiver: (index, process) for index, (process, receiver) in enumerate(workers)}
    while pending:
        for ready in wait(list(pending), PROGRESS_SECONDS):
            assert isinstance(ready, Connection)
            index, process = pending.pop(ready)
            outcome = _outcome(ready, process)
            if outcome is not None:
                raise RebuildFailed(f"rebuild worker {index + 1} of {len(workers)} failed: {outcome}")
        if progress is not None:
            positions = store.positions()
            lowest = min(min(partition_positions(p.name, positions).values(), default=0) for p in building)
            progress(lowest, max(lowest, ledger_position))  # (the ledger's end as the rebuild began)


def _outcome(receiver: Connection, process: BaseProcess) -> str | None:
    """None if the worker finished its partition, else why not (one line)."""
    try:
        kind, detail = receiver.recv()
    except (EOFError, OSError):
        process.join(STOP_SECONDS)
        return f"it ended without a result (exit code {process.exitcode})"
    return None if kind == "done" else str(detail)


def _run_worker(
    sender: Connection,
    work: PartitionWork,
    opener: ReadSideOpener,
    names: tuple[str, ...],
    index: int,
    count: int,
    batch_size: int,
    parent: int,
) -> None:
    """A worker process's entry: run ``work``, send ("done", events) or ("error", line)."""
    try:
        applied = work(opener, names, index, count, batch_size, parent)
    except Exception as error:  # reported to the parent, which fails the rebuild with it
        sender.send(("error", poison.describe(error)))
    else:
        sender.send(("done", applied))
    finally:
        sender.close()


@contextmanager
def collecting_nothing() -> Iterator[None]:
    """The cyclic garbage collector off for a rebuild's run of batches: they allocate many
    short-lived dicts and no cycles, and it would walk the whole growing heap again and again."""
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
