"""The SmartOrder event catalogue. Each event's ``apply`` is how it changes the order.

Every event carries the correlation id, ``occurred_at`` (business time from the
engine's clock) and the hash-chain fields, beside the library's own ``timestamp``.
docs/events.md describes each event, its fields and its version.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate
from execledger.domain import lifecycle
from execledger.domain.lifecycle import Lifecycle
from execledger.domain.placement import Placement
from execledger.domain.status import OrderStatus
from execledger.domain.types import OrderType, QuoteSource, Side, TimeInForce, Urgency

if TYPE_CHECKING:
    from execledger.domain.order import SmartOrder


class OrderEvent(Aggregate.Event):
    """Fields every SmartOrder event carries."""

    correlation_id: str
    occurred_at: datetime
    previous_hash: str
    event_hash: str

    def apply(self, aggregate: Any) -> None:
        order: SmartOrder = aggregate
        self.change(order)
        order.lifecycle = self.advance(order.lifecycle)
        order.head_hash = self.event_hash
        order.last_event_at = self.occurred_at

    def change(self, order: SmartOrder) -> None:
        """The event's effect on the order's state beyond its lifecycle (none by default)."""

    def advance(self, state: Lifecycle) -> Lifecycle:
        """The event's effect on status and quantities; shared with the read model."""
        return state


class Requested(OrderEvent, Aggregate.Created):
    """A trader or job asked for a smart order; the config in force is recorded."""

    symbol: str
    side: Side
    quantity: Decimal
    urgency: Urgency
    complete_exit: bool
    account: str
    idempotency_key: str
    config: dict[str, Any]
    #: The decision code's and config schema's versions (domain.policy_version); orders
    #: recorded before they were carry "" and 0 (class defaults, so no upcast is needed).
    policy_version: str = ""
    config_schema_version: int = 0

    def change(self, order: SmartOrder) -> None:
        order.on_requested(self)

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.requested(self.quantity)


class Validated(OrderEvent):
    """Preflight passed with the quantity unchanged."""

    tradable: bool
    fractionable: bool
    quantity: Decimal

    def change(self, order: SmartOrder) -> None:
        order.fractionable = self.fractionable

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.accepted(state, state.quantity)


class QuantityAdjusted(OrderEvent):
    """Preflight rounded the quantity (a whole-share asset given a fractional quantity)."""

    tradable: bool
    fractionable: bool
    old_quantity: Decimal
    new_quantity: Decimal
    reason: str

    def change(self, order: SmartOrder) -> None:
        order.fractionable = self.fractionable

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.accepted(state, self.new_quantity)


class Denied(OrderEvent):
    """Preflight refused the order (not tradable, or rounds to zero shares). Terminal."""

    reason: str

    def change(self, order: SmartOrder) -> None:
        order.terminal_reason = self.reason

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.closed(state, OrderStatus.DENIED)


class Quoted(OrderEvent):
    """The quote a decision used, where it came from, and why it was chosen.

    Version 2 added ``fallback_used`` (upcast: False) and ``suspicion_reasons`` (upcast: []).
    """

    class_version = 2

    symbol: str
    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal
    quoted_at: datetime
    source: QuoteSource
    suspicion_reasons: list[str]
    fallback_used: bool

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("suspicion_reasons", [])
        state.setdefault("fallback_used", False)

    def change(self, order: SmartOrder) -> None:
        order.last_quote = {
            "bid": self.bid,
            "ask": self.ask,
            "bid_size": self.bid_size,
            "ask_size": self.ask_size,
            "quoted_at": self.quoted_at,
            "source": self.source,
        }


class Priced(OrderEvent):
    """The limit price decided for the next placement, and how it was reached."""

    limit_price: Decimal
    method: str
    tick: Decimal
    metadata: dict[str, str]

    def change(self, order: SmartOrder) -> None:
        order.decided_price = self.limit_price


class PlacementRequested(OrderEvent):
    """Intent to place a broker order, written before the broker is called."""

    client_order_id: str
    placement_number: int
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None
    time_in_force: TimeInForce

    def change(self, order: SmartOrder) -> None:
        order.placements[self.client_order_id] = Placement(
            client_order_id=self.client_order_id,
            placement_number=self.placement_number,
            order_type=self.order_type,
            quantity=self.quantity,
            limit_price=self.limit_price,
            requested_at=self.occurred_at,
        )
        order.placement_count = self.placement_number
        order.decided_price = None
        if self.limit_price is not None:
            order.price_history.append(self.limit_price)

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.placement_requested(state, self.client_order_id, self.quantity)


class Placed(OrderEvent):
    """The broker accepted the placement."""

    client_order_id: str
    broker_order_id: str
    broker_status: str

    def change(self, order: SmartOrder) -> None:
        placement = order.placements[self.client_order_id]
        order.placements[self.client_order_id] = placement.accepted(self.broker_order_id)
        order.last_placed_at = self.occurred_at

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.placed(state, self.client_order_id)


class PlacementRejected(OrderEvent):
    """The broker refused the placement; no broker order is working."""

    client_order_id: str
    error_code: str
    reason: str

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.placement_rejected(state)


