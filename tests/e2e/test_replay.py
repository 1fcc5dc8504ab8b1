"""Audit replay: every decision the engine recorded re-derives from the inputs it recorded."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest
from execledger.domain.order_events import Priced, Repegged
from execledger.domain.replay import replay_decisions
from execledger.domain.requests import OrderRequest
from execledger.infrastructure.ledger import open_ledger

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
        ("price", "100.40 liquidity_aware tick 0.01", "100.02 liquidity_aware tick 0.01")
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
        ("re-peg", "repeg 100.90", "repeg 101.12")
    ]


def test_replay_command_exits_zero_when_every_decision_agrees(sqlite_url: str) -> None:
    """``execledger replay --json`` after a demo: every check agrees, exit 0."""
    assert execledger("demo", "--orders", "6", "--json", db=sqlite_url).returncode == 0
    done = execledger("replay", "--json", db=sqlite_url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["orders"] == 6 and report["decisions"] > 6 and report["disagreements"] == 0
