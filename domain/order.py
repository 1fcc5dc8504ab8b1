"""SmartOrder: the aggregate that records every decision of one smart order.

Commands check the state first and raise ``IllegalTransition`` (recording nothing)
when they do not apply; then they trigger one event, whose ``apply`` changes state.
The state is domain.order_state, the checks domain.order_guards, the fill commands
domain.order_fills (their arithmetic domain.fills); the class stays here, since every
stored event names it by its topic ``execledger.domain.order:SmartOrder``.
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
from execledger.domain.fills import inferred_execution_id
from execledger.domain.ids import ClientOrderId, order_id_for
from execledger.domain.order_fills import FillCommands
from execledger.domain.order_guards import aware
from execledger.domain.policy_version import CONFIG_SCHEMA_VERSION, POLICY_VERSION
from execledger.domain.requests import OrderRequest
from execledger.domain.status import IDLE_STATUSES, LIVE_STATUSES, OrderStatus
from execledger.domain.types import OrderType, Quote, TimeInForce

__all__ = ["SmartOrder", "inferred_execution_id"]  # the latter: where callers have found it


class SmartOrder(FillCommands, Aggregate):
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
            "occurred_at": aware(occurred_at),
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
            occurred_at=max(aware(kwargs["occurred_at"]), self.last_event_at),
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
