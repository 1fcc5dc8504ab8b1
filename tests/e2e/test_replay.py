"""Audit replay: every decision the engine recorded re-derives from the inputs it recorded."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from execledger.domain.order_events import Escalated, Placed, PlacementRequested, Priced, Repegged, Requested
from execledger.domain.replay import replay_decisions, replay_order
from execledger.domain.requests import OrderRequest
from execledger.infrastructure.ledger import open_ledger

from tests.builders import overwrite_state, stored_state
from tests.e2e.scenario import request, run_batch
from tests.e2e.test_execute_cli import execledger

SCENARIOS = [
    ("escalation.csv", [request("XYZ", "BUY", "50"), request("XYZ", "SELL", "30")], {}),
    ("sub_dollar.csv", [request("ABC", "SELL", "400"), request("ABC", "BUY", "1000")], {}),
    ("crossed.csv", [request("QQQ", "BUY", "5"), request("QQQ", "SELL", "5", urgency="HIGH")], {}),
    ("short_quiet.csv", [request("XYZ", "BUY", "10.7")], {"not_fractionable": {"XYZ"}}),
]


@pytest.mark.parametrize(("tape", "batch", "venue"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_every_recorded_decision_re_derives(
    sqlite_url: str, tape: str, batch: list[OrderRequest], venue: dict[str, set[str]]
) -> None:
    """Preflight, prices, re-pegs, escalations and no-quote outcomes all replay to the same result."""
    with open_ledger(sqlite_url) as ledger:
        result = run_batch(ledger, tape, batch, **venue)
        checks = [c for order in result.orders for c in replay_decisions(ledger.events_of(order.id))]
    assert checks, "the scenario made decisions"
    assert [c for c in checks if not c.agrees] == []


def test_a_price_that_the_policy_would_not_give_is_caught(sqlite_url: str) -> None:
    """A Priced event whose price does not follow from its quote and config is reported."""
    with open_ledger(sqlite_url) as ledger:
        order = run_batch(ledger, "escalation.csv", [request("XYZ", "BUY", "50")]).orders[0]
        events = ledger.events_of(order.id)
    forged = [
        dataclasses.replace(e, limit_price=Decimal("100.40")) if isinstance(e, Priced) else e for e in events
    ]
    differing = [c for c in replay_decisions(forged) if not c.agrees]
    assert [(c.decision, c.recorded, c.replayed) for c in differing] == [
        ("price", "100.40 liquidity_aware tick 0.01", "100.02 liquidity_aware tick 0.01"),
        ("placement price", "limit 100.02", "limit 100.40"),  # and the placement is not at it
    ]


def test_a_repeg_that_skips_the_policy_is_caught(sqlite_url: str) -> None:
    """A Repegged event with another new price than the policy's is reported."""
    with open_ledger(sqlite_url) as ledger:
        order = run_batch(ledger, "escalation.csv", [request("XYZ", "BUY", "50")]).orders[0]
        events = ledger.events_of(order.id)
    first = next(e for e in events if isinstance(e, Repegged))
    forged = [dataclasses.replace(e, new_price=Decimal("100.90")) if e is first else e for e in events]
    differing = [c for c in replay_decisions(forged) if not c.agrees]
    assert [(c.decision, c.recorded, c.replayed) for c in differing] == [
        ("re-peg", "repeg 100.90", "repeg 101.12"),
        ("placement price", "limit 101.12", "limit 100.90"),
    ]


def _escalation_events(sqlite_url: str) -> list[Any]:
    with open_ledger(sqlite_url) as ledger:
        order = run_batch(ledger, "escalation.csv", [request("XYZ", "BUY", "50")]).orders[0]
        return list(ledger.events_of(order.id))


def _differing(events: list[Any]) -> list[tuple[str, str, str]]:
    return [(c.decision, c.recorded, c.replayed) for c in replay_decisions(events) if not c.agrees]


def test_a_forged_placement_price_is_caught(sqlite_url: str) -> None:
    """A limit placement at another price than the one decided is reported."""
    events = _escalation_events(sqlite_url)
    first = next(e for e in events if isinstance(e, PlacementRequested))
    forged = [dataclasses.replace(e, limit_price=Decimal("99.00")) if e is first else e for e in events]
    assert ("placement price", "limit 99.00", "limit 100.02") in _differing(forged)


def test_a_forged_escalation_quantity_is_caught(sqlite_url: str) -> None:
    events = _escalation_events(sqlite_url)
    forged = [
        dataclasses.replace(e, quantity=Decimal("7")) if isinstance(e, Escalated) else e for e in events
    ]
    found = _differing(forged)
    assert [f for f in found if f[0] == "escalation quantity"] == [("escalation quantity", "7", "10")]


