"""BatchWriter: folds batches of decoded events into the read models, exactly once each.

A batch is one transaction of the store (or a savepoint inside the ledger's own insert
transaction, ``fold``): the tracking rows are locked and re-read inside it, events at or
below a projection's position are skipped, the rows are folded and written, and the
positions advance, all committed together. An event a projection cannot apply (its fold
raises, or the database refuses a value) is set aside in ``projection_errors`` and
passed, so the read side goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from execledger.domain.order_events import OrderEvent
from execledger.projections import generation, poison
from execledger.projections.decoding import Decoded
from execledger.projections.folding import FoldFailed, RowCache, fold_into, reason
from execledger.projections.generation import Generations, ProjectionAt
from execledger.projections.partition import Partition
from execledger.projections.poison import Undecodable
from execledger.projections.projection import Projection
from execledger.projections.staged import Moved, staged
from execledger.projections.store import BatchTransaction, ProjectionStore


@dataclass(frozen=True)
class Batch:
    """Decoded events in log order, read from position ``start`` (0: delivered, not read)
    through ``through``, the last position read (None: the last event's; a partition's
    events may end before the last position it read)."""

    events: list[Decoded]
    start: int
    through: int | None = None

    @property
    def last(self) -> int:
        """The position the batch moves the tracking to."""
        return max(self.events[-1].position if self.events else 0, self.through or 0)


class BatchWriter:
    """Writes a runner's batches; tells ``on_committed`` each serving position committed."""

    def __init__(
        self,
        store: ProjectionStore,
        cache: RowCache,
        on_committed: Callable[[int], None],
        partition: Partition | None = None,
    ) -> None:
        """``partition``: a rebuild worker's, which writes only its orders' rows, to the
        generation being built, in staged batches (``staged``: the only writer of its rows)."""
        self._partition = partition
        self._cache = cache
        self._on_committed = on_committed
        # Looked up at each batch (a test's wrapper may replace the store's transaction).
        self._transaction: Callable[[], AbstractContextManager[BatchTransaction]] = (
            (lambda: store.transaction()) if partition is None else (lambda: staged(store))
        )
        self._refusals: tuple[type[BaseException], ...] = (FoldFailed, *store.refusals)

    def placed(
        self, projections: Sequence[Projection], generations: Mapping[str, Generations], building: bool
    ) -> list[ProjectionAt]:
        """The projections at the generation this work writes: serving, or being rebuilt."""
        placed = []
        for projection in projections:
            current = generations.get(projection.state_table.name, generation.NONE)
            number = current.building if building else current.serving
            if number is None:
                raise Moved  # the rebuild was swapped in by another runner
            part = None if self._partition is None else (self._partition.number, self._partition.of)
            placed.append(generation.at(projection, number, serving=not building, partition=part))
        return placed

    def apply(self, projections: Sequence[Projection], building: bool, batch: Batch) -> int:
        """Apply a batch in one transaction; if an event in it is refused (its fold raises,
        or the database rejects a value), apply the batch event by event instead and set
        each refused event aside in ``projection_errors``, so the read side goes on."""
        if not batch.events and batch.through is None:
            return 0
        try:
            return self._apply_batch(projections, building, batch)
        except self._refusals:
            pass
        applied = 0
        for decoded in batch.events:
            try:
                applied += self._apply_batch(projections, building, Batch([decoded], batch.start))
            except self._refusals as error:
                applied += self._set_aside(projections, building, decoded, reason(error))
        if batch.through is not None:
            self._apply_batch(projections, building, Batch([], batch.start, batch.through))
        return applied

    def fold(
        self, tx: BatchTransaction, projections: Sequence[Projection], building: bool, batch: Batch
    ) -> int:
        """Fold a batch into ``tx``: its events past each projection's tracked position, and
        the positions moved to the batch's last (``Moved`` if the tracked positions are
        behind ``start``: events between were not read). The number of events applied."""
        last = batch.last
        order_events = [d for d in batch.events if isinstance(d.event, OrderEvent)]
        poisoned = [d for d in batch.events if isinstance(d.event, Undecodable)]
        placed = self.placed(projections, tx.generations(), building)
        positions = tx.positions([p.name for p in placed])
        lowest = min(positions.get(p.name, 0) for p in placed)
        if lowest < batch.start - 1:
            raise Moved  # read from past a tracked position (a swap happened): read again
        for projection in placed:
            position = positions.get(projection.name, 0)
            cache = self._cache.rows(projection.name, position)
            fold_into(tx, projection, [d for d in order_events if d.position > position], cache)
            errors = [
                poison.error_row(
                    projection.errors_name,
                    d.position,
                    d.event.originator_id,
                    d.event.originator_version,
                    d.event.error,
                )
                for d in poisoned
                if d.position > position
            ]
            tx.upsert(poison.TABLE, errors)
            if last > position:
                tx.set_position(projection.name, last)
            self._cache.committed(projection.name, max(last, position))
        return sum(1 for d in batch.events if d.position > lowest)

    def _apply_batch(self, projections: Sequence[Projection], building: bool, batch: Batch) -> int:
        try:
            with self._transaction() as tx:
                applied = self.fold(tx, projections, building, batch)
        except BaseException:
            self._cache.forget()  # folds may have changed cached rows the rollback undid
            raise
        if not building:
            self._on_committed(batch.last)
        return applied

    def _set_aside(
        self, projections: Sequence[Projection], building: bool, decoded: Decoded, error: str
    ) -> int:
        """Record the event as poison for each projection not yet past it, and pass it."""
        event = decoded.event
        with self._transaction() as tx:
            placed = self.placed(projections, tx.generations(), building)
            positions = tx.positions([p.name for p in placed])
            behind = [p for p in placed if positions.get(p.name, 0) < decoded.position]
            for projection in behind:
                row = poison.error_row(
                    projection.errors_name,
                    decoded.position,
                    getattr(event, "originator_id", None),
                    getattr(event, "originator_version", None),
                    error,
                )
                tx.upsert(poison.TABLE, [row])
                tx.set_position(projection.name, decoded.position)
        if behind and not building:
            self._on_committed(decoded.position)
        return 1 if behind else 0
