"""OrderState: what a SmartOrder knows, set by its events and read by its commands.

Kept apart from the commands (domain.order) so each module holds one idea: this one
the state an order's events leave behind and what follows from it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from execledger.domain import lifecycle
from execledger.domain import order_events as ev
from execledger.domain.chain import GENESIS_HASH
from execledger.domain.config import ExecutionConfig
from execledger.domain.ids import ClientOrderId, client_order_id_for
from execledger.domain.lifecycle import Lifecycle
from execledger.domain.placement import Placement
from execledger.domain.status import OrderStatus
from execledger.domain.types import Side, Urgency


class OrderState:
    """The state of one smart order, as its events left it (no commands here)."""

    if TYPE_CHECKING:  # set by eventsourcing's Aggregate; not annotated at run time, since
        id: UUID  # the library turns class annotations into constructor arguments
        version: int

    def on_requested(self, event: ev.Requested) -> None:
        """Initial state, from the Requested event."""
        self.symbol: str = event.symbol
        self.side: Side = event.side
        self.requested_quantity: Decimal = event.quantity  # before any preflight adjustment
        self.urgency: Urgency = event.urgency
        self.complete_exit: bool = event.complete_exit
        self.account: str = event.account
        self.idempotency_key: str = event.idempotency_key
        self.correlation_id: str = event.correlation_id
        self.config_snapshot: dict[str, Any] = event.config
        self.lifecycle: Lifecycle = lifecycle.requested(event.quantity)
        self.fractionable: bool | None = None
        self.placements: dict[str, Placement] = {}
        self.placement_count = 0
        self.execution_ids: set[str] = set()
        self.filled_notional = Decimal(0)
        self.price_history: list[Decimal] = []
        self.decided_price: Decimal | None = None
        self.last_quote: dict[str, Any] | None = None
        self.repegs = 0  # re-pegs that count: decided, and not withdrawn by a refused cancel
        self.pending_repeg: int | None = None  # a re-peg whose cancel is not yet answered
        self.broker_notional: dict[str, Decimal] = {}  # per client order id
        self.overfilled = False
        self.escalated = False
        self.last_placed_at: datetime | None = None
        self.first_fill_at: datetime | None = None
        self.terminal_reason: str | None = None
        self.created_at: datetime = event.occurred_at
        self.last_event_at: datetime = event.occurred_at
        self.head_hash = GENESIS_HASH

    @property
    def order_id(self) -> UUID:
        """The order's deterministic id."""
        return self.id

    @property
    def config(self) -> ExecutionConfig:
        """The execution config recorded when the order was created."""
        return ExecutionConfig.recorded(self.config_snapshot)

    @property
    def limit_price(self) -> Decimal | None:
        """The limit price last sent (None before any limit placement)."""
        return self.price_history[-1] if self.price_history else None

    @property
    def status(self) -> OrderStatus:
        """Where the order stands (domain.lifecycle holds the rules)."""
        return self.lifecycle.status

    @property
    def quantity(self) -> Decimal:
        """The quantity to fill: as requested, or as preflight adjusted it."""
        return self.lifecycle.quantity

    @property
    def filled_quantity(self) -> Decimal:
        """Filled so far, over the whole chain of broker orders."""
        return self.lifecycle.filled_quantity

    @property
    def remaining_quantity(self) -> Decimal:
        """Quantity still to fill: requested (after preflight) less filled."""
        return self.lifecycle.remaining_quantity

    @property
    def live_client_order_id(self) -> str | None:
        """The client order id of the broker order working now (or requested), if any."""
        return self.lifecycle.live_client_order_id

    @property
    def cancel_pending_for(self) -> str | None:
        """The client order id whose cancel awaits the broker's answer, if any."""
        return self.lifecycle.cancel_pending_for

    @property
    def average_fill_price(self) -> Decimal | None:
        """Volume-weighted average price over every fill, or None before the first."""
        if self.filled_quantity == 0:
            return None
        return self.filled_notional / self.filled_quantity

    @property
    def is_terminal(self) -> bool:
        """True once completed, expired, failed or denied."""
        return self.status.is_terminal

    @property
    def live_placement(self) -> Placement | None:
        """The broker order now working (or requested), if any."""
        if self.live_client_order_id is None:
            return None
        return self.placements[self.live_client_order_id]

    @property
    def next_client_order_id(self) -> ClientOrderId:
        """The client order id the next placement will carry."""
        return client_order_id_for(self.id, self.placement_count + 1)
