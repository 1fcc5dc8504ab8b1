"""Recompute the read models' key figures from the events and name every row that disagrees.

Reports are built on the read models, so ``verify`` checks them against the ledger: for each
order, from its stored events alone (decoded, not folded by the projections' code), the
quantity, the filled quantity, the average fill price, the arrival mid and, once the order
is closed, its status. A row is compared only when it has folded the order's last event; a
row behind is counted, not judged (the runner may simply not have caught up).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from uuid import UUID

from execledger.projections import execution_quality, order_status, queries
from execledger.projections.schema import Row, Table
from execledger.projections.store import ProjectionStore
from execledger.projections.values import average_price

_TERMINAL = {"Completed": "completed", "Expired": "expired", "Failed": "failed", "Denied": "denied"}
#: The events whose fields move the figures (the others only advance the version).
LEARNED = frozenset({"Requested", "QuantityAdjusted", "PartiallyFilled", "Filled", "Quoted", *_TERMINAL})


@dataclass
class OrderFigures:
    """An order's key figures, folded from its stored events' fields."""

    version: int = 0
    quantity: Decimal = Decimal(0)
    filled_quantity: Decimal = Decimal(0)
    filled_notional: Decimal = Decimal(0)
    arrival_mid: Decimal | None = None
    status: str | None = None

    def learn(self, event_name: str, state: dict[str, Any]) -> None:
        """Fold one event of ``LEARNED`` (its fields in canonical form, domain.chain); the
        caller sets the version."""
        if event_name == "Requested":
            self.quantity = _decimal(state["quantity"])
        elif event_name == "QuantityAdjusted":
            self.quantity = _decimal(state["new_quantity"])
        elif event_name in ("PartiallyFilled", "Filled"):
            quantity = _decimal(state["quantity"])
            self.filled_quantity += quantity
            self.filled_notional += quantity * _decimal(state["price"])
        elif event_name == "Quoted" and self.arrival_mid is None:
            self.arrival_mid = (_decimal(state["bid"]) + _decimal(state["ask"])) / 2
        elif event_name in _TERMINAL:
            self.status = _TERMINAL[event_name]

    def expected(self, table: Table) -> dict[str, Any]:
        figures: dict[str, Any] = {
            "quantity": self.quantity,
            "filled_quantity": self.filled_quantity,
            "average_fill_price": average_price(self.filled_notional, self.filled_quantity),
        }
        if table is execution_quality.TABLE:
            figures["arrival_mid"] = self.arrival_mid
        elif self.status is not None:
            figures["status"] = self.status
        return figures


@dataclass(frozen=True)
class Disagreement:
    """One read-model value that the events do not give."""

    table: str
    order_id: UUID
    column: str
    row: Any
    events: Any

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "order_id": str(self.order_id),
            "column": self.column,
            "row": None if self.row is None else str(self.row),
            "events": None if self.events is None else str(self.events),
        }


@dataclass
class ReadModelReport:
    """What the comparison found, and the events the read models set aside as poison (their
    orders' rows cannot be trusted: queries.projection_errors)."""

    rows_checked: int = 0
    rows_behind: int = 0
    disagreements: list[Disagreement] = field(default_factory=list)
    projection_errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.disagreements and not self.projection_errors

    def as_json(self) -> dict[str, Any]:
        return {
            "rows_checked": self.rows_checked,
            "rows_behind": self.rows_behind,
            "disagreements": [d.as_json() for d in self.disagreements],
            "projection_errors": self.projection_errors,
        }


def check_read_models(store: ProjectionStore, orders: dict[UUID, OrderFigures]) -> ReadModelReport:
    """Compare every row of order_status and execution_quality with the events' figures, and
    gather the poison events the read models set aside."""
    report = ReadModelReport(projection_errors=queries.projection_errors(store))
    for table in (order_status.TABLE, execution_quality.TABLE):
        for row in store.select(_NARROWED[table.name]):
            _compare(report, table, row, orders.get(row["order_id"]))
    return report


def _decimal(value: Any) -> Decimal:
    """A canonical decimal (``{"decimal": s}``) as a Decimal."""
    return Decimal(value["decimal"])


def _narrowed(table: Table, extra: str) -> Table:
    """Only the compared columns (fewer to read, and a store from before a column was added
    still answers)."""
    keep = {"order_id", "version", "quantity", "filled_quantity", "average_fill_price", extra}
    return replace(table, columns=tuple(c for c in table.columns if c.name in keep))


_NARROWED = {
    order_status.TABLE.name: _narrowed(order_status.TABLE, "status"),
    execution_quality.TABLE.name: _narrowed(execution_quality.TABLE, "arrival_mid"),
}


def _compare(report: ReadModelReport, table: Table, row: Row, figures: OrderFigures | None) -> None:
    if figures is None:
        _disagree(report, table, row, "order_id", None)
        return
    if row["version"] != figures.version:
        report.rows_behind += row["version"] < figures.version
        if row["version"] > figures.version:
            _disagree(report, table, row, "version", figures.version)
        return
    report.rows_checked += 1
    for column, expected in figures.expected(table).items():
        if row[column] != expected:
            _disagree(report, table, row, column, expected)


def _disagree(report: ReadModelReport, table: Table, row: Row, column: str, expected: Any) -> None:
    report.disagreements.append(Disagreement(table.name, row["order_id"], column, row[column], expected))
