"""SmartOrder: the aggregate that records every decision of one smart order.

Commands check the state first and raise ``IllegalTransition`` (recording nothing)
when they do not apply; then they trigger one event, whose ``apply`` changes state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic
from execledger.domain import order_events as ev
from execledger.domain.chain import GENESIS_HASH, seal_fields
from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import (
    BrokerOrderOverfill,
    DomainError,
    IllegalTransition,
    Overfill,
    UnknownPlacement,
)
from execledger.domain.ids import ClientOrderId, order_id_for
from execledger.domain.lifecycle import ZERO
from execledger.domain.order_state import OrderState
from execledger.domain.placement import AcceptedPlacement, Placement
from execledger.domain.policy_version import CONFIG_SCHEMA_VERSION, POLICY_VERSION
from execledger.domain.requests import OrderRequest
from execledger.domain.status import IDLE_STATUSES, LIVE_STATUSES, OrderStatus
from execledger.domain.types import OrderType, Quote, TimeInForce


class SmartOrder(OrderState, Aggregate):
    """One smart order: its request, its broker orders, its fills and its decisions.

    Its state (domain.order_state) is set by the events' ``apply``; no class-level field
    annotations here, since eventsourcing would turn them into constructor arguments.
    """

    @classmethod
    def request(cls, request: OrderRequest, config: ExecutionConfig, occurred_at: datetime) -> SmartOrder:
        """Create the order for a request; its id derives from account and idempotency key."""
        key = request.effective_idempotency_key()
        order_id = order_id_for(request.account, key)
        fields: dict[str, Any] = {
            "symbol": request.symbol,
            "side": request.side,
            "quantity": request.quantity,
            "urgency": request.urgency,
            "complete_exit": request.complete_exit,
            "account": request.account,
            "idempotency_key": key,
            "config": config.snapshot(),
            "policy_version": POLICY_VERSION,
            "config_schema_version": CONFIG_SCHEMA_VERSION,
            "correlation_id": request.correlation_id,
            "occurred_at": _aware(occurred_at),
            "previous_hash": GENESIS_HASH,
        }
        timestamp = ev.Requested.create_timestamp()
        sealed = {
            **fields,
            "originator_id": order_id,
            "originator_version": cls.INITIAL_VERSION,
            "originator_topic": get_topic(cls),
            "timestamp": timestamp,
            "topic": get_topic(ev.Requested),
        }
        return cls._create(
            ev.Requested,
            id=order_id,
            timestamp=timestamp,
            event_hash=seal_fields(ev.Requested, sealed),
            **fields,
        )

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        """Seal every event into the order's hash chain before it is applied.

        Events are in arrival order: ``occurred_at`` is never earlier than the previous
        event's, so timelines never go back (a venue's own time is kept in its own field,
        e.g. a fill's ``executed_at``).
        """
        timestamp = event_class.create_timestamp()
        kwargs.update(
            correlation_id=self.correlation_id,
            occurred_at=max(_aware(kwargs["occurred_at"]), self.last_event_at),
            previous_hash=self.head_hash,
            timestamp=timestamp,
        )
        sealed = {
            **kwargs,
            "originator_id": self.id,
            "originator_version": self.version + 1,
            "topic": get_topic(event_class),
        }
        super().trigger_event(event_class, event_hash=seal_fields(event_class, sealed), **kwargs)

    # ---- preflight ------------------------------------------------------------------

    def validate(self, *, tradable: bool, fractionable: bool, occurred_at: datetime) -> None:
        """Preflight passed with the quantity as requested."""
        self._require("validate", self.status is OrderStatus.NEW)
        self.trigger_event(
            ev.Validated,
            tradable=tradable,
            fractionable=fractionable,
            quantity=self.quantity,
            occurred_at=occurred_at,
        )

    def adjust_quantity(
        self, new_quantity: Decimal, *, fractionable: bool, reason: str, occurred_at: datetime
    ) -> None:
        """Preflight changed the quantity (whole-share rounding)."""
        self._require("adjust", self.status is OrderStatus.NEW)
        self._require("adjust", 0 < new_quantity <= self.quantity, "new quantity out of range")
        self.trigger_event(
            ev.QuantityAdjusted,
            tradable=True,
            fractionable=fractionable,
            old_quantity=self.quantity,
            new_quantity=new_quantity,
            reason=reason,
            occurred_at=occurred_at,
        )

    def deny(self, reason: str, *, occurred_at: datetime) -> None:
        """Preflight refused the order."""
        self._require("deny", self.status is OrderStatus.NEW)
        self.trigger_event(ev.Denied, reason=reason, occurred_at=occurred_at)

    # ---- deciding -------------------------------------------------------------------

    def record_quote(
        self,
        quote: Quote,
        *,
        suspicion_reasons: list[str],
        fallback_used: bool,
        occurred_at: datetime,
    ) -> None:
        """Record the quote a decision is about to use."""
        self._require_active("record a quote for")
        self._require("record a quote for", self.status is not OrderStatus.NEW, "not validated")
        self.trigger_event(
            ev.Quoted,
            symbol=quote.symbol,
            bid=quote.bid,
            ask=quote.ask,
            bid_size=quote.bid_size,
            ask_size=quote.ask_size,
            quoted_at=quote.quoted_at,
            source=quote.source,
            suspicion_reasons=list(suspicion_reasons),
            fallback_used=fallback_used,
            occurred_at=occurred_at,
        )

    def price(
        self,
        limit_price: Decimal,
        *,
        method: str,
        tick: Decimal,
        metadata: dict[str, str],
        occurred_at: datetime,
    ) -> None:
        """Record the limit price decided for the first placement."""
        self._require("price", self.status in IDLE_STATUSES, "a broker order is working")
        self._require("price", limit_price > 0, "limit price must be positive")
        self.trigger_event(
            ev.Priced,
            limit_price=limit_price,
            method=method,
            tick=tick,
            metadata=dict(metadata),
            occurred_at=occurred_at,
        )

    def repeg(
        self,
        new_price: Decimal,
        *,
        bid: Decimal,
        ask: Decimal,
        reasons: list[str],
        occurred_at: datetime,
    ) -> None:
        """Decide to move the working order to ``new_price``; cancel and re-place follow."""
        live = self._working_placement("re-peg", self.status in LIVE_STATUSES)
        self._require("re-peg", not self.escalated, "already escalated")
        self._require("re-peg", self.repegs < self.config.max_repegs, "re-pegs exhausted")
        self._require("re-peg", self.remaining_quantity > 0, "nothing remains")
        self._require("re-peg", new_price not in self.price_history, "price already used")
        self._require("re-peg", new_price > 0, "price must be positive")
        self.trigger_event(
            ev.Repegged,
            old_client_order_id=live.client_order_id,
            new_client_order_id=self.next_client_order_id,
            old_broker_order_id=live.broker_order_id,
            old_price=live.limit_price,
            new_price=new_price,
            repeg_number=self.repegs + 1,
            bid=bid,
            ask=ask,
            reasons=list(reasons),
            occurred_at=occurred_at,
        )

    def escalate(
        self, reason: str, *, occurred_at: datetime, refused_quotes: Sequence[dict[str, Any]] = ()
    ) -> None:
        """Decide to send the remaining quantity as a market order (``refused_quotes``: on
        an escalation for want of a valid quote, each quote refused; domain.refused_quotes)."""
        self._require_active("escalate")
        self._require("escalate", self.status is not OrderStatus.NEW, "not validated")
        self._require("escalate", not self.escalated, "already escalated")
        self._require("escalate", self.remaining_quantity > 0, "nothing remains")
        self.trigger_event(
            ev.Escalated,
            quantity=self.remaining_quantity,
            reason=reason,
            refused_quotes=list(refused_quotes),
            occurred_at=occurred_at,
        )

    # ---- broker orders --------------------------------------------------------------

    def request_placement(
        self,
        *,
        order_type: OrderType,
        quantity: Decimal,
        limit_price: Decimal | None,
        time_in_force: TimeInForce,
        occurred_at: datetime,
    ) -> ClientOrderId:
        """Record the intent to place a broker order; returns its client order id.

        What is placed is what was decided: the remaining quantity; a LIMIT at the price
        of the last Priced or Repegged (not yet placed), a MARKET only after Escalated.
        """
        self._require("place", self.status in IDLE_STATUSES, "a broker order is working")
        self._require("place", not self.overfilled, "the order is overfilled")
        self._require("place", self.remaining_quantity > 0, "nothing remains")
        self._require("place", quantity == self.remaining_quantity, "quantity is not the remaining quantity")
        is_limit = order_type is OrderType.LIMIT
        self._require("place", is_limit == (limit_price is not None), "limit price mismatch")
        self._require("place", not (is_limit and self.escalated), "escalated orders go to market")
        self._require("place", is_limit or self.escalated, "a market order follows an escalation")
        decided = not is_limit or (self.decided_price is not None and limit_price == self.decided_price)
        self._require("place", decided, f"the decided price is {self.decided_price}, not {limit_price}")
        client_order_id = self.next_client_order_id
        self.trigger_event(
            ev.PlacementRequested,
            client_order_id=client_order_id,
            placement_number=self.placement_count + 1,
            order_type=order_type,
            quantity=quantity,
            limit_price=limit_price,
            time_in_force=time_in_force,
            occurred_at=occurred_at,
        )
        return client_order_id

    def record_placed(
        self,
        client_order_id: str,
        *,
        broker_order_id: str,
        broker_status: str,
        occurred_at: datetime,
    ) -> None:
        """The broker accepted the placement (its fills may have been recorded before)."""
        self._require_active("accept")
        placement = self.placements.get(client_order_id)
        fills = self.lifecycle.broker_orders.get(client_order_id)
        filled_first = (
            placement is not None
            and placement.broker_order_id is None
            and fills is not None
            and fills.filled > 0
        )
        if not filled_first:
            self._require_pending(client_order_id, "accept")
        self.trigger_event(
            ev.Placed,
            client_order_id=client_order_id,
            broker_order_id=broker_order_id,
            broker_status=broker_status,
            occurred_at=occurred_at,
        )

    def record_placement_rejected(
        self, client_order_id: str, *, error_code: str, reason: str, occurred_at: datetime
    ) -> None:
        """The broker refused the placement."""
        self._require_pending(client_order_id, "reject")
        self.trigger_event(
            ev.PlacementRejected,
            client_order_id=client_order_id,
            error_code=error_code,
            reason=reason,
            occurred_at=occurred_at,
        )

    def record_fill(
        self,
        client_order_id: str,
        *,
        execution_id: str,
        quantity: Decimal,
        price: Decimal,
        broker_order_id: str,
        occurred_at: datetime,
        executed_at: datetime | None = None,
        broker_filled_quantity: Decimal | None = None,
    ) -> bool:
        """Record a fill; False (and nothing recorded) if it is already in the ledger.

        ``executed_at`` is the venue's time of the execution (default: ``occurred_at``);
        ``occurred_at`` is when the ledger learnt of it. ``broker_filled_quantity`` is the
        broker order's cumulative filled quantity after this execution, when the report
        carries it: a fill the ledger already holds as inferred (``record_broker_fills``)
        is then not recorded twice, only the part the ledger does not hold yet.
        Raises Overfill (BrokerOrderOverfill) when the fill would take the order (its
        broker order) past its quantity: ``record_overfill`` records such a fill.
        """
        new = self._new_quantity(client_order_id, execution_id, quantity, price, broker_filled_quantity)
        if new is None:
            return False
        quantity = new
        excess = self._excess(client_order_id, quantity)
        if excess is not None:
            raise excess
        self._trigger_fill(
            client_order_id, execution_id, quantity, price, broker_order_id, executed_at, occurred_at, False
        )
        return True

    def record_overfill(
        self,
        client_order_id: str,
        *,
        execution_id: str,
        quantity: Decimal,
        price: Decimal,
        broker_order_id: str,
        occurred_at: datetime,
        executed_at: datetime | None = None,
        broker_filled_quantity: Decimal | None = None,
        inferred: bool = False,
    ) -> bool:
        """Record a fill the broker made past the order's (or its broker order's) quantity,
        then the breach (Overfilled). The ledger holds what the broker did; the engine
        stops working the order. IllegalTransition if the fill is not an overfill."""
        new = self._new_quantity(client_order_id, execution_id, quantity, price, broker_filled_quantity)
        if new is None:
            return False
        quantity = new
        excess = self._excess(client_order_id, quantity)
        self._require("record an overfill of", excess is not None, "the fill does not overfill")
        venue_time = executed_at
        self._trigger_fill(
            client_order_id, execution_id, quantity, price, broker_order_id, venue_time, occurred_at, inferred
        )
        broker_order = self.lifecycle.broker_orders[client_order_id]
        self.trigger_event(
            ev.Overfilled,
            client_order_id=client_order_id,
            broker_order_id=broker_order_id,
            execution_id=execution_id,
            order_quantity=self.quantity,
            filled_quantity=self.filled_quantity,
            broker_order_quantity=broker_order.quantity,
            broker_order_filled=broker_order.filled,
            reason=str(excess),
            occurred_at=occurred_at,
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
        if client_order_id not in self.placements:
            raise UnknownPlacement(f"order {self.id} never sent {client_order_id}")
        held = self.lifecycle.broker_orders[client_order_id].filled
        missing = filled_quantity - held
        if missing <= 0:
            return False
        if average_price is None or average_price <= 0:
            raise DomainError(f"broker order {broker_order_id} filled {filled_quantity} without a price")
        price = (average_price * filled_quantity - self.broker_notional.get(client_order_id, ZERO)) / missing
        if price <= 0:
            price = average_price  # the broker's average is rounded; never a non-positive price
        execution_id = inferred_execution_id(broker_order_id, filled_quantity)
        if self._excess(client_order_id, missing) is not None:
            return self.record_overfill(
                client_order_id,
                execution_id=execution_id,
                quantity=missing,
                price=price,
                broker_order_id=broker_order_id,
                occurred_at=occurred_at,
                inferred=True,
            )
        self._trigger_fill(
            client_order_id, execution_id, missing, price, broker_order_id, None, occurred_at, True
        )
        return True

    def _new_quantity(
        self,
        client_order_id: str,
        execution_id: str,
        quantity: Decimal,
        price: Decimal,
        broker_filled_quantity: Decimal | None,
    ) -> Decimal | None:
        """The part of a reported fill the ledger does not hold yet (None: it holds all)."""
        if execution_id in self.execution_ids:
            return None
        if client_order_id not in self.placements:
            raise UnknownPlacement(f"order {self.id} never sent {client_order_id}")
        if quantity <= 0 or price <= 0:
            raise DomainError("fill quantity and price must be positive")
        if broker_filled_quantity is None:
            return quantity
        uncovered = broker_filled_quantity - self.lifecycle.broker_orders[client_order_id].filled
        if uncovered <= 0:
            return None
        return min(quantity, uncovered)

    def _excess(self, client_order_id: str, quantity: Decimal) -> Overfill | None:
        """The overfill a fill of ``quantity`` on ``client_order_id`` would be, if any."""
        broker_order = self.lifecycle.broker_orders[client_order_id]
        if broker_order.filled + quantity > broker_order.quantity:
            return BrokerOrderOverfill(
                f"a fill of {quantity} would take broker order {client_order_id} "
                f"from {broker_order.filled} past its quantity {broker_order.quantity}"
            )
        if self.filled_quantity + quantity > self.quantity:
            return Overfill(
                f"a fill of {quantity} would take the order from {self.filled_quantity} "
                f"past its quantity {self.quantity}"
            )
        return None

    def _trigger_fill(
        self,
        client_order_id: str,
        execution_id: str,
        quantity: Decimal,
        price: Decimal,
        broker_order_id: str,
        executed_at: datetime | None,
        occurred_at: datetime,
        inferred: bool,
    ) -> None:
        filled = self.filled_quantity + quantity
        event_class = ev.Filled if filled >= self.quantity else ev.PartiallyFilled
        self.trigger_event(
            event_class,
            client_order_id=client_order_id,
            broker_order_id=broker_order_id,
            execution_id=execution_id,
            quantity=quantity,
            price=price,
            filled_quantity=filled,
            remaining_quantity=self.quantity - filled,
            executed_at=_aware(executed_at or occurred_at),
            inferred=inferred,
            occurred_at=occurred_at,
        )

    def request_cancel(self, reason: str, *, occurred_at: datetime) -> None:
        """Record the intent to cancel the working broker order."""
        live = self._working_placement("cancel", self.status in LIVE_STATUSES)
        self.trigger_event(
            ev.CancelRequested,
            client_order_id=live.client_order_id,
            broker_order_id=live.broker_order_id,
            reason=reason,
            occurred_at=occurred_at,
        )

    def record_canceled(self, reason: str, *, occurred_at: datetime) -> None:
        """The broker canceled the working order (asked, or on its own)."""
        allowed = self.status is OrderStatus.PENDING_CANCEL or self.status in LIVE_STATUSES
        live = self._working_placement("confirm a cancel of", allowed)
        self.trigger_event(
            ev.Canceled,
            client_order_id=live.client_order_id,
            broker_order_id=live.broker_order_id,
            reason=reason,
            occurred_at=occurred_at,
        )

    def record_cancel_rejected(self, reason: str, *, occurred_at: datetime) -> None:
        """The broker refused the cancel (``reason``: the broker's, or what a lookup found).

        A re-peg waiting on this cancel is withdrawn: its price never reached the venue,
        so it does not count against ``max_repegs`` and its number is used again.
        """
        self._require_active("reject a cancel of")
        placement = self._cancel_target()
        self.trigger_event(
            ev.CancelRejected,
            client_order_id=placement.client_order_id,
            broker_order_id=placement.broker_order_id,
            reason=reason,
            withdrawn_repeg=self.pending_repeg,
            occurred_at=occurred_at,
        )

    # ---- the end ----------------------------------------------------------------------

    def complete(self, reason: str, *, occurred_at: datetime) -> None:
        """Close the order as done: filled, or the remainder is too small to trade."""
        self._require_active("complete")
        self._require("complete", self.live_client_order_id is None, "a broker order is working")
        self._require("complete", self.filled_quantity > 0, "nothing filled")
        self.trigger_event(
            ev.Completed,
            reason=reason,
            filled_quantity=self.filled_quantity,
            occurred_at=occurred_at,
        )

    def expire(self, reason: str, *, occurred_at: datetime) -> None:
        """Close the order because the session ended; cancel the broker order first."""
        self._require_active("expire")
        self._require("expire", self.live_client_order_id is None, "a broker order is working")
        self.trigger_event(ev.Expired, reason=reason, occurred_at=occurred_at)

    def fail(
        self, reason: str, *, occurred_at: datetime, refused_quotes: Sequence[dict[str, Any]] = ()
    ) -> None:
        """Close the order because it cannot go on (``refused_quotes``: for want of a valid
        quote, each quote refused; domain.refused_quotes)."""
        self._require_active("fail")
        self.trigger_event(
            ev.Failed, reason=reason, refused_quotes=list(refused_quotes), occurred_at=occurred_at
        )

    # ---- guards -------------------------------------------------------------------------

    def _require(self, command: str, condition: bool, detail: str = "") -> None:
        if not condition:
            raise IllegalTransition(command, self.status.value, detail)

    def _require_active(self, command: str) -> None:
        self._require(command, not self.status.is_terminal, "the order is closed")

    def _require_pending(self, client_order_id: str, command: str) -> None:
        if client_order_id not in self.placements:
            raise UnknownPlacement(f"order {self.id} never sent {client_order_id}")
        pending = self.status is OrderStatus.PENDING_NEW
        self._require(command, pending and self.live_client_order_id == client_order_id)

    def _working_placement(self, command: str, allowed: bool) -> AcceptedPlacement:
        """The live placement, which the broker has accepted; IllegalTransition otherwise."""
        live = self.live_placement
        self._require(command, allowed and live is not None, "not working")
        assert live is not None
        broker_order_id = live.broker_order_id
        self._require(command, broker_order_id is not None, "the broker has not accepted it yet")
        assert broker_order_id is not None
        return AcceptedPlacement(live, broker_order_id)

    def _cancel_target(self) -> Placement:
        if self.cancel_pending_for is None:
            raise IllegalTransition("reject a cancel of", self.status.value, "no cancel pending")
        return self.placements[self.cancel_pending_for]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DomainError("occurred_at must be timezone-aware")
    return moment


def inferred_execution_id(broker_order_id: str, cumulative: Decimal) -> str:
    """The execution id of a fill inferred from a broker order's cumulative quantity."""
    return f"inferred:{broker_order_id}:{cumulative.normalize():f}"
