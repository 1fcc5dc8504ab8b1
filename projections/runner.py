"""ProjectionRunner: follows the ledger's notification log with tracking, on both backends.

It polls ``select_notifications`` from the lowest tracked position, in batches. Each
batch is one store transaction: the tracking rows are locked and re-read inside it,
events at or below a projection's position are skipped (a duplicate delivery or a
concurrent runner changes nothing), the rows are folded and written, and the
positions advance, all committed together.

Gaps: both ledger backends commit notification ids in id order (SQLite has one
writer at a time; eventsourcing's PostgreSQL recorder inserts under an EXCLUSIVE
table lock), so a reader never sees id n+1 before id n commits; a gap left by a
rolled-back insert is permanent and safe to pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Notification

from domain.order_events import OrderEvent, Requested
from projections.projection import Projection
from projections.registry import ALL_PROJECTIONS, select_projections
from projections.store import ProjectionStore, StoreTransaction

DEFAULT_BATCH_SIZE = 2000
ProgressCallback = Callable[[int, int], None]  # (position reached, ledger position)


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

    # ---- following ----------------------------------------------------------------

    def catch_up(self) -> int:
        """Apply every event available now; the number of events newly applied."""
        return self._catch_up(self._projections, None)

    def process(self, notifications: Sequence[Notification]) -> int:
        """Apply one delivered batch (already-applied events are skipped)."""
        events = [(n.id, self._ledger.mapper.to_domain_event(n)) for n in notifications]
        with self._lock:
            return self._apply(self._projections, events)

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
            target=self._run_guarded, args=(poll_interval_seconds,),
            name="projection-runner", daemon=True,
        )  # fmt: skip
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
            self._store.reset(chosen)
        return self._catch_up(chosen, progress_callback)

    def ledger_position(self) -> int:
        """The ledger's last notification id (0 when empty)."""
        return int(self._ledger.recorder.max_notification_id() or 0)

    def status(self) -> list[dict[str, Any]]:
        """Each projection's position and how many events it is behind the ledger."""
        ledger_position = self.ledger_position()
        positions = self._store.positions()
        return [
            {
                "name": p.name,
                "position": positions.get(p.name, 0),
                "ledger_position": ledger_position,
                "lag": max(0, ledger_position - positions.get(p.name, 0)),
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
                notifications = self._ledger.recorder.select_notifications(start, self._batch_size)
                if not notifications:
                    return total
                events = [(n.id, self._ledger.mapper.to_domain_event(n)) for n in notifications]
                total += self._apply(projections, events)
            if progress is not None:
                progress(events[-1][0], self.ledger_position())
            if len(notifications) < self._batch_size:
                return total

    def _apply(self, projections: Sequence[Projection], events: list[tuple[int, Any]]) -> int:
        if not events:
            return 0
        last = events[-1][0]
        with self._store.transaction() as tx:
            positions = tx.positions()
            lowest = min(positions.get(p.name, 0) for p in projections)
            for projection in projections:
                position = positions.get(projection.name, 0)
                fresh = [(i, e) for i, e in events if i > position and isinstance(e, OrderEvent)]
                _fold_into(tx, projection, fresh)
                if last > position:
                    tx.set_position(projection.name, last)
        return sum(1 for i, _ in events if i > lowest)


def _fold_into(tx: StoreTransaction, projection: Projection, events: list[tuple[int, OrderEvent]]) -> None:
    if not events:
        return
    order_ids = list(dict.fromkeys(e.originator_id for _, e in events))
    states = tx.load(projection.state_table, order_ids)  # fresh dicts: ours to update
    changed: dict[Any, Any] = {}
    appended = []
    for position, event in events:
        state = states.get(event.originator_id)
        if state is None and not isinstance(event, Requested):
            continue  # an order whose creation this projection never saw
        if state is not None and event.originator_version <= state["version"]:
            continue  # already applied
        state, log_row = projection.fold(state, event, position)
        states[event.originator_id] = changed[event.originator_id] = state
        if log_row is not None:
            appended.append(log_row)
    tx.upsert(projection.state_table, list(changed.values()))
    if projection.log_table is not None:
        tx.insert(projection.log_table, appended)
