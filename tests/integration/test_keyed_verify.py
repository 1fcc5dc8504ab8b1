"""Keyed tamper evidence: rewrites with recomputed hashes, deletions and reorderings are
caught by ``verify`` with the audit key, truncation behind a checkpoint by ``--against``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from execledger.domain.chain import event_hash
from execledger.infrastructure.errors import AuditKeyError
from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.sealing import AuditKey, Checkpoint, SealTable, load_audit_key
from execledger.infrastructure.verification import VerificationReport, verify_ledger

from tests.builders import (
    at,
    cancel,
    delete_record,
    execute_on_store,
    fill,
    insert_record,
    overwrite_state,
    stored_state,
    working_order,
)

KEY = AuditKey(b"an audit key held outside the ledger")
SECRET = "an audit key held outside the ledger"


def _two_orders(database_url: str) -> tuple[UUID, UUID]:
    """busy: 9 events (fill, cancel); quiet: 6 events; both sealed with KEY."""
    busy = working_order()
    fill(busy, "4", execution_id="x-1")
    cancel(busy, when=at(9))
    quiet = working_order(**{"correlation_id": "corr-2"})
    with open_ledger(database_url, audit_key=KEY) as ledger:
        ledger.save_order(busy)
        ledger.save_order(quiet)
    return busy.id, quiet.id


def _verify(database_url: str, key: AuditKey | None = KEY, seal: bool = False) -> VerificationReport:
    with open_ledger(database_url) as ledger:
        seals = SealTable(ledger.recorder.datastore)  # type: ignore[attr-defined]
        report = verify_ledger(ledger, key=key, seals=seals)
        if seal:
            assert key is not None and report.ok
            seals.add(report.head.signed(key))
    return report


def _rewrite(database_url: str, order_id: UUID, version: int, change: dict[str, Any]) -> None:
    """Edit one event as an attacker without the key would: every hash from it on recomputed."""
    with open_ledger(database_url) as ledger:
        events = ledger.recorder.select_events(order_id)
        previous = None
        for stored in events:
            if stored.originator_version < version:
                previous = ledger.decode_state(stored.state)["event_hash"]
                continue
            state = ledger.decode_state(stored.state)
            if stored.originator_version == version:
                state.update(change)
            state["previous_hash"] = previous
            fields = {
                **state,
                "originator_id": stored.originator_id,
                "originator_version": stored.originator_version,
                "topic": stored.topic,
            }
            state["event_hash"] = previous = event_hash(fields)
            overwrite_state(
                database_url, order_id, stored.originator_version, ledger.mapper.transcoder.encode(state)
            )


def _broken(report: VerificationReport) -> list[tuple[UUID | None, int | None]]:
    return [(b.order_id, b.version) for b in report.broken]


def test_a_keyed_ledger_verifies_with_its_key(database_url: str) -> None:
    _two_orders(database_url)
    report = _verify(database_url)
    assert report.ok and report.keys_checked and report.legacy_events == 0


def test_a_rewrite_with_recomputed_hashes_passes_unkeyed_but_not_keyed(database_url: str) -> None:
    """The unkeyed chain cannot tell a consistent rewrite; the MAC can."""
    busy, _ = _two_orders(database_url)
    _rewrite(database_url, busy, 7, {"price": Decimal("99.01")})
    assert _verify(database_url, key=None).ok
    report = _verify(database_url)
    assert _broken(report) == [(busy, 7)]
    assert "event_mac" in report.broken[0].reason


def test_a_wrong_key_is_caught(database_url: str) -> None:
    _two_orders(database_url)
    report = _verify(database_url, key=AuditKey(b"somebody else's key, not ours"))
    assert not report.ok and "event_mac" in report.broken[0].reason


def test_a_changed_class_version_is_caught(database_url: str) -> None:
    """class_version is hashed: edited alone it breaks the hash, rewritten it breaks the MAC."""
    busy, _ = _two_orders(database_url)
    quoted = 3
    state = json.loads(stored_state(database_url, busy, quoted))
    assert state["class_version"] == 2
    state["class_version"] = 1
    overwrite_state(database_url, busy, quoted, json.dumps(state, separators=(",", ":")).encode())
    assert _broken(_verify(database_url, key=None)) == [(busy, quoted)]
    _rewrite(database_url, busy, quoted, {"class_version": 1})  # the hashes recomputed too
    assert _verify(database_url, key=None).ok
    assert _broken(_verify(database_url)) == [(busy, quoted)]


def test_stripping_the_mac_is_caught(database_url: str) -> None:
    busy, _ = _two_orders(database_url)
    state = json.loads(stored_state(database_url, busy, 4))
    del state["event_mac"]
    overwrite_state(database_url, busy, 4, json.dumps(state, separators=(",", ":")).encode())
    report = _verify(database_url)
    assert _broken(report) == [(busy, 4)] and "missing" in report.broken[0].reason


def test_a_deleted_tail_is_caught_by_the_seal(database_url: str) -> None:
    busy, _ = _two_orders(database_url)
    _verify(database_url, seal=True)
    delete_record(database_url, busy, 9)
    delete_record(database_url, busy, 8)
    assert _verify(database_url, key=None).broken  # the root moved: the stored checkpoint disagrees
    report = _verify(database_url)
    assert _broken(report) == [(None, None)]
    assert "checkpoint" in report.broken[0].reason


def test_a_deleted_order_is_caught_by_the_seal(database_url: str) -> None:
    _, quiet = _two_orders(database_url)
    _verify(database_url, seal=True)
    for version in range(1, 7):
        delete_record(database_url, quiet, version)
    report = _verify(database_url)
    assert not report.ok and report.orders_checked == 1


def test_reordered_events_are_caught_by_the_seal(database_url: str) -> None:
    """Two orders' last events taken out and put back in the other order: each chain holds,
    the ledger root does not."""
    busy, quiet = _two_orders(database_url)
    _verify(database_url, seal=True)
    records = {oid: (v, stored_state(database_url, oid, v)) for oid, v in ((busy, 9), (quiet, 6))}
    topics = {
        oid: execute_on_store(
            database_url,
            "SELECT topic FROM {table} WHERE originator_id = {p} AND originator_version = {p}",
            oid.hex if database_url.startswith("sqlite") else oid,
            v,
        )[0][0]
        for oid, (v, _) in records.items()
    }
    for oid, (v, _) in records.items():
        delete_record(database_url, oid, v)
    for oid in (quiet, busy):
        version, state = records[oid]
        insert_record(database_url, oid, version, topics[oid], state)
    report = _verify(database_url)
    assert [b for b in report.broken if b.order_id is not None] == []
    assert _broken(report) == [(None, None)]


def test_a_forged_seal_is_caught(database_url: str) -> None:
    _two_orders(database_url)
    head = _verify(database_url).head
    forged = Checkpoint(head.position, head.count, head.root).signed(AuditKey(b"a forger's key, not ours"))
    with open_ledger(database_url) as ledger:
        seals = SealTable(ledger.recorder.datastore)  # type: ignore[attr-defined]
        seals.add(forged)
    report = _verify(database_url)
    assert not report.ok and "signature" in report.broken[0].reason


def _cli(
    database_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("EXECLEDGER_AUDIT")}
    return subprocess.run(
        [sys.executable, "-m", "execledger.infrastructure.cli.app", "--db", database_url, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**base, **(env or {})},
    )


def test_truncation_behind_a_checkpoint_is_caught_by_against(sqlite_url: str, tmp_path: Path) -> None:
    """A checkpoint file proves the ledger still extends it; a lost tail does not."""
    _, quiet = _two_orders(sqlite_url)
    checkpoint = tmp_path / "checkpoint.json"
    keyed = {"EXECLEDGER_AUDIT_KEY": SECRET}
    written = _cli(sqlite_url, "verify", "--json", "--checkpoint", str(checkpoint), env=keyed)
    assert written.returncode == 0, written.stderr
    saved = json.loads(checkpoint.read_text())
    assert (saved["position"], saved["count"]) == (15, 15) and SECRET not in checkpoint.read_text()

    more = working_order(**{"correlation_id": "corr-3", "idempotency_key": "third"})
    with open_ledger(sqlite_url, audit_key=KEY) as ledger:
        ledger.save_order(more)
    extended = _cli(sqlite_url, "verify", "--json", "--against", str(checkpoint), env=keyed)
    assert extended.returncode == 0, extended.stdout

    delete_record(sqlite_url, quiet, 6)
    truncated = _cli(sqlite_url, "verify", "--json", "--against", str(checkpoint), env=keyed)
    assert truncated.returncode == 1
    assert any(b["order_id"] is None for b in json.loads(truncated.stdout)["broken"])
    assert SECRET not in truncated.stdout + truncated.stderr


def test_without_a_key_verify_says_it_could_not_check_keys(sqlite_url: str) -> None:
    _two_orders(sqlite_url)
    done = _cli(sqlite_url, "verify")
    assert done.returncode == 0
    assert "no audit key" in " ".join(done.stdout.split())


def test_a_checkpoint_needs_the_key(sqlite_url: str, tmp_path: Path) -> None:
    _two_orders(sqlite_url)
    done = _cli(sqlite_url, "verify", "--checkpoint", str(tmp_path / "c.json"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "c.json").exists()


def test_the_key_comes_from_a_file_and_is_never_shown(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text(SECRET + "\n")
    key = load_audit_key(env={"EXECLEDGER_AUDIT_KEY_FILE": str(path)})
    assert key is not None and key.event_mac("ab") == KEY.event_mac("ab")
    assert SECRET not in repr(key) and SECRET not in str(key)
    with pytest.raises(AuditKeyError):
        load_audit_key(env={"EXECLEDGER_AUDIT_KEY": "short"})


def test_verify_names_a_read_model_row_that_disagrees_with_the_events(sqlite_url: str) -> None:
    """The read models are rebuilt, then one row edited: verify exits 1 naming table, order, column."""
    busy, _ = _two_orders(sqlite_url)
    assert _cli(sqlite_url, "projections", "rebuild").returncode == 0
    clean = _cli(sqlite_url, "verify", "--json")
    assert clean.returncode == 0, clean.stdout
    assert json.loads(clean.stdout)["read_models"]["rows_checked"] == 4
    execute_on_store(
        sqlite_url,
        "UPDATE execution_quality SET filled_quantity = {p} WHERE order_id = {p}",
        "5",
        str(busy),
    )
    done = _cli(sqlite_url, "verify", "--json")
    assert done.returncode == 1
    found = json.loads(done.stdout)["read_models"]["disagreements"]
    assert found == [
        {
            "table": "execution_quality",
            "order_id": str(busy),
            "column": "filled_quantity",
            "row": "5",
            "events": "4",
        }
    ]


def test_verify_names_the_events_the_read_models_set_aside_as_poison(sqlite_url: str) -> None:
    """An event no fold can apply (here a fill without its price) is named by verify under
    read_models.projection_errors, beside the chain break it is; exit 1."""
    from tests.integration.test_projection_poison import _poisoned_order

    with open_ledger(sqlite_url, audit_key=KEY) as ledger:
        order_id, version = _poisoned_order(ledger, "fold raises")
    assert _cli(sqlite_url, "projections", "rebuild").returncode == 0
    done = _cli(sqlite_url, "verify", "--json", env={"EXECLEDGER_AUDIT_KEY": SECRET})
    assert done.returncode == 1
    poisoned = json.loads(done.stdout)["read_models"]["projection_errors"]
    assert {(p["order_id"], p["version"]) for p in poisoned} == {(order_id, version)}
    text = _cli(sqlite_url, "verify", env={"EXECLEDGER_AUDIT_KEY": SECRET}).stdout
    assert f"POISON: order {order_id} version {version}" in text
