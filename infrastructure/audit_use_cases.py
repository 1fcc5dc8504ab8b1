"""The audit's use cases (part of the application API, re-exported by ``use_cases``):
verify the ledger's chains, seals and read models; replay its decisions; one order's audit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from execledger.domain import order_events as ev
from execledger.domain.audit_trail import DecisionEntry, audit_trail, order_state
from execledger.domain.order import SmartOrder
from execledger.domain.topics import topics_of
from execledger.infrastructure.auditing import LedgerReplay, replay_ledger, replay_one
from execledger.infrastructure.errors import AuditKeyError, BadArgument, CheckpointFileError, OrderNotFound
from execledger.infrastructure.ledger import Ledger, as_order_id, open_ledger
from execledger.infrastructure.read_model_check import OrderFigures, ReadModelReport, check_read_models
from execledger.infrastructure.read_models import open_projections
from execledger.infrastructure.read_only import refuses_writes
from execledger.infrastructure.sealing import (
    KEY_ENV,
    SealTable,
    load_audit_key,
    read_checkpoint,
    write_checkpoint,
)
from execledger.infrastructure.settings import Settings
from execledger.infrastructure.time_window import TimeWindow
from execledger.infrastructure.verification import VerificationReport, verify_ledger
from execledger.projections.errors import ProjectionStoreUnavailable
from execledger.projections.queries import CANDIDATES_SHOWN, ORDER_ID_PREFIX

#: Replay progress: (notification id reached, ledger position).
ReplayProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class VerifyRequest:
    """What ``verify`` checks and writes besides the hash chains.

    The audit key comes from ``key_file`` or the environment; ``checkpoint`` is a new file
    to write the signed head to, ``against`` a checkpoint the ledger must still extend;
    ``seal`` stores the signed head in the ledger; ``read_models`` compares their figures.
    """

    key_file: Path | None = None
    checkpoint: Path | None = None
    against: Path | None = None
    seal: bool = False
    read_models: bool = True


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: the ledger's report, whether keyed seals were checked, and
    the read models' agreement with the events (None when not asked)."""

    report: VerificationReport
    keyed: bool
    read_models: ReadModelReport | None

    @property
    def ok(self) -> bool:
        return self.report.ok and (self.read_models is None or self.read_models.ok)


def verify(settings: Settings, request: VerifyRequest | None = None) -> Verification:
    """Recompute every hash, link and seal (and the read models' figures); sign if asked."""
    request = request or VerifyRequest()
    key = load_audit_key(key_file=request.key_file)
    if (request.checkpoint is not None or request.seal) and key is None:
        option = "--checkpoint" if request.checkpoint is not None else "--seal"
        raise AuditKeyError(f"{option}: signing needs the audit key (${KEY_ENV} or --key-file)")
    if request.checkpoint is not None and request.checkpoint.exists():
        raise CheckpointFileError(
            f"--checkpoint {request.checkpoint}: the file exists; checkpoints are never overwritten"
        )
    previous = read_checkpoint(request.against) if request.against is not None else None
    figures: dict[UUID, OrderFigures] | None = {} if request.read_models else None
    with open_ledger(settings.database, read_only=not request.seal) as ledger:
        seals = SealTable(ledger.recorder.datastore, create=request.seal)  # type: ignore[attr-defined]
        report = verify_ledger(ledger, key=key, against=previous, seals=seals, figures=figures)
        if report.ok and key is not None and (request.seal or request.checkpoint is not None):
            signed = report.head.signed(key, sealed_at=datetime.now(UTC).isoformat(timespec="seconds"))
            if request.seal:
                seals.add(signed)
            if request.checkpoint is not None:
                write_checkpoint(request.checkpoint, signed)
    rows = _check_read_models(settings, figures) if figures is not None else None
    return Verification(report, key is not None, rows)


def _check_read_models(settings: Settings, figures: dict[UUID, OrderFigures]) -> ReadModelReport | None:
    """The read models' key figures against the events; None when the database refuses
    writes (the read models cannot be brought up to date there, so are not checked)."""
    try:
        store = open_projections(settings.database)
    except ProjectionStoreUnavailable as error:
        if not refuses_writes(error):
            raise
        return None
    try:
        return check_read_models(store, figures)
    finally:
        store.close()


