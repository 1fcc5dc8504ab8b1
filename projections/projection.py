"""What a projection is: a name, its tables, and a pure fold of one order's events.

A projection keeps one *state row* per order (in ``state_table``) and may append one
*log row* per event (in ``log_table``). ``fold`` is pure: the runner loads the state
rows, folds the batch's events into them, and hands the changes to the store.
"""

from __future__ import annotations

from typing import Protocol

from execledger.domain.order_events import OrderEvent
from execledger.projections.schema import Row, Table


class Projection(Protocol):
    """A read model built from SmartOrder events, one state row per order."""

    @property
    def name(self) -> str: ...

    @property
    def state_table(self) -> Table: ...

    @property
    def log_table(self) -> Table | None: ...

    def fold(
        self, state: Row | None, event: OrderEvent, position: int, fields_json: str | None = None
    ) -> tuple[Row, Row | None]:
        """The order's new state row, and the log row this event appends (if any).

        ``state`` is the runner's own copy: a fold may update it in place and return it.
        ``fields_json`` is the event's business fields as JSON if the runner already has
        them (``values.business_fields_json(event)`` exactly); a fold that needs them
        encodes them itself when it is None.
        """
        ...


def tables_of(projection: Projection) -> tuple[Table, ...]:
    """Every table the projection owns."""
    if projection.log_table is None:
        return (projection.state_table,)
    return (projection.state_table, projection.log_table)
