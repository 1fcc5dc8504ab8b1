"""order_timeline: one row per event, in order, with the time since the order's previous one.

Each row names the client and broker order it concerns and, for a re-peg or an
escalation (and the placement that carries it out), the client order id it replaces:
the lineage a FIX OrigClOrdID carries. The per-order cursor (the state row) remembers
the previous event's time, the last placement and a pending replacement.
"""

from __future__ import annotations

from execledger.domain import order_events as ev
from execledger.domain.quotes import seconds_between
from execledger.projections.schema import Index, Kind, Row, Table, col
from execledger.projections.values import business_fields_json

TABLE = Table(
    name="order_timeline",
    columns=(
        col("order_id", Kind.UUID, nullable=False),
        col("version", Kind.INT, nullable=False),
        col("position", Kind.INT, nullable=False),
        col("type", Kind.TEXT, nullable=False),
        col("occurred_at", Kind.TIME, nullable=False),
        col("since_previous_seconds", Kind.DECIMAL),
        col("correlation_id", Kind.TEXT, nullable=False),
        col("client_order_id", Kind.TEXT),
        col("broker_order_id", Kind.TEXT),
        col("replaces_client_order_id", Kind.TEXT),
        col("fields", Kind.TEXT, nullable=False),  # a JSON object, as text
    ),
    key=("order_id", "version"),
    indexes=(
        Index("order_timeline_client", ("client_order_id",), "client_order_id IS NOT NULL"),
        Index("order_timeline_broker", ("broker_order_id",), "broker_order_id IS NOT NULL"),
    ),
    append_only=True,  # the key is a unique index, built after a rebuild's rows
)

CURSOR_TABLE = Table(
    name="order_timeline_cursor",
    columns=(
        col("order_id", Kind.UUID, nullable=False),
        col("version", Kind.INT, nullable=False),
        col("occurred_at", Kind.TIME, nullable=False),
        col("last_client_order_id", Kind.TEXT),
        col("pending_replaces", Kind.TEXT),
    ),
    key=("order_id",),
)


class TimelineProjection:
    """Every event of every order, with its lineage and the time since the previous one."""

    name = "order_timeline"
    state_table = CURSOR_TABLE
    log_table = TABLE

    def fold(
        self, state: Row | None, event: ev.OrderEvent, position: int, fields_json: str | None = None
    ) -> tuple[Row, Row]:
        cursor: Row = state or {"last_client_order_id": None, "pending_replaces": None}
        since = None if state is None else seconds_between(state["occurred_at"], event.occurred_at)
        client_id, broker_id, replaces = _lineage(cursor, event)
        row = {
            "order_id": event.originator_id,
            "version": event.originator_version,
            "position": position,
            "type": type(event).__name__,
            "occurred_at": event.occurred_at,
            "since_previous_seconds": since,
            "correlation_id": event.correlation_id,
            "client_order_id": client_id,
            "broker_order_id": broker_id,
            "replaces_client_order_id": replaces,
            "fields": business_fields_json(event) if fields_json is None else fields_json,
        }
        new_cursor = cursor if state is not None else {"order_id": event.originator_id, **cursor}
        new_cursor["version"] = event.originator_version
        new_cursor["occurred_at"] = event.occurred_at
        if isinstance(event, ev.Repegged):
            new_cursor["pending_replaces"] = event.old_client_order_id
        elif isinstance(event, ev.Escalated):
            new_cursor["pending_replaces"] = cursor["last_client_order_id"]
        elif isinstance(event, ev.PlacementRequested):
            new_cursor["last_client_order_id"] = event.client_order_id
            new_cursor["pending_replaces"] = None
        return new_cursor, row


def _lineage(cursor: Row, event: ev.OrderEvent) -> tuple[str | None, str | None, str | None]:
    """(client order id, broker order id, replaced client order id) the event concerns."""
    if isinstance(event, ev.Repegged):
        return event.new_client_order_id, event.old_broker_order_id, event.old_client_order_id
    if isinstance(event, ev.Escalated):
        return None, None, cursor["last_client_order_id"]
    if isinstance(event, ev.PlacementRequested):
        return event.client_order_id, None, cursor["pending_replaces"]
    client_id = getattr(event, "client_order_id", None)
    broker_id = getattr(event, "broker_order_id", None)
    return client_id, broker_id, None