def replay(
    settings: Settings,
    order: UUID | str | None = None,
    *,
    window: TimeWindow | None = None,
    progress: ReplayProgress | None = None,
) -> LedgerReplay:
    """Re-derive the decisions of one order (named as ``audit`` names it), or of every
    order requested in ``window``, from their recorded inputs."""
    with open_ledger(settings.database, read_only=True) as ledger:
        if order is not None:
            return replay_one(ledger, resolve_order_id(ledger, str(order)))
        total = ledger.recorder.max_notification_id() or 0
        advance = None if progress is None else (lambda at: progress(at, total))
        return replay_ledger(ledger, window or TimeWindow(), advance)


@dataclass(frozen=True)
class OrderAudit:
    """One order rebuilt from its events up to a point, and each decision with its inputs."""

    order: SmartOrder
    state: dict[str, Any]
    decisions: list[DecisionEntry] = field(default_factory=list)


def audit_order(
    settings: Settings, identifier: str, *, as_of: datetime | None = None, version: int | None = None
) -> OrderAudit:
    """The order named by its id, a client order id or a broker order id, as it stood at
    ``as_of`` or at ``version`` (default: now)."""
    if as_of is not None and version is not None:
        raise BadArgument("--as-of and --version: give one, not both")
    with open_ledger(settings.database, read_only=True) as ledger:
        order_id = resolve_order_id(ledger, identifier)
        events = ledger.events_of(order_id)
        if as_of is not None:
            events = [e for e in events if e.occurred_at <= as_of]
            if not events:
                raise BadArgument(f"--as-of: order {order_id} was not yet requested at {as_of.isoformat()}")
        elif version is not None:
            if not 1 <= version <= len(events):
                raise BadArgument(f"--version: order {order_id} has versions 1 to {len(events)}")
            events = events[:version]
        order: object = ledger.repository.get(order_id, version=events[-1].originator_version)
    assert isinstance(order, SmartOrder)
    requested = events[0] if isinstance(events[0], ev.Requested) else None
    return OrderAudit(order, order_state(order, requested), audit_trail(events))


def resolve_order_id(ledger: Ledger, identifier: str) -> UUID:
    """The order an id names: its own id, a client order id (``<order id>-<n>``), a
    broker order id (looked up in the recorded acceptances and fills) or a unique prefix
    of an order id."""
    text = identifier.strip()
    for candidate in (text, text.rpartition("-")[0]):
        try:
            order_id = UUID(candidate)
        except ValueError:
            continue
        try:
            return ledger.order(order_id).id
        except OrderNotFound:
            continue
    prefix = text.lower() if ORDER_ID_PREFIX.fullmatch(text.lower()) else None
    requested = frozenset(topics_of(ev.Requested)) if prefix is not None else frozenset()
    brokered = (ev.Placed, ev.PartiallyFilled, ev.Filled)
    topics = (*requested, *(t for cls in brokered for t in topics_of(cls)))
    by_prefix: list[str] = []
    for notification in ledger.notifications(topics=topics):  # one pass over the ledger
        if notification.topic in requested:
            order_text = str(notification.originator_id)
            if prefix is not None and order_text.startswith(prefix):
                by_prefix.append(order_text)
        elif ledger.decode_state(notification.state).get("broker_order_id") == text:
            return as_order_id(notification.originator_id)
    return _the_one_with_prefix(text, sorted(by_prefix))


def _the_one_with_prefix(identifier: str, found: list[str]) -> UUID:
    """The one order whose id starts with ``identifier`` (as the tables print ids); the
    candidates when several do. The audit reads the ledger alone, not the read models."""
    if len(found) == 1:
        return UUID(found[0])
    if not found:
        raise BadArgument(f"ID: no order, client order or broker order {identifier!r}")
    more = " and more" if len(found) > CANDIDATES_SHOWN else ""
    shown = ", ".join(found[:CANDIDATES_SHOWN])
    raise BadArgument(f"ID: order id prefix {identifier!r} matches several orders: {shown}{more}")
