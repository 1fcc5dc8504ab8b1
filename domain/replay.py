"""Replay: re-derive an order's decisions from the inputs its events recorded.

Every decision event (Priced, Repegged, Escalated, a preflight outcome, a no-quote
failure) is checked against the pure policy functions, fed only with what the ledger
recorded before it: the config snapshot, the quote of the preceding Quoted event, the
prices already used, the re-pegs already made, the quantity still open. A decision
that does not re-derive is reported with what was recorded and what replay expects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from execledger.domain import order_events as ev
from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import DomainError
from execledger.domain.preflight import no_quote_action, preflight
from execledger.domain.pricing import price_order
from execledger.domain.repeg import decide_repeg
from execledger.domain.types import Quote, Side, Urgency


@dataclass(frozen=True)
class DecisionCheck:
    """One decision, replayed: what was recorded, what replay derives, and whether they agree."""

    version: int
    decision: str
    recorded: str
    replayed: str

    @property
    def agrees(self) -> bool:
        return self.recorded == self.replayed

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "decision": self.decision,
            "recorded": self.recorded,
            "replayed": self.replayed,
            "agrees": self.agrees,
        }


@dataclass
class _Known:
    """What the ledger had recorded about the order up to the event being replayed."""

    side: Side = Side.BUY
    urgency: Urgency = Urgency.NORMAL
    config: ExecutionConfig = field(default_factory=ExecutionConfig)
    quantity: Decimal = Decimal(0)
    filled: Decimal = Decimal(0)
    quote: Quote | None = None
    previous: ev.OrderEvent | None = None
    prices: list[Decimal] = field(default_factory=list)
    repegs: int = 0


def replay_decisions(events: Sequence[ev.OrderEvent]) -> list[DecisionCheck]:
    """Replay every decision of one order's events (in version order)."""
    known = _Known()
    checks: list[DecisionCheck] = []
    for event in events:
        check = _check(event, known)
        if check is not None:
            checks.append(check)
        _learn(event, known)
    return checks


def _check(event: ev.OrderEvent, known: _Known) -> DecisionCheck | None:
    if isinstance(event, (ev.Validated, ev.QuantityAdjusted)):
        return _preflight(event, known)
    if isinstance(event, ev.Priced):
        return _priced(event, known)
    if isinstance(event, ev.Repegged):
        return _repegged(event, known)
    if isinstance(event, ev.Escalated):
        return _escalated(event, known)
    if isinstance(event, ev.Failed) and event.reason.startswith("no valid quote"):
        action = no_quote_action(known.urgency)
        return DecisionCheck(event.originator_version, "no quote", "fail", action)
    return None


def _preflight(event: ev.Validated | ev.QuantityAdjusted, known: _Known) -> DecisionCheck:
    decision = preflight(known.quantity, tradable=event.tradable, fractionable=event.fractionable)
    if isinstance(event, ev.Validated):
        recorded = f"validated {event.quantity}"
    else:
        recorded = f"adjusted {event.new_quantity}"
    return DecisionCheck(
        event.originator_version, "preflight", recorded, f"{decision.outcome} {decision.quantity}"
    )


def _priced(event: ev.Priced, known: _Known) -> DecisionCheck:
    recorded = f"{event.limit_price} {event.method} tick {event.tick}"
    if known.quote is None:
        return DecisionCheck(event.originator_version, "price", recorded, "no quote recorded")
    try:
        decision = price_order(known.side, known.quantity - known.filled, known.quote, known.config)
    except DomainError as error:
        return DecisionCheck(event.originator_version, "price", recorded, f"refused: {error}")
    replayed = f"{decision.limit_price} {decision.method} tick {decision.tick}"
    return DecisionCheck(event.originator_version, "price", recorded, replayed)


def _repeg_decision(known: _Known) -> str:
    if known.quote is None or not known.prices:
        return "no quote or no price recorded"
    try:
        decision = decide_repeg(
            side=known.side,
            quote=known.quote,
            last_price=known.prices[-1],
            price_history=known.prices,
            repegs_done=known.repegs,
            config=known.config,
        )
    except DomainError as error:
        return f"refused: {error}"
    return "escalate" if decision.action == "escalate" else f"repeg {decision.new_price}"


def _repegged(event: ev.Repegged, known: _Known) -> DecisionCheck:
    recorded = f"repeg {event.new_price}"
    return DecisionCheck(event.originator_version, "re-peg", recorded, _repeg_decision(known))


def _escalated(event: ev.Escalated, known: _Known) -> DecisionCheck:
    if isinstance(known.previous, ev.Quoted) and known.prices:
        return DecisionCheck(event.originator_version, "escalation", "escalate", _repeg_decision(known))
    action = no_quote_action(known.urgency)
    replayed = "escalate" if action == "market" else action
    return DecisionCheck(event.originator_version, "escalation (no quote)", "escalate", replayed)


def _learn(event: ev.OrderEvent, known: _Known) -> None:
    if isinstance(event, ev.Requested):
        known.side, known.urgency, known.quantity = event.side, event.urgency, event.quantity
        known.config = ExecutionConfig.model_validate(event.config)
    elif isinstance(event, ev.QuantityAdjusted):
        known.quantity = event.new_quantity
    elif isinstance(event, ev.Quoted):
        known.quote = Quote(
            symbol=event.symbol,
            bid=event.bid,
            ask=event.ask,
            bid_size=event.bid_size,
            ask_size=event.ask_size,
            quoted_at=event.quoted_at,
            source=event.source,
        )
    elif isinstance(event, ev.PlacementRequested) and event.limit_price is not None:
        known.prices.append(event.limit_price)
    elif isinstance(event, ev.Repegged):
        known.repegs = event.repeg_number
    elif isinstance(event, (ev.PartiallyFilled, ev.Filled)):
        known.filled = event.filled_quantity
    known.previous = event
