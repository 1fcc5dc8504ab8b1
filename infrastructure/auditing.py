"""Replay over the ledger: every order's decisions re-checked in one pass over the log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from execledger.domain.order_events import OrderEvent, Requested
from execledger.domain.replay import OrderReplay, replay_order
from execledger.infrastructure.ledger import Ledger, as_order_id
from execledger.infrastructure.time_window import TimeWindow


@dataclass
class LedgerReplay:
    """Every order replayed, by id, in the order they were requested."""

    orders: dict[UUID, OrderReplay] = field(default_factory=dict)

    @property
    def decisions_checked(self) -> int:
        return sum(len(r.checks) for r in self.orders.values())

    def mismatches(self) -> list[dict[str, Any]]:
        """Disagreements of orders decided by today's policy version."""
        return [
            _mismatch(oid, r, c) for oid, r in self.orders.items() if r.current_version for c in r.mismatches
        ]

    def other_versions(self) -> list[dict[str, Any]]:
        """Orders decided by another policy version: reported, not judged."""
        return [
            {
                "order_id": str(oid),
                "policy_version": r.policy_version or "unrecorded",
                "config_schema_version": r.config_schema_version,
                "config_defaulted": list(r.config_defaulted),
                "differing_decisions": [_mismatch(oid, r, c) for c in r.mismatches],
            }
            for oid, r in self.orders.items()
            if not r.current_version
        ]

    def as_json(self, *, with_checks: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "orders_checked": len(self.orders),
            "decisions_checked": self.decisions_checked,
            "mismatches": self.mismatches(),
            "other_versions": self.other_versions(),
        }
        if with_checks:
            out["checks"] = [
                {"order_id": str(oid), **c.as_json()} for oid, r in self.orders.items() for c in r.checks
            ]
        return out


def _mismatch(order_id: UUID, replay: OrderReplay, check: Any) -> dict[str, Any]:
    return {
        "order_id": str(order_id),
        "policy_version": replay.policy_version or "unrecorded",
        "version": check.version,
        "decision": check.decision,
        "recorded": check.recorded,
        "recomputed": check.replayed,
    }


def replay_ledger(
    ledger: Ledger,
    window: TimeWindow = TimeWindow(),
    advance: Callable[[int], None] | None = None,
) -> LedgerReplay:
    """Replay every order requested in ``window``, streaming the log once.

    ``advance`` is told each notification id passed (a progress bar).
    """
    result = LedgerReplay()
    skipped: set[UUID] = set()
    for notification in ledger.notifications():
        if advance is not None:
            advance(notification.id)
        order_id = as_order_id(notification.originator_id)
        if order_id in skipped:
            continue
        event = ledger.mapper.to_domain_event(notification)
        if not isinstance(event, OrderEvent):
            continue
        replay = result.orders.get(order_id)
        if replay is None:
            if not isinstance(event, Requested) or not window.holds(event.occurred_at):
                skipped.add(order_id)
                continue
            replay = result.orders[order_id] = OrderReplay()
        replay.feed(event)
    return result


def replay_one(ledger: Ledger, order_id: UUID) -> LedgerReplay:
    """One order replayed."""
    return LedgerReplay({order_id: replay_order(ledger.events_of(ledger.order(order_id).id))})
