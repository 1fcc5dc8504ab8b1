"""What the best-execution report says about the hash chains, and how it checked them.

A full ``verify`` reads every event; at a million events that takes longer than the report
itself may. So by default the report verifies on top of the latest signed seal in the
ledger (``execledger verify --seal``): the seal's signature is checked with the audit key,
and every event after the seal's position is checked in full (its chain link, its own hash,
its MAC) while the ledger root is extended from the seal's root to the head. The events up to
the seal were verified in full when the seal was made, at the time it records; they are not
re-read, and the statement says so. Without the key a seal cannot be trusted, and without a
seal there is nothing to build on: the report then verifies everything (``full`` does too).
"""

from __future__ import annotations

from typing import Any, Literal

from execledger.infrastructure.ledger import Ledger
from execledger.infrastructure.sealing import AuditKey, Checkpoint, SealTable
from execledger.infrastructure.verification import VerificationReport, verify_ledger

#: How the report checks the chains: on top of the latest seal, every event, or not at all.
ChainCheck = Literal["since-seal", "full", "none"]


def chain_statement(ledger: Ledger, key: AuditKey | None, how: ChainCheck) -> dict[str, Any]:
    """Check the chains as ``how`` says and state exactly what was checked."""
    head = ledger.recorder.max_notification_id() or 0
    if how == "none":
        return {
            "verified": None,
            "method": "not checked",
            "keys_checked": False,
            "ledger_position": head,
            "statement": "The hash chains were not checked for this report (--no-verify).",
        }
    seals = SealTable(ledger.recorder.datastore, create=False)  # type: ignore[attr-defined]
    seal = seals.latest() if how == "since-seal" and key is not None else None
    if seal is not None and seal.signature_holds(key) and seal.position <= head:  # type: ignore[arg-type]
        report = verify_ledger(ledger, key=key, since=seal)
        when = f"at {seal.sealed_at}" if seal.sealed_at else "(the seal records no time)"
        return {
            **_verdict(report, "since last seal"),
            "seal": {**seal.as_json(), "signature_holds": True},
            "statement": (
                f"Events 1 to {seal.position} ({seal.count} events) were verified in full by "
                f"`execledger verify --seal` {when} (its signed seal checked with the audit key); "
                f"they were not re-read for this report. The {report.events_checked} events after "
                f"it, to position {report.head.position}, were verified now: each chain link, "
                "each event's hash and MAC, and the ledger root extended from the seal's. " + _outcome(report)
            ),
        }
    report = verify_ledger(ledger, key=key, seals=seals)
    why = _why_full(how, key, seal, head)
    return {
        **_verdict(report, "full"),
        "seal": None if seal is None else {**seal.as_json(), "signature_holds": _holds(seal, key)},
        "statement": (
            f"Every event, 1 to {report.head.position} ({report.events_checked} events), was verified now: "
            "each chain link and event hash, "
            + ("each MAC with the audit key, " if key is not None else "no MAC (no audit key given), ")
            + f"and the ledger root against {report.checkpoints_checked} stored seal(s). {why}"
            + _outcome(report)
        ),
    }


def _verdict(report: VerificationReport, method: str) -> dict[str, Any]:
    return {
        "verified": report.ok,
        "method": method,
        "keys_checked": report.keys_checked,
        "ledger_position": report.head.position,
        "events_checked": report.events_checked,
        "orders_checked": report.orders_checked,
        "breaks": len(report.broken),
        "first_breaks": [b.as_json() for b in report.broken[:5]],
    }


def _outcome(report: VerificationReport) -> str:
    if report.ok:
        return "Everything checked held."
    return f"{len(report.broken)} break(s) found: run `execledger verify` for the full list."


def _holds(seal: Checkpoint, key: AuditKey | None) -> bool:
    return key is not None and seal.signature_holds(key)


def _why_full(how: ChainCheck, key: AuditKey | None, seal: Any, head: int) -> str:
    if how == "full":
        return "(A full check was asked for.) "
    if key is None:
        return "(No audit key given: a seal cannot be trusted without it.) "
    if seal is None:
        return "(No seal in the ledger yet: `execledger verify --seal` makes one.) "
    if seal.position > head:
        return (
            f"(The latest seal is at position {seal.position}, past the ledger's end at {head}: "
            "the ledger was truncated.) "
        )
    return "(The latest seal's signature does not hold.) "
