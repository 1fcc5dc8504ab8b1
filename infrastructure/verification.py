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

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from execledger.domain.chain import CHAIN_VERSION, GENESIS_HASH, canonical
from execledger.infrastructure.ledger import Ledger, as_order_id
from execledger.infrastructure.read_model_check import LEARNED, OrderFigures
from execledger.infrastructure.sealing import ROOT_GENESIS, AuditKey, Checkpoint, SealTable, extend_root
from execledger.infrastructure.stored_canonical import canonical_json, stored_canonical
from execledger.infrastructure.stored_records import StoredRecord, stored_records

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
    #: Keyed by the order id as stored (hashing a UUID runs Python code; a str's does not).
    heads: dict[str, _ChainHead] = field(default_factory=dict)
    broken: dict[str, BrokenLink] = field(default_factory=dict)
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
    *,
    since: Checkpoint | None = None,
) -> VerificationReport:
    """Walk every stored event once, in notification order, checking chains, seals and root.

    Given ``figures``, each order's key figures are folded into it from the stored events
    (for infrastructure.read_model_check). Given ``since`` (a checkpoint whose signature
    the caller has checked), only the events after it are walked: the root is extended
    from the checkpoint's, and an order's first event after it is linked to the hash its
    event before records (that event itself was checked when the checkpoint was made).
    """
    checkpoints = sorted(
        [*(seals.all() if seals is not None else []), *([against] if against else [])],
        key=lambda c: c.position,
    )
    walk = _Walk(key, iter(c for c in checkpoints if since is None or c.position > since.position))
    walk.next_checkpoint = next(walk.checkpoints, None)
    start = 1
    if since is not None:
        walk.position, walk.count, walk.root = since.position, since.count, since.root
        start = since.position + 1
    records = _Records(ledger, key, walk, figures, linked=since is not None)
    for record in stored_records(ledger, start):
        records.check(record)
    walk.advance_checkpoints(None)
    ordered = sorted(walk.broken.values(), key=lambda b: (str(b.order_id), b.version or 0))
    return VerificationReport(
        orders_checked=len(walk.heads.keys() | walk.broken.keys()),
        events_checked=walk.count - (since.count if since is not None else 0),
        broken=(*walk.ledger_broken, *ordered),
        keys_checked=key is not None,
        legacy_events=walk.legacy,
        checkpoints_checked=walk.checked,
        head=Checkpoint(walk.position, walk.count, walk.root),
    )


class _Records:
    """The check of one stored record after another (the hot loop of ``verify``)."""

    def __init__(
        self,
        ledger: Ledger,
        key: AuditKey | None,
        walk: _Walk,
        figures: dict[UUID, OrderFigures] | None,
        *,
        linked: bool,
    ) -> None:
        self._ledger = ledger
        self._key = key
        self._walk = walk
        self._figures = figures
        self._linked = linked
        self._plain = ledger.mapper.cipher is None and ledger.mapper.compressor is None
        self._names: dict[str, tuple[UUID, str, Any]] = {}
        self._folded: dict[str, OrderFigures] = {}

    def check(self, record: StoredRecord) -> None:
        walk = self._walk
        position, number, version, topic, stored = record
        upcoming = walk.next_checkpoint
        if upcoming is not None and upcoming.position < position:
            walk.advance_checkpoints(position)
        names = self._names.get(number)
        if names is None:
            order_id = as_order_id(number)
            names = self._names[number] = (order_id, str(order_id), canonical(order_id))
        order_id, text_id, canonical_id = names
        walk.count += 1
        walk.position = position
        walk.root = extend_root(walk.root, text_id, version, topic, stored)
        if number in walk.broken:
            return
        head = walk.heads.get(number)
        if head is None and version > 1 and self._linked:
            head = self._head_before(order_id, version)
        fault, state = self._fields(stored, head, version)
        if not fault:
            recorded = state.pop("event_hash", None)
            mac = state.pop("event_mac", None)
            fault = _hash_fault(state, recorded, canonical_id, version, topic)
            if not fault:
                fault = _mac_fault(state.get("chain_version", 1), recorded, mac, self._key)
        if fault:
            walk.broken[number] = BrokenLink(order_id, version, fault)
            return
        if state.get("chain_version", 1) == 1:
            walk.legacy += 1
        if self._figures is not None:
            self._learn(number, order_id, version, topic, state)
        walk.heads[number] = _ChainHead(version, recorded)

    def _fields(self, stored: bytes, head: _ChainHead | None, version: int) -> tuple[str, dict[str, Any]]:
        """The stored fields in canonical form, or why the record does not follow its chain."""
        expected_version = 1 if head is None else head.version + 1
        if version != expected_version:
            return f"version {version} follows {expected_version - 1}", {}
        state = stored_canonical(stored) if self._plain else None
        if state is None:
            try:
                state = canonical(self._ledger.decode_state(stored))
            except (ValueError, KeyError, TypeError) as error:
                return f"stored state cannot be decoded: {error}", {}
        expected_previous = GENESIS_HASH if head is None else head.event_hash
        if state.get("previous_hash") != expected_previous:
            return "previous_hash does not match the hash of the event before it", state
        return "", state

    def _head_before(self, order_id: UUID, version: int) -> _ChainHead | None:
        """The order's event before ``version`` (behind the checkpoint walked from)."""
        stored = self._ledger.recorder.select_events(order_id, gt=version - 2, lte=version - 1)
        if not stored:
            return None
        state = stored_canonical(stored[0].state) if self._plain else None
        if state is None:
            state = self._ledger.decode_state(stored[0].state)
        recorded = state.get("event_hash")
        return _ChainHead(version - 1, recorded) if isinstance(recorded, str) else None

    def _learn(self, number: str, order_id: UUID, version: int, topic: str, state: dict[str, Any]) -> None:
        assert self._figures is not None
        figures = self._folded.get(number)
        if figures is None:
            figures = self._folded[number] = self._figures.setdefault(order_id, OrderFigures())
        figures.version = version
        name = topic.rpartition(":")[2]
        if name in LEARNED:
            figures.learn(name, state)


def _hash_fault(state: dict[str, Any], recorded: Any, originator: Any, version: int, topic: str) -> str:
    """Why ``state`` (canonical, without its hash and MAC) does not hash to ``recorded``."""
    chain_version = state.get("chain_version", 1)
    hashed = {**state, "originator_id": originator, "originator_version": version, "topic": topic}
    if chain_version == 1:
        hashed.pop("class_version", None)
    elif chain_version == CHAIN_VERSION:
        hashed.setdefault("class_version", 1)
    else:
        return f"stored fields cannot be hashed: unknown chain version {chain_version!r}"
    try:
        recomputed = hashlib.sha256(canonical_json(hashed)).hexdigest()
    except (TypeError, ValueError) as error:
        return f"stored fields cannot be hashed: {error}"
    if recomputed != recorded:
        return "event_hash does not match the event's stored fields"
    return ""


def _mac_fault(chain_version: Any, event_hash: Any, mac: Any, key: AuditKey | None) -> str:
    if key is None or chain_version == 1:
        return ""
    if chain_version != CHAIN_VERSION:
        return f"unknown chain version {chain_version!r}"
    if not isinstance(mac, str):
        return "event_mac is missing: the event was not sealed with the audit key"
    if not key.event_mac_matches(str(event_hash), mac):
        return "event_mac does not match: the event was rewritten without the audit key"
    return ""


def checkpoint_of(report: VerificationReport, key: AuditKey) -> Checkpoint:
    """The ledger's head as ``report`` found it, signed with ``key``."""
    return report.head.signed(key)