def test_a_too_early_repeg_is_caught(sqlite_url: str) -> None:
    """A re-peg recorded before fill_wait_seconds had passed since the placement is reported."""
    events = _escalation_events(sqlite_url)
    placed = next(e for e in events if isinstance(e, Placed))
    first = next(e for e in events if isinstance(e, Repegged))
    early = placed.occurred_at + timedelta(seconds=3)
    forged = [dataclasses.replace(e, occurred_at=early) if e is first else e for e in events]
    due = [f for f in _differing(forged) if f[0] == "re-peg due"]
    assert len(due) == 1 and due[0][2].startswith("not due: 3")


def test_a_changed_policy_parameter_is_caught(sqlite_url: str) -> None:
    """The same events judged under another recorded config: the re-pegs are no longer due."""
    events = _escalation_events(sqlite_url)
    requested = events[0]
    assert isinstance(requested, Requested)
    config = {**requested.config, "fill_wait_seconds": Decimal("60")}
    forged = [dataclasses.replace(requested, config=config), *events[1:]]
    assert any(f[0] == "re-peg due" and f[2].startswith("not due") for f in _differing(forged))


def test_an_order_of_another_policy_version_is_reported_as_such(sqlite_url: str) -> None:
    events = _escalation_events(sqlite_url)
    replay = replay_order(events)
    assert replay.current_version and replay.mismatches == []
    old = replay_order([dataclasses.replace(events[0], policy_version="0.1"), *events[1:]])
    assert not old.current_version and old.policy_version == "0.1"


def test_replay_command_exits_zero_when_every_decision_agrees(sqlite_url: str) -> None:
    """``execledger replay --json`` after a demo: every check agrees, exit 0."""
    assert execledger("demo", "--orders", "6", "--json", db=sqlite_url).returncode == 0
    done = execledger("replay", "--json", db=sqlite_url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["orders_checked"] == 6 and report["decisions_checked"] > 6 and report["mismatches"] == []
    assert report["other_versions"] == []


def _forge_stored(url: str, order_id: Any, version: int, change: dict[str, Any]) -> None:
    """Rewrite one stored event's fields in the database (replay reads what is stored)."""
    state = json.loads(stored_state(url, order_id, version))
    state.update(change)
    overwrite_state(url, order_id, version, json.dumps(state).encode())


def _decimal(text: str) -> dict[str, str]:
    return {"_type_": "decimal_str", "_data_": text}


FORGERIES: dict[str, tuple[type[Any], Any, str]] = {
    "changed policy parameter": (Requested, None, "re-peg due"),
    "forged placement price": (PlacementRequested, {"limit_price": _decimal("99.00")}, "placement price"),
    "forged escalation quantity": (Escalated, {"quantity": _decimal("7")}, "escalation quantity"),
    "too-early re-peg": (Repegged, None, "re-peg due"),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_the_replay_command_reports_each_forgery_and_exits_1(forgery: str, sqlite_url: str) -> None:
    """Each of the issue's four cases, written into the stored ledger: ``replay --json``
    names order, version, decision, recorded and recomputed, and exits 1."""
    with open_ledger(sqlite_url) as ledger:
        order = run_batch(ledger, "escalation.csv", [request("XYZ", "BUY", "50")]).orders[0]
        events = ledger.events_of(order.id)
    event_class, change, decision = FORGERIES[forgery]
    target = next(e for e in events if isinstance(e, event_class))
    if forgery == "changed policy parameter":
        stored = json.loads(stored_state(sqlite_url, order.id, 1))
        change = {"config": {**stored["config"], "fill_wait_seconds": _decimal("600")}}
    elif forgery == "too-early re-peg":
        placed = next(e for e in events if isinstance(e, Placed))
        early = (placed.occurred_at + timedelta(seconds=1)).isoformat()
        change = {"occurred_at": {"_type_": "datetime_iso", "_data_": early}}
    _forge_stored(sqlite_url, order.id, target.originator_version, change)
    done = execledger("replay", "--json", db=sqlite_url)
    assert done.returncode == 1, done.stdout
    mismatches = json.loads(done.stdout)["mismatches"]
    assert any(m["decision"] == decision and m["order_id"] == str(order.id) for m in mismatches), mismatches
    assert set(mismatches[0]) >= {"order_id", "version", "decision", "recorded", "recomputed"}


@pytest.mark.parametrize(
    "args",
    [("not-an-order",), ("--from", "2026-01-02", "--to", "2026-01-01"), ("--from", "yesterday")],
)
def test_bad_replay_arguments_exit_2_with_one_line(sqlite_url: str, args: tuple[str, ...]) -> None:
    assert execledger("demo", "--orders", "1", "--json", db=sqlite_url).returncode == 0
    done = execledger("replay", *args, db=sqlite_url)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
