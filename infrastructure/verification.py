"""Verify the ledger's hash chains: recompute every event's hash and every link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from execledger.domain.chain import GENESIS_HASH, event_hash
from execledger.infrastructure.ledger import Ledger, as_order_id


@dataclass(frozen=True)
class BrokenLink:
    """The first event of an order whose chain does not hold, and why."""

    order_id: UUID
    version: int
    reason: str


@dataclass(frozen=True)
class VerificationReport:
    """What ``verify`` found: how much it checked and every broken chain."""

    orders_checked: int
    events_checked: int
    broken: tuple[BrokenLink, ...]

    @property
    def ok(self) -> bool:
        return not self.broken

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "orders_checked": self.orders_checked,
            "events_checked": self.events_checked,
            "broken": [
                {"order_id": str(b.order_id), "version": b.version, "reason": b.reason} for b in self.broken
            ],
        }


@dataclass
class _ChainHead:
    version: int
    event_hash: str


def verify_ledger(ledger: Ledger) -> VerificationReport:
    """Walk every stored event once, in notification order, checking each order's chain."""
    heads: dict[UUID, _ChainHead] = {}
    broken: dict[UUID, BrokenLink] = {}
    events = 0
    for notification in ledger.notifications():
        events += 1
        order_id = as_order_id(notification.originator_id)
        if order_id in broken:
            continue
        fault = _check(ledger, notification, heads.get(order_id))
        if fault:
            broken[order_id] = BrokenLink(order_id, notification.originator_version, fault)
            continue
        state = ledger.decode_state(notification.state)
        heads[order_id] = _ChainHead(notification.originator_version, state["event_hash"])
    ordered = tuple(sorted(broken.values(), key=lambda b: (str(b.order_id), b.version)))
    return VerificationReport(len(heads.keys() | broken.keys()), events, ordered)


def _check(ledger: Ledger, notification: Any, head: _ChainHead | None) -> str:
    expected_version = 1 if head is None else head.version + 1
    if notification.originator_version != expected_version:
        return f"version {notification.originator_version} follows {expected_version - 1}"
    try:
        state = ledger.decode_state(notification.state)
    except (ValueError, KeyError, TypeError) as error:
        return f"stored state cannot be decoded: {error}"
    recorded = state.get("event_hash")
    expected_previous = GENESIS_HASH if head is None else head.event_hash
    if state.get("previous_hash") != expected_previous:
        return "previous_hash does not match the hash of the event before it"
    fields = {
        **state,
        "originator_id": notification.originator_id,
        "originator_version": notification.originator_version,
        "topic": notification.topic,
    }
    try:
        recomputed = event_hash(fields)
    except TypeError as error:
        return f"stored fields cannot be hashed: {error}"
    if recomputed != recorded:
        return "event_hash does not match the event's stored fields"
    return ""
