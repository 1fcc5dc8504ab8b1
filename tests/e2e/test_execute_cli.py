"""``execledger execute`` and ``demo`` as a user runs them: exit codes, messages, the ledger left behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.scenario import TAPES

ESCALATION_TAPE = str(TAPES / "escalation.csv")


def execledger(*args: str, db: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "execledger.infrastructure.cli.app", "--db", db, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def notifications(db: str) -> int:
    from execledger.infrastructure.ledger import open_ledger

    with open_ledger(db) as ledger:
        return ledger.recorder.max_notification_id() or 0


def orders_file(tmp_path: Path, text: str, name: str = "orders.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_execute_works_a_csv_batch_and_reports_json(tmp_path: Path, database_url: str) -> None:
    """A CSV batch on a tape: exit 0, every order terminal, the JSON summary names each order."""
    path = orders_file(tmp_path, "symbol,side,quantity,idempotency_key\nXYZ,BUY,50,k1\nXYZ,SELL,10,k2\n")
    done = execledger("execute", path, "--tape", ESCALATION_TAPE, "--json", db=database_url)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["all_terminal"] is True and summary["created"] == 2
    assert {row["status"] for row in summary["results"]} == {"completed"}
    assert summary["results"][0]["filled_quantity"] == "50"


def test_execute_twice_creates_no_order_and_appends_nothing(tmp_path: Path, sqlite_url: str) -> None:
    """The same file twice: the second run finds every order finished and records nothing."""
    path = orders_file(tmp_path, "symbol,side,quantity\nXYZ,BUY,50\n")
    first = execledger("execute", path, "--tape", ESCALATION_TAPE, "--json", db=sqlite_url)
    assert first.returncode == 0, first.stderr
    before = notifications(sqlite_url)
    second = execledger("execute", path, "--tape", ESCALATION_TAPE, "--json", db=sqlite_url)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["created"] == 0
    assert notifications(sqlite_url) == before


def test_execute_json_orders_file(tmp_path: Path, sqlite_url: str) -> None:
    """A JSON array of objects is an orders file too."""
    rows = [{"symbol": "XYZ", "side": "BUY", "quantity": "5", "urgency": "HIGH", "complete_exit": False}]
    path = orders_file(tmp_path, json.dumps(rows), "orders.json")
    done = execledger("execute", path, "--tape", ESCALATION_TAPE, "--json", db=sqlite_url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"][0]["status"] == "completed"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("symbol,quantity\nXYZ,5\n", "missing column(s): side"),
        ("symbol,side,quantity\nXYZ,HOLD,5\n", "row 1: field 'side'"),
        ("symbol,side,quantity\nXYZ,BUY,5\nXYZ,BUY,-5\n", "row 2: field 'quantity'"),
        ("symbol,side,quantity\nXYZ,BUY,abc\n", "row 1: field 'quantity'"),
        ("symbol,side,quantity\nXYZ,BUY,NaN\n", "row 1: field 'quantity'"),
        ("symbol,side,quantity\nXYZ,BUY,5\nNOPE,BUY,5\n", "row 2: field 'symbol': NOPE is not on the tape"),
        ("symbol,side,quantity,urgency\nXYZ,BUY,5,NOW\n", "row 1: field 'urgency'"),
    ],
)
def test_a_bad_orders_file_is_rejected_before_anything_is_written(
    tmp_path: Path, sqlite_url: str, content: str, expected: str
) -> None:
    """Exit 2, one line naming the row and the field, and an empty ledger."""
    path = orders_file(tmp_path, content)
    done = execledger("execute", path, "--tape", ESCALATION_TAPE, db=sqlite_url)
    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert notifications(sqlite_url) == 0


def test_a_malformed_tape_is_a_clear_error(tmp_path: Path, sqlite_url: str) -> None:
    """A non-numeric price on the tape: exit 2 naming the line and the field."""
    tape = tmp_path / "bad.csv"
    tape.write_text("timestamp,symbol,bid,ask,bid_size,ask_size\n2026-01-05T14:30:00+00:00,XYZ,abc,1,1,1\n")
    path = orders_file(tmp_path, "symbol,side,quantity\nXYZ,BUY,5\n")
    done = execledger("execute", path, "--tape", str(tape), db=sqlite_url)
    assert done.returncode == 2
    assert "bid" in done.stderr and "Traceback" not in done.stderr


def test_a_bad_config_file_names_the_field(tmp_path: Path, sqlite_url: str) -> None:
    """An unknown config field: exit 2 naming it."""
    config = tmp_path / "config.toml"
    config.write_text("max_repegz = 3\n")
    path = orders_file(tmp_path, "symbol,side,quantity\nXYZ,BUY,5\n")
    done = execledger("execute", path, "--tape", ESCALATION_TAPE, "--config", str(config), db=sqlite_url)
    assert done.returncode == 2
    assert "max_repegz" in done.stderr


def test_config_file_changes_the_policy(tmp_path: Path, sqlite_url: str) -> None:
    """max_repegs = 0 from a TOML file: the order escalates without a limit re-peg."""
    config = tmp_path / "config.toml"
    config.write_text("max_repegs = 0\n")
    path = orders_file(tmp_path, "symbol,side,quantity\nXYZ,BUY,50\n")
    done = execledger(
        "execute", path, "--tape", ESCALATION_TAPE, "--config", str(config), "--json", db=sqlite_url
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["results"][0]
    assert result["repegs"] == 0 and result["escalated"] is True


def test_demo_runs_a_rebalance_into_the_ledger(sqlite_url: str) -> None:
    """``demo --orders 8``: every order terminal, the ledger verifies."""
    done = execledger("demo", "--orders", "8", "--json", db=sqlite_url)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["orders"] == 8 and summary["all_terminal"] is True
    assert execledger("verify", db=sqlite_url).returncode == 0
