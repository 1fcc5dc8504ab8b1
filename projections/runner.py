"""ProjectionRunner: follows the ledger's notification log with tracking, on both backends.

It polls ``select_notifications`` from the lowest tracked position, in batches. Each
batch is one store transaction: the tracking rows are locked and re-read inside it,
events at or below a projection's position are skipped (a duplicate delivery or a
concurrent runner changes nothing), the rows are folded and written, and the
positions advance, all committed together.

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

import gc
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Notification
from execledger.domain.order_events import OrderEvent, Requested
from execledger.projections import poison
from execledger.projections.decoding import Decoded, EventDecoder, RawEvent, order_key
from execledger.projections.poison import Undecodable, describe
from execledger.projections.projection import Projection
from execledger.projections.registry import ALL_PROJECTIONS, select_projections
from execledger.projections.schema import Row
from execledger.projections.store import ProjectionStore, StoreTransaction

DEFAULT_BATCH_SIZE = 2000
#: Rows of one projection kept between batches; past this the cache starts again.
CACHE_ROWS = 10_000
ProgressCallback = Callable[[int, int], None]  # (position reached, ledger position)


class FoldFailed(Exception):
    """A projection's fold raised on an event (the batch is then applied event by event)."""

    def __init__(self, projection: str, error: Exception) -> None:
        super().__init__(f"{projection}: {describe(error)}")


def _reason(error: BaseException) -> str:
    return str(error) if isinstance(error, FoldFailed) else describe(error)


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
    ) -> None:
        self._ledger = ledger
        self._store = store
        self._projections = tuple(projections)
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self._decoder = EventDecoder(ledger.mapper)
        self._events_table = store.events_table_of(ledger.recorder)
        self._refusals: tuple[type[BaseException], ...] = (FoldFailed, *store.refusals)
        self._caches: dict[str, dict[Any, Row]] = {}
        self._cached_at: dict[str, int] = {}

    @property
    def store(self) -> ProjectionStore:
        """The read models this runner writes."""
        return self._store

    # ---- following ----------------------------------------------------------------

    def catch_up(self) -> int:
        """Apply every event available now; the number of events newly applied."""
        return self._catch_up(self._projections, None)

    def process(self, notifications: Sequence[Notification]) -> int:
        """Apply one delivered batch (already-applied events are skipped)."""
        with self._lock:
            return self._apply(self._projections, self._decoder.decode_notifications(notifications))

    def run_forever(self, poll_interval_seconds: float, stop_event: threading.Event) -> None:
        """Catch up, then poll every ``poll_interval_seconds`` until ``stop_event`` is set."""
        while not stop_event.is_set():
            if self.catch_up() == 0:
                stop_event.wait(poll_interval_seconds)

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
        if self._thread is not None:
            self._thread.join(timeout_seconds)
            self._thread = None

    # ---- rebuilding and status ------------------------------------------------------

    def rebuild(
        self, names: Sequence[str] | None = None, progress_callback: ProgressCallback | None = None
    ) -> int:
        """Drop the named projections (all by default) and rebuild them from the first event."""
        chosen = tuple(p for p in select_projections(names) if p in self._projections)
        with self._lock:
            self._forget()
            self._store.reset(chosen, indexes=False)
        collecting = gc.isenabled()
        try:
            if collecting:
                # Batches allocate many short-lived dicts and no cycles; the cyclic
                # collector would walk the whole growing heap again and again.
                gc.disable()
            with self._store.bulk_loading():
                applied = self._catch_up(chosen, progress_callback)
        finally:
            if collecting:
                gc.enable()
        with self._lock:
            # The secondary indexes (and the timeline's key), built once over all the rows.
            # A rebuild killed before this gets them from the next ensure (open_projections).
            self._store.ensure(chosen)
        return applied

    def ledger_position(self) -> int:
        """The ledger's last notification id (0 when empty)."""
        return int(self._ledger.recorder.max_notification_id() or 0)

    def status(self) -> list[dict[str, Any]]:
        """Each projection's position and how many events it is behind the ledger."""
        ledger_position = self.ledger_position()
        positions = self._store.positions()
        errors = Counter(row["projection"] for row in self._store.select(poison.TABLE))
        return [
            {
                "name": p.name,
                "position": positions.get(p.name, 0),
                "ledger_position": ledger_position,
                "lag": max(0, ledger_position - positions.get(p.name, 0)),
                "errors": errors.get(p.name, 0),
            }
            for p in self._projections
        ]

    # ---- the work -------------------------------------------------------------------

    def _run_guarded(self, poll_interval_seconds: float) -> None:
        try:
            self.run_forever(poll_interval_seconds, self._stop)
        except Exception as error:  # kept for the owner to inspect; the thread ends
            self.error = error
            raise

    def _catch_up(self, projections: Sequence[Projection], progress: ProgressCallback | None) -> int:
        total = 0
        while True:
            with self._lock:
                positions = self._store.positions()
                start = min(positions.get(p.name, 0) for p in projections) + 1
                rows = self._read(start)
                if not rows:
                    return total
                total += self._apply(projections, self._decoder.decode(rows))
            if progress is not None:
                progress(rows[-1][0], self.ledger_position())
            if len(rows) < self._batch_size:
                return total

    def _read(self, start: int) -> Sequence[RawEvent]:
        """Up to a batch of stored events from notification id ``start`` on, undecoded."""
        if self._events_table is not None:
            return self._store.read_events(self._events_table, start, self._batch_size)
        notifications = self._ledger.recorder.select_notifications(start, self._batch_size)
        return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]

    def _apply(self, projections: Sequence[Projection], events: list[Decoded]) -> int:
        """Apply a batch in one transaction; if an event in it is refused (its fold raises,
        or the database rejects a value), apply the batch event by event instead and set
        each refused event aside in ``projection_errors``, so the read side goes on."""
        if not events:
            return 0
        try:
            return self._apply_batch(projections, events)
        except self._refusals:
            pass
        applied = 0
        for decoded in events:
            try:
                applied += self._apply_batch(projections, [decoded])
            except self._refusals as error:
                applied += self._set_aside(projections, decoded, _reason(error))
        return applied

    def _apply_batch(self, projections: Sequence[Projection], events: list[Decoded]) -> int:
        last = events[-1].position
        order_events = [d for d in events if isinstance(d.event, OrderEvent)]
        poisoned = [d for d in events if isinstance(d.event, Undecodable)]
        try:
            with self._store.transaction() as tx:
                positions = tx.positions()
                lowest = min(positions.get(p.name, 0) for p in projections)
                for projection in projections:
                    position = positions.get(projection.name, 0)
                    cache = self._cache_for(projection.name, position)
                    fresh = [d for d in order_events if d.position > position]
                    _fold_into(tx, projection, fresh, cache)
                    tx.upsert(
                        poison.TABLE,
                        [
                            poison.error_row(
                                projection.name,
                                d.position,
                                d.event.originator_id,
                                d.event.originator_version,
                                d.event.error,
                            )
                            for d in poisoned
                            if d.position > position
                        ],
                    )
                    if last > position:
                        tx.set_position(projection.name, last)
                        self._cached_at[projection.name] = last
                    else:
                        self._cached_at[projection.name] = position
        except BaseException:
            self._forget()  # folds may have changed cached rows the rollback undid
            raise
        return sum(1 for d in events if d.position > lowest)

    def _set_aside(self, projections: Sequence[Projection], decoded: Decoded, error: str) -> int:
        """Record the event as poison for each projection not yet past it, and pass it."""
        event = decoded.event
        with self._store.transaction() as tx:
            positions = tx.positions()
            behind = [p for p in projections if positions.get(p.name, 0) < decoded.position]
            for projection in behind:
                row = poison.error_row(
                    projection.name,
                    decoded.position,
                    getattr(event, "originator_id", None),
                    getattr(event, "originator_version", None),
                    error,
                )
                tx.upsert(poison.TABLE, [row])
                tx.set_position(projection.name, decoded.position)
        return 1 if behind else 0

    # ---- the per-projection row cache -------------------------------------------------

    def _cache_for(self, name: str, position: int) -> dict[Any, Row]:
        """The rows this runner last committed for the projection, if still current.

        Only a batch that commits tracking writes the projections' rows, so while the
        tracked position is the one this runner committed, nobody else changed them.
        """
        cache = self._caches.get(name)
        if cache is None or self._cached_at.get(name) != position or len(cache) > CACHE_ROWS:
            cache = self._caches[name] = {}
        return cache

    def _forget(self) -> None:
        self._caches.clear()
        self._cached_at.clear()


