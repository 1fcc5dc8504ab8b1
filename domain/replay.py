"""Replay: re-derive and re-check an order's decisions from the inputs its events recorded.

Every decision event is checked against the pure policy functions, fed only with what the
ledger recorded before it: the config snapshot, the quote of the preceding Quoted event,
the prices already used, the re-pegs already made, the quantity still open. Checked:

- preflight (Validated, QuantityAdjusted), the price (Priced), re-pegs and escalations
  (Repegged, Escalated), the no-quote outcome (Failed "no valid quote"), and each quote a
  no-quote decision refused, refused again by today's checks (domain.refused_quotes);
- each placement: a limit at the price last decided, a market order only once escalated,
  for the quantity then remaining; ``Escalated.quantity`` is what remained;
- a re-peg or an escalation on the re-peg path is due: not before ``fill_wait_seconds``
  since the last placement was accepted;
- each quote a decision used was fresh at that decision (``quote_freshness_seconds``);
- a completion: "filled" is filled, "too small" is too small at the last mid.

A decision that does not re-derive is reported with what was recorded and what replay
expects. An order recorded by another policy version (domain.policy_version) is reported as
such: its checks are kept, but they are not mismatches of today's code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from execledger.domain import order_events as ev
from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import DomainError
from execledger.domain.policy_version import CONFIG_SCHEMA_VERSION, POLICY_VERSION, UNRECORDED
from execledger.domain.preflight import no_quote_action, preflight, remaining_too_small
from execledger.domain.pricing import price_order
from execledger.domain.quotes import seconds_between
from execledger.domain.refused_quotes import expected_attempts, recorded_verdict, rederive
from execledger.domain.repeg import decide_repeg, repeg_due
from execledger.domain.types import OrderType, Quote, Side, Urgency

FILLED = "filled"
NO_QUOTE = "no valid quote"
TOO_SMALL = "remaining quantity too small to trade"


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
            "recomputed": self.replayed,
            "agrees": self.agrees,
        }


@dataclass
class _Known:
    """What the ledger had recorded about the order up to the event being replayed."""

    symbol: str = ""
    side: Side = Side.BUY
    urgency: Urgency = Urgency.NORMAL
    config: ExecutionConfig = field(default_factory=ExecutionConfig)
    quantity: Decimal = Decimal(0)
    filled: Decimal = Decimal(0)
    fractionable: bool | None = None
    quote: Quote | None = None
    previous: ev.OrderEvent | None = None
    prices: list[Decimal] = field(default_factory=list)
    decided: Decimal | None = None
    escalated: bool = False
    placed_at: datetime | None = None
    repegs: int = 0

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled


@dataclass
class OrderReplay:
    """One order, replayed event by event (feed it the order's events in version order)."""

    policy_version: str = UNRECORDED
    config_schema_version: int = 0
    config_defaulted: tuple[str, ...] = ()
    checks: list[DecisionCheck] = field(default_factory=list)
    _known: _Known = field(default_factory=_Known)

    @property
    def current_version(self) -> bool:
        """Decided by today's policy code and config schema."""
        return (self.policy_version, self.config_schema_version) == (POLICY_VERSION, CONFIG_SCHEMA_VERSION)

    @property
    def mismatches(self) -> list[DecisionCheck]:
        return [c for c in self.checks if not c.agrees]

    def feed(self, event: ev.OrderEvent) -> None:
        if isinstance(event, ev.Requested):
            self.policy_version = event.policy_version
            self.config_schema_version = event.config_schema_version
            self.config_defaulted = tuple(sorted(set(ExecutionConfig.model_fields) - set(event.config)))
        self.checks.extend(_checks(event, self._known))
        _learn(event, self._known)


def replay_order(events: Iterable[ev.OrderEvent]) -> OrderReplay:
    """Replay every decision of one order's events (in version order)."""
    replay = OrderReplay()
    for event in events:
        replay.feed(event)
    return replay


def replay_decisions(events: Iterable[ev.OrderEvent]) -> list[DecisionCheck]:
    """Every decision check of one order's events (in version order)."""
    return replay_order(events).checks


def _checks(event: ev.OrderEvent, known: _Known) -> list[DecisionCheck]:
    v = event.originator_version
    if isinstance(event, (ev.Validated, ev.QuantityAdjusted)):
        return [_preflight(event, known)]
    if isinstance(event, ev.Quoted):
        return [_quote_age(event, known)]
    if isinstance(event, ev.Priced):
        return [_priced(event, known)]
    if isinstance(event, ev.PlacementRequested):
        return _placement(event, known)
    if isinstance(event, ev.Repegged):
        return [_due(event, known), DecisionCheck(v, "re-peg", f"repeg {event.new_price}", _repeg(known))]
    if isinstance(event, ev.Escalated):
        quantity = DecisionCheck(v, "escalation quantity", str(event.quantity), str(known.remaining))
        return [*_escalated(event, known), quantity, *_refusals(event, known)]
    if isinstance(event, ev.Completed):
        return _completed(event, known)
    if isinstance(event, ev.Failed) and event.reason.startswith(NO_QUOTE):
        return [
            DecisionCheck(v, "no quote", "fail", no_quote_action(known.urgency)),
            *_refusals(event, known),
        ]
    return []


def _refusals(event: ev.Escalated | ev.Failed, known: _Known) -> list[DecisionCheck]:
    """A no-quote decision: as many attempts as the config makes, each recorded quote
    refused again by today's checks (domain.refused_quotes)."""
    if not event.reason.startswith(NO_QUOTE):
        return []
    v, entries = event.originator_version, event.refused_quotes
    attempts = len({entry["attempt"] for entry in entries})
    expected = expected_attempts(entries, known.config)
    checks = [DecisionCheck(v, "refused quotes", f"{attempts} attempt(s)", f"{expected} attempt(s)")]
    for entry in entries:
        again = rederive(entry, known.symbol, known.side, known.remaining, known.config)
        if again is not None:
            checks.append(DecisionCheck(v, "refused quote", recorded_verdict(entry), again))
    return checks


def _preflight(event: ev.Validated | ev.QuantityAdjusted, known: _Known) -> DecisionCheck:
    decision = preflight(known.quantity, tradable=event.tradable, fractionable=event.fractionable)
    if isinstance(event, ev.Validated):
        recorded = f"validated {event.quantity}"
    else:
        recorded = f"adjusted {event.new_quantity}"
    return DecisionCheck(
        event.originator_version, "preflight", recorded, f"{decision.outcome} {decision.quantity}"
    )


def _quote_age(event: ev.Quoted, known: _Known) -> DecisionCheck:
    """A quote a decision used must have been fresh then (streamed quotes; REST ones are
    fetched on demand and judged by the source)."""
    age = seconds_between(event.quoted_at, event.occurred_at)
    limit = known.config.quote_freshness_seconds
    fresh = event.source.value != "stream" or age <= limit
    recorded = f"used at {age}s old"
    replayed = recorded if fresh else f"stale: {age}s old, limit {limit}s"
    return DecisionCheck(event.originator_version, "quote age", recorded, replayed)


def _priced(event: ev.Priced, known: _Known) -> DecisionCheck:
    recorded = f"{event.limit_price} {event.method} tick {event.tick}"
    if known.quote is None:
        return DecisionCheck(event.originator_version, "price", recorded, "no quote recorded")
    try:
        decision = price_order(known.side, known.remaining, known.quote, known.config)
    except DomainError as error:
        return DecisionCheck(event.originator_version, "price", recorded, f"refused: {error}")
    replayed = f"{decision.limit_price} {decision.method} tick {decision.tick}"
    return DecisionCheck(event.originator_version, "price", recorded, replayed)


def _placement(event: ev.PlacementRequested, known: _Known) -> list[DecisionCheck]:
    v = event.originator_version
    if event.order_type is OrderType.MARKET:
        recorded_kind = "market"
        expected_kind = "market" if known.escalated else "limit (not escalated)"
    else:
        recorded_kind = f"limit {event.limit_price}"
        expected_kind = "market (escalated)" if known.escalated else f"limit {known.decided}"
    return [
        DecisionCheck(v, "placement price", recorded_kind, expected_kind),
        DecisionCheck(v, "placement quantity", str(event.quantity), str(known.remaining)),
    ]


def _repeg(known: _Known) -> str:
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


def _due(event: ev.OrderEvent, known: _Known) -> DecisionCheck:
    """A re-peg (or an escalation in its place) only once ``fill_wait_seconds`` have passed."""
    if known.placed_at is None:
        return DecisionCheck(event.originator_version, "re-peg due", "due", "no accepted placement")
    waited = seconds_between(known.placed_at, event.occurred_at)
    due = repeg_due(known.placed_at, event.occurred_at, known.config)
    replayed = (
        "due" if due else f"not due: {waited}s since the placement, wait {known.config.fill_wait_seconds}s"
    )
    return DecisionCheck(event.originator_version, "re-peg due", "due", replayed)


def _escalated(event: ev.Escalated, known: _Known) -> list[DecisionCheck]:
    v = event.originator_version
    if isinstance(known.previous, ev.Quoted) and known.prices:
        return [_due(event, known), DecisionCheck(v, "escalation", "escalate", _repeg(known))]
    action = no_quote_action(known.urgency)
    replayed = "escalate" if action == "market" else action
    return [DecisionCheck(v, "escalation (no quote)", "escalate", replayed)]


def _completed(event: ev.Completed, known: _Known) -> list[DecisionCheck]:
    v = event.originator_version
    checks = [DecisionCheck(v, "completed quantity", str(event.filled_quantity), str(known.filled))]
    if event.reason == FILLED:
        replayed = FILLED if known.remaining <= 0 else f"{known.remaining} remain"
        checks.append(DecisionCheck(v, "completion", FILLED, replayed))
    elif event.reason == TOO_SMALL:
        checks.append(DecisionCheck(v, "completion", TOO_SMALL, _too_small(known)))
    return checks


def _too_small(known: _Known) -> str:
    if known.quote is not None and known.quote.bid + known.quote.ask > 0:
        price: Decimal | None = (known.quote.bid + known.quote.ask) / 2
    else:
        price = known.prices[-1] if known.prices else None
    if price is None or known.fractionable is None:
        return "no price or no preflight recorded"
    small = remaining_too_small(known.remaining, price, fractionable=known.fractionable, config=known.config)
    return TOO_SMALL if small else f"{known.remaining} at {price} is tradable"


def _learn(event: ev.OrderEvent, known: _Known) -> None:
    if isinstance(event, ev.Requested):
        known.side, known.urgency, known.quantity = event.side, event.urgency, event.quantity
        known.symbol = event.symbol
        known.config = ExecutionConfig.recorded(event.config)
    elif isinstance(event, ev.Validated):
        known.fractionable = event.fractionable
    elif isinstance(event, ev.QuantityAdjusted):
        known.quantity, known.fractionable = event.new_quantity, event.fractionable
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
    elif isinstance(event, ev.Priced):
        known.decided = event.limit_price
    elif isinstance(event, ev.PlacementRequested):
        known.decided = None
        if event.limit_price is not None:
            known.prices.append(event.limit_price)
    elif isinstance(event, ev.Placed):
        known.placed_at = event.occurred_at
    elif isinstance(event, ev.Repegged):
        known.repegs, known.decided = event.repeg_number, event.new_price
    elif isinstance(event, ev.Escalated):
        known.escalated = True
    elif isinstance(event, (ev.PartiallyFilled, ev.Filled)):
        known.filled = event.filled_quantity
    known.previous = event
