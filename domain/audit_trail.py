"""The audit trail of one order: its state at a point, and each decision with its inputs.

Pure over the order's recorded events: ``audit_trail(events, order)`` takes the events up
to the chosen point (a version, or an instant of business time) and the order rebuilt
from them, and tells, for each decision, what it was, the inputs it had (the quote and
its age, the quantity open, the prices already used, the re-pegs done) and its reasons,
with replay's verdict on it (domain.replay).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from execledger.domain import order_events as ev
from execledger.domain.order_state import OrderState
from execledger.domain.quotes import seconds_between
from execledger.domain.replay import replay_order

#: Events that are decisions of the policy or of the engine (the rest are the broker's answers).
DECISIONS: tuple[type[ev.OrderEvent], ...] = (
    ev.Validated,
    ev.QuantityAdjusted,
    ev.Denied,
    ev.Priced,
    ev.PlacementRequested,
    ev.Repegged,
    ev.Escalated,
    ev.CancelRequested,
    ev.Completed,
    ev.Expired,
    ev.Failed,
)


@dataclass(frozen=True)
class DecisionEntry:
    """One decision: what, when, on which inputs, why, and whether replay agrees."""

    version: int
    occurred_at: datetime
    decision: str
    summary: str
    inputs: dict[str, Any]
    reasons: list[str]
    checks: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(),
            "decision": self.decision,
            "summary": self.summary,
            "inputs": self.inputs,
            "reasons": self.reasons,
            "replay": self.checks,
            "replay_agrees": all(c["agrees"] for c in self.checks),
        }


def order_state(order: OrderState) -> dict[str, Any]:
    """The order's state as JSON-ready values."""
    average = order.average_fill_price
    return {
        "order_id": str(order.id),
        "version": order.version,
        "symbol": order.symbol,
        "side": order.side.value,
        "urgency": order.urgency.value,
        "status": order.status.value,
        "quantity": str(order.quantity),
        "filled_quantity": str(order.filled_quantity),
        "remaining_quantity": str(order.remaining_quantity),
        "average_fill_price": None if average is None else str(average.quantize(Decimal("0.000001"))),
        "limit_price": None if order.limit_price is None else str(order.limit_price),
        "repegs": order.repegs,
        "escalated": order.escalated,
        "client_order_ids": list(order.placements),
        "live_client_order_id": order.live_client_order_id,
        "terminal_reason": order.terminal_reason,
        "last_event_at": order.last_event_at.isoformat(),
    }


def audit_trail(events: Sequence[ev.OrderEvent]) -> list[DecisionEntry]:
    """Each decision among ``events`` (one order's, in version order), with its inputs."""
    checks: dict[int, list[dict[str, Any]]] = {}
    for check in replay_order(events).checks:
        checks.setdefault(check.version, []).append(check.as_json())
    entries: list[DecisionEntry] = []
    quote: ev.Quoted | None = None
    remaining = Decimal(0)
    prices: list[str] = []
    repegs = 0
    for event in events:
        if isinstance(event, DECISIONS):
            inputs: dict[str, Any] = {"remaining_quantity": str(remaining), "prices_used": list(prices)}
            inputs["repegs_done"] = repegs
            if quote is not None:
                inputs["quote"] = _quote(quote, event.occurred_at)
            if isinstance(event, (ev.Escalated, ev.Failed)) and event.refused_quotes:
                inputs["refused_quotes"] = [_refused(entry) for entry in event.refused_quotes]
            summary, reasons = describe(event)
            entries.append(
                DecisionEntry(
                    event.originator_version,
                    event.occurred_at,
                    type(event).__name__,
                    summary,
                    inputs,
                    reasons,
                    checks.get(event.originator_version, []),
                )
            )
        if isinstance(event, ev.Requested):
            remaining = event.quantity
        elif isinstance(event, ev.QuantityAdjusted):
            remaining = event.new_quantity
        elif isinstance(event, ev.Quoted):
            quote = event
        elif isinstance(event, (ev.PartiallyFilled, ev.Filled)):
            remaining = event.remaining_quantity
        elif isinstance(event, ev.PlacementRequested) and event.limit_price is not None:
            prices.append(str(event.limit_price))
        elif isinstance(event, ev.Repegged):
            repegs = event.repeg_number
    return entries


def _quote(quote: ev.Quoted, at: datetime) -> dict[str, Any]:
    return {
        "bid": str(quote.bid),
        "ask": str(quote.ask),
        "bid_size": str(quote.bid_size),
        "ask_size": str(quote.ask_size),
        "source": quote.source.value,
        "quoted_at": quote.quoted_at.isoformat(),
        "age_seconds": str(seconds_between(quote.quoted_at, at)),
        "fallback_used": quote.fallback_used,
        "suspicion_reasons": list(quote.suspicion_reasons),
    }


def _refused(entry: dict[str, Any]) -> dict[str, Any]:
    """A refused quote with its values as text."""
    return {
        k: v if v is None or isinstance(v, (bool, int, str, list)) else _text(v) for k, v in entry.items()
    }


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def describe(event: ev.OrderEvent) -> tuple[str, list[str]]:
    """A one-line account of a decision and its recorded reasons."""
    if isinstance(event, ev.Validated):
        return f"preflight passed: {event.quantity} shares, fractionable {event.fractionable}", []
    if isinstance(event, ev.QuantityAdjusted):
        return f"preflight adjusted {event.old_quantity} to {event.new_quantity} shares", [event.reason]
    if isinstance(event, ev.Priced):
        detail = [f"{k}: {v}" for k, v in sorted(event.metadata.items())]
        return f"priced at {event.limit_price} ({event.method}, tick {event.tick})", detail
    if isinstance(event, ev.PlacementRequested):
        kind = "market" if event.limit_price is None else f"limit {event.limit_price}"
        return (
            f"placement {event.placement_number}: {kind} for {event.quantity} ({event.client_order_id})",
            [],
        )
    if isinstance(event, ev.Repegged):
        return (
            f"re-peg {event.repeg_number}: {event.old_price} -> {event.new_price} "
            f"on {event.bid} / {event.ask}",
            list(event.reasons),
        )
    if isinstance(event, ev.Escalated):
        return f"escalated: the remaining {event.quantity} to market", [event.reason]
    if isinstance(event, ev.CancelRequested):
        return f"cancel asked for {event.client_order_id}", [event.reason]
    if isinstance(event, ev.Completed):
        return f"completed with {event.filled_quantity} filled", [event.reason]
    if isinstance(event, (ev.Denied, ev.Expired, ev.Failed)):
        return type(event).__name__.lower(), [event.reason]
    return type(event).__name__, []
