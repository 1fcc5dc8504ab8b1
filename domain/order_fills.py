"""The SmartOrder's fill commands: a reported fill, a fill past the order's quantity
(recorded as the broker made it, with its breach), and the fills a broker order's
cumulative quantity shows the ledger lacks (inferred).

The arithmetic is domain.fills; the aggregate (domain.order) inherits these commands.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, Unpack

from execledger.domain import order_events as ev
from execledger.domain.errors import DomainError, Overfill
from execledger.domain.fills import inferred_execution_id, inferred_fill_price, overfill, unheld_quantity
from execledger.domain.lifecycle import ZERO
from execledger.domain.order_guards import OrderGuards, aware


class ReportedFill(TypedDict):
    """One execution as the broker reported it; the fill commands take it as keywords.

    ``executed_at`` is the venue's time of the execution (default: ``occurred_at``, when
    the ledger learnt of it). ``broker_filled_quantity`` is the broker order's cumulative
    filled quantity after this execution, when the report carries it: a fill the ledger
    already holds as inferred (``record_broker_fills``) is then not recorded twice, only
    the part the ledger does not hold yet.
    """

    execution_id: str
    quantity: Decimal
    price: Decimal
    broker_order_id: str
    occurred_at: datetime
    executed_at: NotRequired[datetime | None]
    broker_filled_quantity: NotRequired[Decimal | None]


class FillCommands(OrderGuards):
    """Record what the broker filled; the ledger holds it even past the order's quantity."""

    if TYPE_CHECKING:  # eventsourcing's Aggregate (sealed by SmartOrder.trigger_event)

        def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None: ...

    def record_fill(self, client_order_id: str, **fill: Unpack[ReportedFill]) -> bool:
        """Record a fill; False (and nothing recorded) if it is already in the ledger.

        Raises Overfill (BrokerOrderOverfill) when the fill would take the order (its
        broker order) past its quantity: ``record_overfill`` records such a fill.
        """
        new = self._unheld_fill(client_order_id, fill)
        if new is None:
            return False
        quantity, excess = new
        if excess is not None:
            raise excess
        self._trigger_fill(client_order_id, fill, quantity, inferred=False)
        return True

    def record_overfill(
        self, client_order_id: str, *, inferred: bool = False, **fill: Unpack[ReportedFill]
    ) -> bool:
        """Record a fill the broker made past the order's (or its broker order's) quantity,
        then the breach (Overfilled). The ledger holds what the broker did; the engine
        stops working the order. IllegalTransition if the fill is not an overfill."""
        new = self._unheld_fill(client_order_id, fill)
        if new is None:
            return False
        quantity, excess = new
        self._require("record an overfill of", excess is not None, "the fill does not overfill")
        self._trigger_fill(client_order_id, fill, quantity, inferred=inferred)
        broker_order = self.lifecycle.broker_orders[client_order_id]
        self.trigger_event(
            ev.Overfilled,
            client_order_id=client_order_id,
            broker_order_id=fill["broker_order_id"],
            execution_id=fill["execution_id"],
            order_quantity=self.quantity,
            filled_quantity=self.filled_quantity,
            broker_order_quantity=broker_order.quantity,
            broker_order_filled=broker_order.filled,
            reason=str(excess),
            occurred_at=fill["occurred_at"],
        )
        return True

    def record_broker_fills(
        self,
        client_order_id: str,
        *,
        broker_order_id: str,
        filled_quantity: Decimal,
        average_price: Decimal | None,
        occurred_at: datetime,
    ) -> bool:
        """Reconcile with the broker's cumulative view of one broker order.

        If the broker has filled more than the ledger holds, the difference is recorded as
        one inferred fill: execution id ``inferred:<broker order id>:<cumulative>``, priced
        so that the broker order's average matches the broker's. Returns True when a fill
        was recorded (an overfill is recorded with its breach).
        """
        self._require_sent(client_order_id)
        held = self.lifecycle.broker_orders[client_order_id].filled
        missing = filled_quantity - held
        if missing <= 0:
            return False
        if average_price is None or average_price <= 0:
            raise DomainError(f"broker order {broker_order_id} filled {filled_quantity} without a price")
        price = inferred_fill_price(
            average_price=average_price,
            filled_quantity=filled_quantity,
            held_notional=self.broker_notional.get(client_order_id, ZERO),
            missing=missing,
        )
        fill = ReportedFill(
            execution_id=inferred_execution_id(broker_order_id, filled_quantity),
            quantity=missing,
            price=price,
            broker_order_id=broker_order_id,
            occurred_at=occurred_at,
        )
        if self._excess(client_order_id, missing) is not None:
            return self.record_overfill(client_order_id, inferred=True, **fill)
        self._trigger_fill(client_order_id, fill, missing, inferred=True)
        return True

    def _unheld_fill(
        self, client_order_id: str, fill: ReportedFill
    ) -> tuple[Decimal, Overfill | None] | None:
        """The part of a reported fill the ledger does not hold yet, and the overfill that
        part would be (None: the ledger holds all of it)."""
        if fill["execution_id"] in self.execution_ids:
            return None
        self._require_sent(client_order_id)
        if fill["quantity"] <= 0 or fill["price"] <= 0:
            raise DomainError("fill quantity and price must be positive")
        held = self.lifecycle.broker_orders[client_order_id].filled
        cumulative = fill.get("broker_filled_quantity")
        quantity = unheld_quantity(fill["quantity"], held=held, broker_filled_quantity=cumulative)
        if quantity is None:
            return None
        return quantity, self._excess(client_order_id, quantity)

    def _excess(self, client_order_id: str, quantity: Decimal) -> Overfill | None:
        """The overfill a fill of ``quantity`` on ``client_order_id`` would be, if any."""
        return overfill(
            quantity,
            client_order_id=client_order_id,
            broker_order=self.lifecycle.broker_orders[client_order_id],
            order_filled=self.filled_quantity,
            order_quantity=self.quantity,
        )

    def _trigger_fill(
        self, client_order_id: str, fill: ReportedFill, quantity: Decimal, *, inferred: bool
    ) -> None:
        """Record ``quantity`` of ``fill`` (the part the ledger did not hold)."""
        filled = self.filled_quantity + quantity
        event_class = ev.Filled if filled >= self.quantity else ev.PartiallyFilled
        occurred_at = fill["occurred_at"]
        self.trigger_event(
            event_class,
            client_order_id=client_order_id,
            broker_order_id=fill["broker_order_id"],
            execution_id=fill["execution_id"],
            quantity=quantity,
            price=fill["price"],
            filled_quantity=filled,
            remaining_quantity=self.quantity - filled,
            executed_at=aware(fill.get("executed_at") or occurred_at),
            inferred=inferred,
            occurred_at=occurred_at,
        )
