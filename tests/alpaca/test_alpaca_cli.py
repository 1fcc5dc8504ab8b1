"""``execute --venue alpaca-paper`` and ``reconcile`` as a user runs them, against the fake Alpaca."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from execledger.infrastructure.ledger import open_ledger

from tests.alpaca.cli_runs import FAST, execledger
from tests.fake_alpaca import FakeAlpaca
from tests.fake_alpaca.server import SECRET


def batch(tmp_path: Path) -> tuple[str, str]:
    orders = tmp_path / "orders.csv"
    orders.write_text("symbol,side,quantity,idempotency_key\nAAPL,BUY,10,k1\nAAPL,SELL,5,k2\n")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(FAST))
    return str(orders), str(config)


def test_a_batch_runs_at_alpaca_paper_and_a_clean_reconcile_sends_nothing(
    tmp_path: Path, ticking: FakeAlpaca
) -> None:
    """Every order ends terminal; the ledger's fills equal the fake's; one broker order per
    placement; then reconcile looks everything up, appends nothing, sends nothing, exits 0."""
    fake, db = ticking, f"sqlite:///{tmp_path / 'ledger.db'}"
    orders, config = batch(tmp_path)
    done = execledger(fake, db, "execute", orders, "--venue", "alpaca-paper", "--config", config, "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    assert {row["status"] for row in results} == {"completed"}
    assert sorted(Decimal(row["filled_quantity"]) for row in results) == [Decimal(5), Decimal(10)]
    with fake.book.lock:
        broker_filled = sum((o.working.filled for o in fake.book.orders.values()), Decimal(0))
        client_ids = [o.working.client_order_id for o in fake.book.orders.values()]
    assert broker_filled == Decimal(15)
    assert len(client_ids) == len(set(client_ids)) == len(fake.sent("POST"))
    changes_before = len(fake.sent("POST")) + len(fake.sent("DELETE")) + len(fake.sent("PATCH"))
    again = execledger(fake, db, "reconcile", "--venue", "alpaca-paper", "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["clean"] and report["appended"] == [] and report["unknown_at_broker"] == []
    assert len(fake.sent("POST")) + len(fake.sent("DELETE")) + len(fake.sent("PATCH")) == changes_before


def test_the_secret_reaches_no_output_log_or_database(tmp_path: Path, ticking: FakeAlpaca) -> None:
    """With --log-level DEBUG, the API secret is in no output, log line or database file."""
    fake, db_path = ticking, tmp_path / "ledger.db"
    orders, config = batch(tmp_path)
    done = execledger(
        fake,
        f"sqlite:///{db_path}",
        "--log-level",
        "DEBUG",
        "execute",
        orders,
        "--venue",
        "alpaca-paper",
        "--config",
        config,
    )
    assert done.returncode == 0, done.stderr
    assert "placement_requested" in done.stderr  # DEBUG logging really was on
    assert SECRET not in done.stdout and SECRET not in done.stderr
    for stored in tmp_path.glob("ledger.db*"):
        assert SECRET.encode() not in stored.read_bytes()


@pytest.mark.parametrize(
    ("venue", "env", "named"),
    [
        ("alpaca-paper", {"APCA_API_SECRET_KEY": ""}, "APCA_API_SECRET_KEY"),
        ("alpaca-paper", {"APCA_API_KEY_ID": ""}, "APCA_API_KEY_ID"),
        ("alpaca-live", {}, "EXECLEDGER_ALLOW_LIVE"),
    ],
)
def test_missing_keys_or_ungated_live_exit_2_and_send_nothing(
    tmp_path: Path, fake: FakeAlpaca, venue: str, env: dict[str, str], named: str
) -> None:
    """Exit 2 with one line naming the variable; the fake hears nothing."""
    orders, _config = batch(tmp_path)
    refused = execledger(fake, f"sqlite:///{tmp_path / 'l.db'}", "execute", orders, "--venue", venue, **env)
    assert refused.returncode == 2 and named in refused.stderr
    assert fake.requests == [] and fake.hub.trading_connections == 0


@pytest.mark.parametrize("command", ["execute", "reconcile"])
def test_keys_alpaca_refuses_exit_2_at_once_and_write_nothing(
    tmp_path: Path, fake: FakeAlpaca, command: str
) -> None:
    """A wrong secret: Alpaca answers 401; exit 2 naming the key variables before any order
    is written or sent (it used to leave the order NEW and exit 1 after ~7 s of retries)."""
    orders, _config = batch(tmp_path)
    db_path = tmp_path / "l.db"
    wrong = "wrong-secret-7d1e0b6a2c"
    args = (orders, "--venue", "alpaca-paper") if command == "execute" else ("--venue", "alpaca-paper")
    refused = execledger(fake, f"sqlite:///{db_path}", command, *args, APCA_API_SECRET_KEY=wrong)
    assert refused.returncode == 2, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "APCA_API_SECRET_KEY" in refused.stderr and "401" in refused.stderr
    assert wrong not in refused.stderr + refused.stdout
    assert [request for request in fake.requests if request.method != "GET"] == []
    if db_path.exists():
        with open_ledger(f"sqlite:///{db_path}") as ledger:
            assert (ledger.recorder.max_notification_id() or 0) == 0
