"""Verify the ledger: every order's hash chain, every event's keyed seal, the ledger root.

One pass over the notification log checks, for each stored record:

- its order's chain: versions follow one another, ``previous_hash`` is the hash of the
  event before, ``event_hash`` recomputes (by the event's own chain version);
- given the audit key, its ``event_mac`` (a version-2 event written without a key, or
  with its MAC removed, is broken; version-1 events predate keys and are counted);
- the ledger root, a chain over every stored record in notification order, compared
  with each signed checkpoint in the ledger's seal table and with ``--against``'s.

Without the key the keyed parts cannot be checked; the report says so instead of
passing them.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from execledger.domain.chain import CHAIN_VERSION, GENESIS_HASH, canonical, event_hash
from execledger.infrastructure.ledger import Ledger, as_order_id
from execledger.infrastructure.read_model_check import OrderFigures
from execledger.infrastructure.sealing import ROOT_GENESIS, AuditKey, Checkpoint, SealTable, extend_root

NO_KEY_NOTE = "no audit key given: event MACs and checkpoint signatures were not checked"


@dataclass(frozen=True)
class BrokenLink:
    """Where the ledger does not hold, and why: an order's event, or (no order) the log."""

    order_id: UUID | None
    version: int | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        order = None if self.order_id is None else str(self.order_id)
        return {"order_id": order, "version": self.version, "reason": self.reason}


@dataclass(frozen=True)
class VerificationReport:
    """What ``verify`` found: how much it checked, what it could not, and every break."""

    orders_checked: int
    events_checked: int
    broken: tuple[BrokenLink, ...]
    keys_checked: bool = False
    legacy_events: int = 0
    checkpoints_checked: int = 0
    head: Checkpoint = field(default_factory=lambda: Checkpoint(0, 0, ROOT_GENESIS))

    @property
    def ok(self) -> bool:
        return not self.broken

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "orders_checked": self.orders_checked,
            "events_checked": self.events_checked,
            "broken": [b.as_json() for b in self.broken],
            "keys_checked": self.keys_checked,
            "note": None if self.keys_checked else NO_KEY_NOTE,
            "unkeyed_legacy_events": self.legacy_events,
            "checkpoints_checked": self.checkpoints_checked,
            "ledger": {"position": self.head.position, "count": self.head.count, "root": self.head.root},
        }


@dataclass
class _ChainHead:
    version: int
    event_hash: str


@dataclass
class _Walk:
    """The state of one pass over the log."""

    key: AuditKey | None
    checkpoints: Iterator[Checkpoint]
    next_checkpoint: Checkpoint | None = None
    heads: dict[UUID, _ChainHead] = field(default_factory=dict)
    broken: dict[UUID, BrokenLink] = field(default_factory=dict)
    ledger_broken: list[BrokenLink] = field(default_factory=list)
    legacy: int = 0
    count: int = 0
    root: str = ROOT_GENESIS
    position: int = 0
    checked: int = 0

    def advance_checkpoints(self, upcoming: int | None) -> None:
        """Compare the root with every checkpoint at or before the position just passed,
        stopping before ``upcoming`` (the next record's position; None at the end)."""
        while self.next_checkpoint is not None and (
            upcoming is None or self.next_checkpoint.position < upcoming
        ):
            self._compare(self.next_checkpoint)
            self.next_checkpoint = next(self.checkpoints, None)

    def _compare(self, checkpoint: Checkpoint) -> None:
        self.checked += 1
        where = f"checkpoint at position {checkpoint.position}"
        if checkpoint.position > self.position:
            self.ledger_broken.append(
                BrokenLink(None, None, f"{where}: the ledger ends at position {self.position}")
            )
            return
        if checkpoint.count != self.count or not hmac.compare_digest(checkpoint.root, self.root):
            self.ledger_broken.append(
                BrokenLink(
                    None,
                    None,
                    f"{where}: the ledger holds {self.count} events with another root up to it "
                    f"(the checkpoint says {checkpoint.count}): records were deleted, inserted, "
                    "edited or reordered",
                )
            )
        if self.key is not None and not checkpoint.signature_holds(self.key):
            self.ledger_broken.append(BrokenLink(None, None, f"{where}: the signature does not hold"))


