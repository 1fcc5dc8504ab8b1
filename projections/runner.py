"""ProjectionRunner: follows the ledger's notification log with tracking, on both backends.

It reads the log from the lowest tracked position, in batches, each written by
``batches.BatchWriter`` in one store transaction (tracking locked and re-read inside it,
events already passed skipped, rows and positions committed together). The engine's
own saves are folded inside their insert's transaction instead (``folding_in_saves``,
offered to the ledger's recorder: ``infrastructure.ledger_recorders``), so its read
models commit with its events.

Speed (docs/performance.md): the runner reads the stored events itself when the store
shares the ledger's database (same rows, same order as ``select_notifications``) and
decodes them with ``decoding.EventDecoder`` (the mapper's events, plus each event's
fields as JSON for the timeline); it keeps the rows it committed in memory between
batches, valid while the tracked positions are the ones it committed; a rebuild
builds the secondary indexes once at the end.

Gaps: both ledger backends commit notification ids in id order (SQLite has one
writer at a time; eventsourcing's PostgreSQL recorder inserts under an EXCLUSIVE
table lock), so a reader never sees id n+1 before id n commits; a gap left by a
rolled-back insert is permanent and safe to pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from eventsourcing.persistence import Notification
from execledger.projections import rebuild as rebuilding
from execledger.projections.batches import Batch, BatchWriter
from execledger.projections.decoding import EventDecoder, RawEvent, as_decoded
from execledger.projections.folding import RowCache
from execledger.projections.partition import Partition
from execledger.projections.projection import Projection, tables_of
from execledger.projections.rebuild import ProgressCallback, ReadSideOpener
from execledger.projections.registry import ALL_PROJECTIONS, select_projections
from execledger.projections.staged import Moved
from execledger.projections.store import FoldRolledBack, ProjectionStore

DEFAULT_BATCH_SIZE = 2000

#: How long a save waits for a catch-up under way before it goes ahead without folding
#: (the background follower's check for other processes' events takes about a millisecond).
FOLD_WAIT_SECONDS = 0.05

#: Folds a save's (notification id, event) pairs inside the ledger's open transaction on
#: the given connection (``ProjectionRunner.folding_in_saves``).
InlineFold = Callable[[Any, Sequence[tuple[int, Any]]], None]


class FollowedLedger(Protocol):
    """What the runner needs of the ledger (infrastructure.ledger.Ledger has it)."""

    @property
    def recorder(self) -> Any: ...

    @property
    def mapper(self) -> Any: ...


class ProjectionRunner:
    """Applies the ledger's events to the read models, exactly once each."""

    def __init__(
        self,
        ledger: FollowedLedger,
        store: ProjectionStore,
        projections: Sequence[Projection] = ALL_PROJECTIONS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        *,
        partition: Partition | None = None,
        fold_wait_seconds: float = FOLD_WAIT_SECONDS,
    ) -> None:
        """``partition``: a rebuild worker's, which applies only its orders' events, to the
        generation being built, in staged batches (``staged``: the only writer of its rows).
        ``fold_wait_seconds``: how long a save waits for a catch-up under way before it
        leaves its events to be applied after its commit (``folding_in_saves``)."""
        self._fold_wait = fold_wait_seconds
        self._ledger = ledger
        self._store = store
        self._partition = partition
        self._projections = tuple(projections)
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._following = threading.Lock()  # one catch-up of the serving models at a time
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._woken = threading.Event()
        self.error: BaseException | None = None
        self._decoder = EventDecoder(ledger.mapper)
        self._events_table = store.events_table_of(ledger.recorder)
        self._cache = RowCache()
        self._batches = BatchWriter(store, self._cache, self._tell_applied, partition)
        self._folded = 0  # the last position a save's own transaction folded in
        self._applied_listeners: list[Callable[[int], None]] = []

    @property
    def store(self) -> ProjectionStore:
        """The read models this runner writes."""
        return self._store

    @property
    def ledger(self) -> FollowedLedger:
        """The ledger this runner follows."""
        return self._ledger

    # ---- following ----------------------------------------------------------------

    def catch_up(self) -> int:
        """Apply every event available now; the number of events newly applied.

        One catch-up at a time: a second caller waits for the first, then reads what is
        left (the engine's saving thread and the background follower both call this)."""
        with self._following:
            return self._catch_up(self._projections, None)

    def apply_saved(self, saved: Sequence[tuple[int, Any]]) -> int:
        """Apply events this process has just saved, (notification id, event) in log order,
        as they are in memory (nothing read back or decoded), if the read models have
        applied everything before the first of them; otherwise catch up from the log (other
        processes' events came between). Events a projection has passed are skipped, as
        always. The number of events newly applied."""
        if not saved or self._folded == saved[-1][0]:
            return 0  # (folded inside the save's own transaction: ``folding_in_saves``)
        events = [as_decoded(position, event) for position, event in saved]
        with self._following:
            with self._lock:
                try:
                    return self._batches.apply(self._projections, False, Batch(events, events[0].position))
                except Moved:
                    pass  # behind the first of them (or a rebuild swapped in): read the log
            return self._catch_up(self._projections, None)

    @contextmanager
    def folding_in_saves(self) -> Iterator[InlineFold | None]:
        """For the ledger's recorder, around one insert of events this process saves: a
        function that folds them into the read models inside the insert's own transaction
        (they then commit, or not, with the events: no lag), or None if a catch-up holds
        the runner past ``fold_wait_seconds`` (the save is then applied after its commit,
        by ``apply_saved``). Entered before the insert's transaction begins; exits after
        its commit or rollback (a rollback forgets the rows the fold cached)."""
        with self._locks_if_free() as held:
            if not held:
                yield None
                return
            self._folded = 0
            try:
                yield self._fold_in_save
            except BaseException:
                self._folded = 0
                self._cache.forget()
                raise
            folded = self._folded
        if folded:
            self._tell_applied(folded)

    def _fold_in_save(self, connection: Any, saved: Sequence[tuple[int, Any]]) -> None:
        """Fold a save's events inside the recorder's transaction on ``connection``, if the
        read models are at the first of them; a fold that fails is rolled back alone (the
        save commits; ``apply_saved`` meets the failure after it, as without this)."""
        if self._folded:  # the recorder retries an insert whose commit failed: not cached
            self._folded = 0
            self._cache.forget()
        try:
            with self._store.inline_transaction(connection) as tx:
                events = [as_decoded(position, event) for position, event in saved]
                self._batches.fold(tx, self._projections, False, Batch(events, events[0].position))
        except FoldRolledBack:
            self._cache.forget()
            return
        self._folded = saved[-1][0]

    @contextmanager
    def _locks_if_free(self) -> Iterator[bool]:
        """Both of the runner's locks if they come free within ``fold_wait_seconds``: a
        catch-up of other processes' events may take long, and the save need not wait
        for it (its events are then applied after its commit)."""
        if not self._following.acquire(timeout=self._fold_wait):
            yield False
            return
        try:
            if not self._lock.acquire(timeout=self._fold_wait):
                yield False
                return
            try:
                yield True
            finally:
                self._lock.release()
        finally:
            self._following.release()

    def on_applied(self, listener: Callable[[int], None]) -> None:
        """Call ``listener`` with the serving read models' position after each commit that
        moved it (the benchmarks time the projection lag with this)."""
        self._applied_listeners.append(listener)

    def _tell_applied(self, position: int) -> None:
        for listener in self._applied_listeners:
            listener(position)

    def process(self, notifications: Sequence[Notification]) -> int:
        """Apply one delivered batch (already-applied events are skipped)."""
        with self._lock:
            return self._batches.apply(
                self._projections, False, Batch(self._decoder.decode_notifications(notifications), 0)
            )

    def run_forever(self, poll_interval_seconds: float, stop_event: threading.Event) -> None:
        """Catch up, then again on each ``wake()`` or every ``poll_interval_seconds`` (for
        writers in other processes), until ``stop_event`` is set."""
        while not stop_event.is_set():
            if self.catch_up() == 0:
                self._woken.wait(poll_interval_seconds)
                self._woken.clear()  # a wake after this is caught by the catch-up that follows

    def wake(self) -> None:
        """New events were committed (the ledger calls this after each save in this process):
        catch up now rather than at the next poll."""
        self._woken.set()

    def start_in_background(self, poll_interval_seconds: float = 0.05) -> threading.Thread:
        """Follow the ledger on a daemon thread until ``stop()``."""
        if self._thread is not None and self._thread.is_alive():
            return self._thread
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run_guarded,
            args=(poll_interval_seconds,),
            name="projection-runner",
            daemon=True,
        )
        self._thread.start()
        return self._thread

    def stop(self, timeout_seconds: float = 10.0) -> None:
        """Stop the background thread (after its current batch) and wait for it."""
        self._stop.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout_seconds)
            self._thread = None

    # ---- rebuilding and status ------------------------------------------------------

    def rebuild(
        self,
        names: Sequence[str] | None = None,
        progress_callback: ProgressCallback | None = None,
        *,
        processes: int = 1,
        opener: ReadSideOpener | None = None,
        threshold: int = rebuilding.PARTITION_THRESHOLD,
    ) -> int:
        """Rebuild the named projections (all by default) from the first event, blue/green.

        The rebuild writes a new generation of the tables, with its own tracking, while
        reads and followers keep using the serving one; once it has caught up, one
        transaction makes it serve and drops the old one. A rebuild that fails or is
        killed leaves the serving generation as it was; the next ``rebuild`` resumes it.
        With ``processes`` > 1 and an ``opener`` (the workers' ledger and store), at least
        ``threshold`` events to apply are split by order across processes (see ``rebuild``).
        Returns the number of events the new generation passed in this call.
        """
        chosen = tuple(p for p in select_projections(names) if p in self._projections)
        with self._lock:
            building = rebuilding.begin_generation(self._store, chosen)
        position = self.ledger_position()
        count = rebuilding.partitions_wanted(self._store, building, processes, position, threshold)
        applied = 0
        with rebuilding.collecting_nothing(), self._store.bulk_loading():
            if count is not None and opener is not None:
                from execledger.projections.partition_worker import work_on_partition  # imports this

                applied += rebuilding.build_in_partitions(
                    self._store,
                    building,
                    count,
                    work_on_partition,
                    opener,
                    self._batch_size,
                    progress_callback,
                    position,
                )
            else:  # partition rows a killed rebuild left, if any, resumed in this process
                rebuilding.merge_partitions(self._store, building)
            applied += self._catch_up(chosen, progress_callback, building=True)
        with self._lock:
            # The secondary indexes (and the timeline's key), built once over all the rows.
            self._store.index([table for p in building for table in tables_of(p)])
        while not self._swap(chosen):
            applied += self._catch_up(chosen, None, building=True)  # followers moved on meanwhile
        return applied

    def ledger_position(self) -> int:
        """The ledger's last notification id (0 when empty)."""
        return int(self._ledger.recorder.max_notification_id() or 0)

    def status(self) -> list[dict[str, Any]]:
        """Each projection's serving generation (and the one being rebuilt, if any): position,
        events behind the ledger, events set aside as poison."""
        return rebuilding.status(self._store, self._projections, self.ledger_position())

    def _swap(self, projections: Sequence[Projection]) -> bool:
        with self._lock:
            swapped = rebuilding.swap(self._store, projections)
        if swapped:
            self._cache.forget()
        return swapped

    def rebuild_partition(self, progress: ProgressCallback) -> int:
        """A rebuild worker's part (``partition_worker``): its partition of the generation
        being built, to the end of the log."""
        with rebuilding.collecting_nothing(), self._store.bulk_loading():
            return self._catch_up(self._projections, progress, building=True)

    # ---- the work -------------------------------------------------------------------

    def _run_guarded(self, poll_interval_seconds: float) -> None:
        try:
            self.run_forever(poll_interval_seconds, self._stop)
        except Exception as error:  # kept for the owner to inspect; the thread ends
            self.error = error
            raise

    def _catch_up(
        self, projections: Sequence[Projection], progress: ProgressCallback | None, *, building: bool = False
    ) -> int:
        total = 0
        while True:
            with self._lock:
                try:
                    placed = self._batches.placed(projections, self._store.generations(), building)
                except Moved:
                    return total
                positions = self._store.positions()
                start = min(positions.get(p.name, 0) for p in placed) + 1
                rows, through, full = self._read(start)
                if not through:
                    return total
                try:
                    events = self._decoder.decode(rows)
                    total += self._batches.apply(projections, building, Batch(events, start, through))
                except Moved:
                    continue  # a swap changed the generations: read again from the new positions
            if progress is not None:
                progress(through, self.ledger_position())
            if not full:
                return total

    def _read(self, start: int) -> tuple[Sequence[RawEvent], int, bool]:
        """This runner's stored events (its partition's, if it has one) among up to a batch
        from notification id ``start`` on, undecoded; the last position read (0: none);
        whether the batch was full (more may follow)."""
        part = None if self._partition is None else (self._partition.number, self._partition.of)
        if self._events_table is not None:
            # A partition's short batch read the log to its end: to the ledger's position
            # before the read, at least (ids commit in order; past its last own event,
            # another runner would otherwise fold what this one passed over).
            end = 0 if part is None else self.ledger_position()
            rows = self._store.read_events(self._events_table, start, self._batch_size, part)
            full = len(rows) == self._batch_size
            last = rows[-1][0] if rows else 0
            return rows, (last if full else max(last, end)), full
        notifications = self._ledger.recorder.select_notifications(start, self._batch_size)
        read = [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]
        mine = read if self._partition is None else self._partition.select(read)
        return mine, (read[-1][0] if read else 0), len(read) == self._batch_size
