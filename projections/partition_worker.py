"""The body of a partitioned rebuild's worker process (see ``rebuild``)."""

from __future__ import annotations

import os

from execledger.projections.partition import Partition
from execledger.projections.rebuild import ReadSideOpener, RebuildFailed
from execledger.projections.registry import select_projections
from execledger.projections.runner import ProjectionRunner


def work_on_partition(
    opener: ReadSideOpener, names: tuple[str, ...], index: int, count: int, batch_size: int, parent: int
) -> int:
    """Partition ``index`` of ``count`` of the named projections' generation being built, on
    the worker's own ledger and store (``opener``); it stops at its next batch if the rebuild
    that started it (process ``parent``) has ended."""

    def check_parent(_position: int, _ledger_position: int) -> None:
        if os.getppid() != parent:
            raise RebuildFailed("the rebuild that started this worker has ended")

    with opener() as (ledger, store):
        partition = Partition(index, count)
        runner = ProjectionRunner(ledger, store, select_projections(names), batch_size, partition=partition)
        return runner.rebuild_partition(check_parent)
