"""Folding a batch's events into a projection's rows: the pure part of a runner's batch."""

from __future__ import annotations

from typing import Any

from execledger.domain.order_events import Requested
from execledger.projections.decoding import Decoded, order_key
from execledger.projections.poison import describe
from execledger.projections.projection import Projection
from execledger.projections.schema import Row
from execledger.projections.store import BatchTransaction

#: Rows of one projection kept between batches; past this the cache starts again.
CACHE_ROWS = 10_000


class FoldFailed(Exception):
    """A projection's fold raised on an event (the batch is then applied event by event)."""

    def __init__(self, projection: str, error: Exception) -> None:
        super().__init__(f"{projection}: {describe(error)}")


def reason(error: BaseException) -> str:
    """The error as a poison row records it."""
    return str(error) if isinstance(error, FoldFailed) else describe(error)


def fold_into(
    tx: BatchTransaction, projection: Projection, events: list[Decoded], states: dict[Any, Row]
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


class RowCache:
    """The rows a runner last committed, per projection, kept between its batches.

    Only a batch that commits tracking writes the projections' rows, so while the
    tracked position is the one this runner committed, nobody else changed them.
    """

    def __init__(self) -> None:
        self._rows: dict[str, dict[Any, Row]] = {}
        self._at: dict[str, int] = {}

    def rows(self, name: str, position: int) -> dict[Any, Row]:
        """The projection's cached rows if still current at ``position``, else a new, empty cache."""
        cache = self._rows.get(name)
        if cache is None or self._at.get(name) != position or len(cache) > CACHE_ROWS:
            cache = self._rows[name] = {}
        return cache

    def committed(self, name: str, position: int) -> None:
        """The batch that changed the projection's cached rows commits at ``position``."""
        self._at[name] = position

    def forget(self) -> None:
        """Drop every cached row (a batch rolled back, or the generations changed)."""
        self._rows.clear()
        self._at.clear()
