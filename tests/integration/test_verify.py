"""Tamper evidence: editing or deleting a stored record is found and named by verify."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any
from uuid import UUID

from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.verification import verify_ledger

from tests.builders import (
    a_request,
    at,
    cancel,
    delete_record,
    execute_on_store,
    fill,
    overwrite_state,
    stored_state,
    working_order,
)


def _ledger_with_two_orders(database_url: str) -> tuple[UUID, UUID]:
    """Two orders: one partially filled then canceled (9 events), one working (6 events)."""
    busy = working_order()
    fill(busy, "4", execution_id="x-1")
    cancel(busy, when=at(9))
    quiet = working_order(**{"correlation_id": "corr-2"})
    with open_ledger(database_url) as ledger:
        ledger.save_order(busy)
        ledger.save_order(quiet)
    return busy.id, quiet.id


def _edit(database_url: str, order_id: UUID, version: int, field: str, value: Any) -> None:
    state = json.loads(stored_state(database_url, order_id, version))
    state[field] = value
    encoded = json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode()
    overwrite_state(database_url, order_id, version, encoded)


def _verify_cli(database_url: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "execledger.infrastructure.cli.app", "--db", database_url, "verify", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


def test_an_untampered_ledger_verifies(database_url: str) -> None:
    """Every chain holds: verify_ledger is ok and the CLI exits 0 with the counts."""
    _ledger_with_two_orders(database_url)
    with open_ledger(database_url) as ledger:
        report = verify_ledger(ledger)
    assert report.ok
    assert (report.orders_checked, report.events_checked) == (2, 15)
    code, output = _verify_cli(database_url)
    assert code == 0
    assert {k: output[k] for k in ("ok", "orders_checked", "events_checked", "broken")} == {
        "ok": True,
        "orders_checked": 2,
        "events_checked": 15,
        "broken": [],
    }
    assert output["keys_checked"] is False and "no audit key" in output["note"]


def test_an_edited_field_is_named_by_order_and_version(database_url: str) -> None:
    """Changing a fill's price in the database breaks that event's own hash: exit 1, names it."""
    busy, quiet = _ledger_with_two_orders(database_url)
    _edit(database_url, busy, 7, "price", {"_type_": "decimal_str", "_data_": "99.01"})

    with open_ledger(database_url) as ledger:
        report = verify_ledger(ledger)
        assert str(ledger.events_of(busy)[6].price) == "99.01"  # type: ignore[attr-defined]
    assert not report.ok
    assert [(b.order_id, b.version) for b in report.broken] == [(busy, 7)]
    assert "event_hash" in report.broken[0].reason

    code, output = _verify_cli(database_url)
    assert code == 1
    assert output["broken"] == [{"order_id": str(busy), "version": 7, "reason": report.broken[0].reason}]
    assert str(quiet) not in json.dumps(output["broken"])


def test_an_edited_hash_breaks_the_next_link(database_url: str) -> None:
    """Rewriting an event's hash to match edited fields still breaks the link after it."""
    busy, _ = _ledger_with_two_orders(database_url)
    _edit(database_url, busy, 3, "event_hash", "f" * 64)
    with open_ledger(database_url) as ledger:
        report = verify_ledger(ledger)
    assert [(b.order_id, b.version) for b in report.broken] == [(busy, 3)]


def test_a_changed_event_type_is_caught(database_url: str) -> None:
    """Relabelling a PartiallyFilled record as Filled (same fields) breaks its hash."""
    busy, _ = _ledger_with_two_orders(database_url)
    key = busy.hex if database_url.startswith("sqlite") else busy
    execute_on_store(
        database_url,
        "UPDATE {table} SET topic = {p} WHERE originator_id = {p} AND originator_version = 7",
        "execledger.domain.order_events:Filled",
        key,
    )
    with open_ledger(database_url) as ledger:
        report = verify_ledger(ledger)
    assert [(b.order_id, b.version) for b in report.broken] == [(busy, 7)]


def test_deleting_an_event_breaks_the_chain_at_the_next_version(database_url: str) -> None:
    """With version 5 deleted, verify names version 6 of that order and exits 1."""
    busy, _ = _ledger_with_two_orders(database_url)
    delete_record(database_url, busy, 5)
    with open_ledger(database_url) as ledger:
        report = verify_ledger(ledger)
    assert [(b.order_id, b.version) for b in report.broken] == [(busy, 6)]
    code, output = _verify_cli(database_url)
    assert code == 1
    assert (output["broken"][0]["order_id"], output["broken"][0]["version"]) == (str(busy), 6)


def test_the_text_report_names_the_first_broken_link(database_url: str) -> None:
    """Without --json the CLI prints one BROKEN line naming the order and version."""
    busy, _ = _ledger_with_two_orders(database_url)
    _edit(database_url, busy, 2, "fractionable", False)
    done = subprocess.run(
        [sys.executable, "-m", "execledger.infrastructure.cli.app", "--db", database_url, "verify"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert f"order {busy} version 2" in " ".join(done.stdout.split())


def test_verify_of_a_request_submitted_through_the_ledger(database_url: str) -> None:
    """A submitted order (Requested only) verifies; its first link starts from the genesis hash."""
    with open_ledger(database_url) as ledger:
        order, _ = ledger.submit(a_request(), working_order().config, working_order().created_at)
        report = verify_ledger(ledger)
    assert report.ok and report.events_checked == 1
    assert order.head_hash != "0" * 64