def verify_ledger(
    ledger: Ledger,
    key: AuditKey | None = None,
    against: Checkpoint | None = None,
    seals: SealTable | None = None,
    figures: dict[UUID, OrderFigures] | None = None,
) -> VerificationReport:
    """Walk every stored event once, in notification order, checking chains, seals and root.

    Given ``figures``, each order's key figures are folded into it from the decoded events
    (for infrastructure.read_model_check).
    """
    checkpoints = sorted(
        [*(seals.all() if seals is not None else []), *([against] if against else [])],
        key=lambda c: c.position,
    )
    walk = _Walk(key, iter(checkpoints))
    walk.next_checkpoint = next(walk.checkpoints, None)
    for notification in ledger.notifications():
        walk.advance_checkpoints(notification.id)
        walk.count += 1
        walk.position = notification.id
        walk.root = extend_root(
            walk.root,
            notification.originator_id,
            notification.originator_version,
            notification.topic,
            notification.state,
        )
        order_id = as_order_id(notification.originator_id)
        if order_id in walk.broken:
            continue
        fault, state = _check(ledger, notification, walk.heads.get(order_id), key)
        if fault:
            walk.broken[order_id] = BrokenLink(order_id, notification.originator_version, fault)
            continue
        if state.get("chain_version", 1) == 1:
            walk.legacy += 1
        if figures is not None:
            name = notification.topic.rpartition(":")[2]
            figures.setdefault(order_id, OrderFigures()).learn(
                notification.originator_version, name, _typed_decimals(state)
            )
        walk.heads[order_id] = _ChainHead(notification.originator_version, state["event_hash"])
    walk.advance_checkpoints(None)
    ordered = sorted(walk.broken.values(), key=lambda b: (str(b.order_id), b.version or 0))
    return VerificationReport(
        orders_checked=len(walk.heads.keys() | walk.broken.keys()),
        events_checked=walk.count,
        broken=(*walk.ledger_broken, *ordered),
        keys_checked=key is not None,
        legacy_events=walk.legacy,
        checkpoints_checked=walk.checked,
        head=Checkpoint(walk.position, walk.count, walk.root),
    )


def _check(
    ledger: Ledger, notification: Any, head: _ChainHead | None, key: AuditKey | None
) -> tuple[str, dict[str, Any]]:
    expected_version = 1 if head is None else head.version + 1
    if notification.originator_version != expected_version:
        return f"version {notification.originator_version} follows {expected_version - 1}", {}
    plain = ledger.mapper.cipher is None and ledger.mapper.compressor is None
    state = stored_canonical(notification.state) if plain else None
    fast = state is not None
    if state is None:
        try:
            state = ledger.decode_state(notification.state)
        except (ValueError, KeyError, TypeError) as error:
            return f"stored state cannot be decoded: {error}", {}
    recorded = state.get("event_hash")
    expected_previous = GENESIS_HASH if head is None else head.event_hash
    if state.get("previous_hash") != expected_previous:
        return "previous_hash does not match the hash of the event before it", state
    fields = {
        **state,
        "originator_id": canonical(notification.originator_id) if fast else notification.originator_id,
        "originator_version": notification.originator_version,
        "topic": notification.topic,
    }
    try:
        recomputed = event_hash(fields, canonical_form=fast)
    except (TypeError, ValueError) as error:
        return f"stored fields cannot be hashed: {error}", state
    if recomputed != recorded:
        return "event_hash does not match the event's stored fields", state
    return _check_mac(state, key), state


def _check_mac(state: dict[str, Any], key: AuditKey | None) -> str:
    if key is None or state.get("chain_version", 1) == 1:
        return ""
    if state.get("chain_version") != CHAIN_VERSION:
        return f"unknown chain version {state.get('chain_version')!r}"
    mac = state.get("event_mac")
    if not isinstance(mac, str):
        return "event_mac is missing: the event was not sealed with the audit key"
    if not hmac.compare_digest(mac, key.event_mac(str(state["event_hash"]))):
        return "event_mac does not match: the event was rewritten without the audit key"
    return ""


def _typed_decimals(state: dict[str, Any]) -> dict[str, Any]:
    """The state with canonical decimals (``{"decimal": s}``) as Decimals, for the figures."""
    return {
        k: Decimal(v["decimal"]) if type(v) is dict and len(v) == 1 and "decimal" in v else v
        for k, v in state.items()
    }


#: How the library's transcodings tag a value, and its canonical form (domain.chain).
_TAGGED: dict[str, Callable[[Any], Any]] = {
    "decimal_str": lambda data: {"decimal": data},
    "datetime_iso": lambda data: {"datetime": data},
    "uuid_hex": lambda data: {"uuid": str(UUID(data))},
}


class _NotPlain(Exception):
    """The stored state holds something only the library's decoding can read."""


def stored_canonical(stored: bytes) -> dict[str, Any] | None:
    """The canonical form (domain.chain.canonical) of a stored state, read straight from its
    JSON with orjson, or None when the library must decode it.

    The library writes a Decimal as ``str(d)``, a time as ``isoformat()``, an enum as its
    value, each inside ``{"_type_", "_data_"}``; decoding and re-encoding them gives the same
    strings, so the tagged data is the canonical form without building the objects (three
    times faster; tests/integration/test_verify_fast_path.py holds it to the slow path).
    """
    try:
        state = orjson.loads(stored)
        walked = _walk(state)
    except (orjson.JSONDecodeError, _NotPlain, ValueError, TypeError):
        return None
    return walked if isinstance(walked, dict) else None


def _walk(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            name, data = value["_type_"], value["_data_"]
            convert = _TAGGED.get(name)
            if convert is not None and type(data) is str:
                return convert(data)
            if name.startswith("enum_") and type(data) in (str, int, bool):
                return data
            raise _NotPlain(name)
        return {k: _walk(v) for k, v in value.items()}
    if kind is list:
        return [_walk(v) for v in value]
    raise _NotPlain(kind.__name__)


def checkpoint_of(report: VerificationReport, key: AuditKey) -> Checkpoint:
    """The ledger's head as ``report`` found it, signed with ``key``."""
    return report.head.signed(key)
