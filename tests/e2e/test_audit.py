"""``execledger audit ID``: the order as it stood at each version or instant, and each
decision with its inputs and reasons (the escalation scenario: BUY 50 XYZ, two re-pegs,
then market)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from execledger.domain.order_events import Placed
from execledger.infrastructure.cli.app import app
from execledger.infrastructure.ledger import open_ledger
from typer.testing import CliRunner

from tests.e2e.scenario import request, run_batch
from tests.e2e.test_execute_cli import execledger

#: Status after each version, read off the scenario's event sequence (docs/events.md rules).
STATUS_AT = [
    "new", "accepted", "accepted", "accepted", "pending_new", "working",  # priced, placed
    "working", "working", "pending_cancel", "canceled", "pending_new", "working",  # re-peg 1
    "partially_filled", "partially_filled", "partially_filled", "pending_cancel", "canceled",  # re-peg 2
    "pending_new", "working", "partially_filled", "partially_filled", "partially_filled",
    "pending_cancel", "canceled", "pending_new", "working", "filled", "completed",  # market
]  # fmt: skip
FILLED_AT = {12: "0", 13: "20", 19: "20", 20: "40", 26: "40", 27: "50"}
DECISION_TYPES = {
    "Validated", "Priced", "PlacementRequested", "Repegged", "Escalated", "CancelRequested", "Completed",
}  # fmt: skip


@pytest.fixture
def scenario(sqlite_url: str) -> tuple[str, str, list[str]]:
    with open_ledger(sqlite_url) as ledger:
        order = run_batch(ledger, "escalation.csv", [request("XYZ", "BUY", "50")]).orders[0]
        events = ledger.events_of(order.id)
    broker_ids = [e.broker_order_id for e in events if isinstance(e, Placed)]
    return sqlite_url, str(order.id), broker_ids


def _audit(url: str, *args: str) -> dict[str, Any]:
    """``audit ... --json`` in-process (the subprocess path is tested below)."""
    done = CliRunner().invoke(app, ["--db", url, "audit", *args, "--json"])
    assert done.exit_code == 0, done.output
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_state_at_each_version(scenario: tuple[str, str, list[str]]) -> None:
    url, order_id, _ = scenario
    names: list[str] = []
    for version, status in enumerate(STATUS_AT, start=1):
        result = _audit(url, order_id, "--version", str(version))
        assert result["order"]["version"] == version
        assert result["order"]["status"] == status, version
        if version in FILLED_AT:
            assert result["order"]["filled_quantity"] == FILLED_AT[version], version
        names = [d["decision"] for d in result["decisions"]]
        assert all(name in DECISION_TYPES for name in names)
    assert names.count("Repegged") == 2 and names.count("Escalated") == 1
    assert names[-1] == "Completed"


def test_each_decision_carries_its_inputs_and_reasons(scenario: tuple[str, str, list[str]]) -> None:
    url, order_id, _ = scenario
    decisions = _audit(url, order_id)["decisions"]
    escalation = next(d for d in decisions if d["decision"] == "Escalated")
    assert escalation["inputs"]["quote"]["age_seconds"] is not None
    assert escalation["inputs"]["repegs_done"] == 2 and escalation["inputs"]["remaining_quantity"] == "10"
    assert escalation["reasons"] and escalation["replay_agrees"] is True
    priced = next(d for d in decisions if d["decision"] == "Priced")
    assert priced["inputs"]["quote"]["source"] and priced["replay"][0]["decision"] == "price"


def test_as_of_an_instant_rebuilds_from_the_events_up_to_it(scenario: tuple[str, str, list[str]]) -> None:
    """15 s after the request the order had one partial fill of 20 after the first re-peg
    (version 13)."""
    url, order_id, _ = scenario
    requested_at = datetime.fromisoformat(_audit(url, order_id, "--version", "1")["order"]["last_event_at"])
    result = _audit(url, order_id, "--as-of", (requested_at + timedelta(seconds=15)).isoformat())
    assert result["order"]["version"] == 13 and result["order"]["status"] == "partially_filled"
    assert result["order"]["filled_quantity"] == "20" and result["order"]["repegs"] == 1


def test_client_and_broker_order_ids_name_the_same_order(scenario: tuple[str, str, list[str]]) -> None:
    url, order_id, broker_ids = scenario
    assert _audit(url, f"{order_id}-2")["order"]["order_id"] == order_id
    assert _audit(url, broker_ids[-1])["order"]["order_id"] == order_id


def test_the_narrative_reads_like_the_order_s_story(scenario: tuple[str, str, list[str]]) -> None:
    url, order_id, _ = scenario
    done = execledger("audit", order_id, db=url)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "escalated: the remaining 10 to market" in text and "because:" in text
    assert "status completed" in text


@pytest.mark.parametrize(
    "args",
    [
        ("no-such-order",),
        ("{id}", "--version", "99"),
        ("{id}", "--as-of", "2020-01-01T00:00:00"),
        ("{id}", "--as-of", "yesterday"),
        ("{id}", "--version", "3", "--as-of", "2024-03-01T14:30:15"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    scenario: tuple[str, str, list[str]], args: tuple[str, ...]
) -> None:
    url, order_id, _ = scenario
    done = execledger("audit", *(a.format(id=order_id) for a in args), db=url)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and done.stdout == ""


def test_the_audit_states_the_config_and_policy_version_that_decided(
    scenario: tuple[str, str, list[str]],
) -> None:
    """The decisions' common inputs: the config recorded at the request, and the versions."""
    url, order_id, _ = scenario
    order = _audit(url, order_id)["order"]
    assert order["config"]["fill_wait_seconds"] == "10" and order["config"]["max_repegs"] == 2
    assert order["policy_version"] and order["config_schema_version"] >= 1