def _fold_into(
    tx: StoreTransaction, projection: Projection, events: list[Decoded], states: dict[Any, Row]
) -> None:
    """Fold the batch's events into the projection's rows (``states``: cached rows by key)."""
    if not events:
        return
    # An order's first event (Requested) comes before its others in the log, so if the
    # batch's first fresh event of an order is its Requested, nothing of the order was
    # applied and there is no row to load: load only the rows of orders that began
    # before the batch and are not cached.
    missing: dict[Any, Any] = {}
    for d in events:
        key = d.key
        if key not in states and key not in missing:
            missing[key] = None if isinstance(d.event, Requested) else d.event.originator_id
    wanted = [order_id for order_id in missing.values() if order_id is not None]
    if wanted:
        for order_id, row in tx.load(projection.state_table, wanted).items():
            states[order_key(order_id)] = row  # fresh dicts: ours to update
    changed: dict[Any, Row] = {}
    appended = []
    fold = projection.fold
    wants_fields = projection.log_table is not None
    for position, event, fields_json, key in events:
        state = states.get(key)
        if state is None:
            if not isinstance(event, Requested):
                continue  # an order whose creation this projection never saw
        elif event.originator_version <= state["version"]:
            continue  # already applied
        try:
            if wants_fields:
                state, log_row = fold(state, event, position, fields_json)
            else:
                state, log_row = fold(state, event, position)
        except Exception as error:  # a fold is pure: this event fails alike every time
            raise FoldFailed(projection.name, error) from error
        states[key] = changed[key] = state
        if log_row is not None:
            appended.append(log_row)
    tx.upsert(projection.state_table, list(changed.values()))
    if projection.log_table is not None:
        tx.insert(projection.log_table, appended)