class _Fill(OrderEvent):
    """A fill on one broker order; totals are over the whole chain of broker orders.

    ``executed_at`` is the venue's time of the execution; ``occurred_at`` is when the
    ledger recorded it (arrival order). ``inferred``: the fill was not reported as an
    execution but inferred from the broker order's cumulative filled quantity. Version 2
    added ``executed_at`` (upcast: the event's ``occurred_at``) and ``inferred`` (upcast: False).
    """

    class_version = 2

    client_order_id: str
    broker_order_id: str
    execution_id: str
    quantity: Decimal
    price: Decimal
    filled_quantity: Decimal
    remaining_quantity: Decimal
    executed_at: datetime
    inferred: bool

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("executed_at", state["occurred_at"])
        state.setdefault("inferred", False)

    def change(self, order: SmartOrder) -> None:
        order.execution_ids.add(self.execution_id)
        notional = self.quantity * self.price
        order.filled_notional += notional
        order.broker_notional[self.client_order_id] = (
            order.broker_notional.get(self.client_order_id, Decimal(0)) + notional
        )
        if order.first_fill_at is None:
            order.first_fill_at = self.occurred_at

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.filled(state, self.client_order_id, self.quantity)


class PartiallyFilled(_Fill):
    """A fill that leaves quantity remaining."""


class Filled(_Fill):
    """The fill that completes the requested quantity."""


class CancelRequested(OrderEvent):
    """Intent to cancel the working broker order, written before the broker is called."""

    client_order_id: str
    broker_order_id: str
    reason: str

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.cancel_requested(state, self.client_order_id)


class Canceled(OrderEvent):
    """The broker order is canceled; the smart order itself goes on."""

    client_order_id: str
    broker_order_id: str
    reason: str

    def change(self, order: SmartOrder) -> None:
        order.pending_repeg = None  # a re-peg waiting on this cancel now counts

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.canceled(state, self.client_order_id)


class CancelRejected(OrderEvent):
    """The broker refused the cancel; ``reason`` says why (the broker's word, or what a
    lookup found). ``withdrawn_repeg``: the number of the re-peg this cancel was for, which
    is withdrawn (it does not count; None when the cancel was not for a re-peg).
    Version 2 added ``withdrawn_repeg`` (upcast: None).
    """

    class_version = 2

    client_order_id: str
    broker_order_id: str
    reason: str
    withdrawn_repeg: int | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("withdrawn_repeg", None)

    def change(self, order: SmartOrder) -> None:
        if self.withdrawn_repeg is not None:
            order.repegs = self.withdrawn_repeg - 1
            order.decided_price = None
        order.pending_repeg = None

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.cancel_rejected(state)


class Repegged(OrderEvent):
    """Decision to move an unfilled order's price; the cancel and new placement follow."""

    old_client_order_id: str
    new_client_order_id: str
    old_broker_order_id: str
    old_price: Decimal
    new_price: Decimal
    repeg_number: int
    bid: Decimal
    ask: Decimal
    reasons: list[str]

    def change(self, order: SmartOrder) -> None:
        order.repegs = self.repeg_number
        order.pending_repeg = self.repeg_number
        order.decided_price = self.new_price


class Escalated(OrderEvent):
    """Decision to send the remaining quantity as a market order.

    Version 2 added ``refused_quotes`` (upcast: []): on an escalation for want of a valid
    quote, every quote refused and why (domain.refused_quotes).
    """

    class_version = 2

    quantity: Decimal
    reason: str
    refused_quotes: list[dict[str, Any]]

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("refused_quotes", [])

    def change(self, order: SmartOrder) -> None:
        order.escalated = True
        order.decided_price = None


class Overfilled(OrderEvent):
    """Breach: the broker filled past the order's quantity (or a broker order's own).

    Recorded right after the fill that did it (which is recorded as the broker made it);
    the engine stops working the order. The status stands; ``overfilled`` is shown.
    """

    client_order_id: str
    broker_order_id: str
    execution_id: str
    order_quantity: Decimal
    filled_quantity: Decimal
    broker_order_quantity: Decimal
    broker_order_filled: Decimal
    reason: str

    def change(self, order: SmartOrder) -> None:
        order.overfilled = True


class Completed(OrderEvent):
    """The order is done: filled, or what remains is too small to trade. Terminal."""

    reason: str
    filled_quantity: Decimal

    def change(self, order: SmartOrder) -> None:
        order.terminal_reason = self.reason

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.closed(state, OrderStatus.COMPLETED)


class Expired(OrderEvent):
    """The session (or tape) ended before the order completed. Terminal."""

    reason: str

    def change(self, order: SmartOrder) -> None:
        order.terminal_reason = self.reason

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.closed(state, OrderStatus.EXPIRED)


class Failed(OrderEvent):
    """The order cannot go on (no valid quote, a broker refusal it cannot recover). Terminal.

    Version 2 added ``refused_quotes`` (upcast: []): on a failure for want of a valid quote,
    every quote refused and why (domain.refused_quotes).
    """

    class_version = 2

    reason: str
    refused_quotes: list[dict[str, Any]]

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("refused_quotes", [])

    def change(self, order: SmartOrder) -> None:
        order.terminal_reason = self.reason

    def advance(self, state: Lifecycle) -> Lifecycle:
        return lifecycle.closed(state, OrderStatus.FAILED)


CATALOGUE: tuple[type[OrderEvent], ...] = (
    Requested,
    Validated,
    QuantityAdjusted,
    Denied,
    Quoted,
    Priced,
    PlacementRequested,
    Placed,
    PlacementRejected,
    PartiallyFilled,
    Filled,
    CancelRequested,
    Canceled,
    CancelRejected,
    Repegged,
    Escalated,
    Overfilled,
    Completed,
    Expired,
    Failed,
)
