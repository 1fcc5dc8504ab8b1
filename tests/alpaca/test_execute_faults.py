"""``execute --venue alpaca-paper`` through Alpaca's faults, as a user runs it.

Each fault ends in the documented state (docs/alpaca.md): the orders complete with the
broker's fills, one broker order per placement intent, nothing overfilled, no call past
its timeout; and the API secret is in no output, log line, event or database file.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from execledger.infrastructure.ledger import open_ledger

from tests.alpaca import forked_cli
from tests.alpaca.cli_runs import FAST, environment_for
from tests.alpaca.invariants import ledger_against_broker
from tests.builders import a_quote
from tests.fake_alpaca import FakeAlpaca, Fault
from tests.fake_alpaca.server import SECRET

#: The faults of issue 9 a running execute meets (a rejected replace is the adapter's:
#: the engine never replaces, see test_alpaca_broker).
POST_FAULTS = [
    Fault.STALL,
    Fault.TOO_MANY_REQUESTS,
    Fault.SERVER_ERROR,
    Fault.GATEWAY_TIMEOUT_AFTER_ACCEPT,
    Fault.DROP_AFTER_ACCEPT,
    Fault.STALL_AFTER_ACCEPT,
]
TIMEOUT_SECONDS = 1


def _files(tmp_path: Path, orders: str, **config: object) -> tuple[str, str, str]:
    orders_file, config_file = tmp_path / "orders.csv", tmp_path / "config.json"
    orders_file.write_text("symbol,side,quantity,idempotency_key\n" + orders)
    config_file.write_text(json.dumps({**FAST, "broker_timeout_seconds": str(TIMEOUT_SECONDS), **config}))
    return str(orders_file), str(config_file), f"sqlite:///{tmp_path / 'ledger.db'}"


def _environment(fake: FakeAlpaca) -> dict[str, str]:
    return environment_for(fake, EXECLEDGER_ALPACA_REQUESTS_PER_MINUTE="100000")


def test_every_fault_during_execute_ends_completed_with_the_brokers_fills(
    tmp_path: Path, ticking: FakeAlpaca
) -> None:
    """POST stalled past the timeout, 429, 500, 504 after acceptance, a dropped connection
    after acceptance, an answer stalled past the timeout after acceptance, a fill racing a
    cancel and a stream dropping with a fill, all in one batch at --log-level DEBUG:
    every order completes with exactly the broker's fills, and the secret leaks nowhere."""
    fake = ticking
    orders, config, db = _files(tmp_path, "AAPL,BUY,10,f1\nAAPL,SELL,7,f2\nAAPL,BUY,300,f3\n")
    fake.faults.stall_seconds = TIMEOUT_SECONDS * 1.5
    for fault in POST_FAULTS:
        fake.faults.arm("POST /v2/orders", fault)
    fake.faults.arm("DELETE", Fault.FILL_RACES_CANCEL)
    fake.faults.arm("stream", Fault.DROP_STREAM_ON_FILL)
    argv = ["--db", db, "--log-level", "DEBUG", "execute", orders, "--venue", "alpaca-paper"]
    started = time.monotonic()
    done = forked_cli.run([*argv, "--config", config, "--json"], _environment(fake), tmp_path / "run.log")
    elapsed = time.monotonic() - started
    assert done.exit_code == 0, done.stderr[-3000:]
    results = json.loads(done.stdout)["results"]
    assert [(r["status"], Decimal(r["filled_quantity"])) for r in results] == [
        ("completed", Decimal(10)),
        ("completed", Decimal(7)),
        ("completed", Decimal(300)),
    ]
    assert fake.faults.take("POST /v2/orders") is None and fake.faults.take("DELETE") is None
    assert ledger_against_broker(fake, "AAPL", db) == []
    assert elapsed < 30, "a call hung past its timeout"
    assert "placement_answer_lost" in done.stderr and "placement_requested" in done.stderr
    assert SECRET not in done.stdout and SECRET not in done.stderr
    for stored in tmp_path.glob("ledger.db*"):
        assert SECRET.encode() not in stored.read_bytes()


def test_a_fill_lost_with_the_stream_is_recorded_by_the_same_execute(
    tmp_path: Path, ticking: FakeAlpaca
) -> None:
    """The trade-updates socket drops while sending the fill of a resting order: after the
    reconnect the open order is read over REST, and this execute records the fill (inferred
    from Alpaca's cumulative quantity) and completes, long before a re-peg would have come."""
    fake = ticking
    orders, config, db = _files(tmp_path, "AAPL,BUY,10,lost-1\n", fill_wait_seconds="20")
    child = forked_cli.start(
        ["--db", db, "execute", orders, "--venue", "alpaca-paper", "--config", config, "--json"],
        _environment(fake),
        tmp_path / "run.log",
    )
    resting = _wait_for_a_resting_order(fake)
    assert fake.hub.trading_listening.wait(10)
    connections = fake.hub.trading_connections
    fake.faults.arm("stream", Fault.DROP_STREAM_ON_FILL)
    limit = Decimal(str(resting["limit_price"]))
    fake.quote(a_quote(ask=limit, ask_size=Decimal(100), quoted_at=datetime.now(UTC)))
    crossed = time.monotonic()
    done = forked_cli.finish(child, tmp_path / "run.log", timeout=15)
    assert done.exit_code == 0, done.stderr[-3000:]
    assert time.monotonic() - crossed < 10  # recorded by the reconnect's check, not a re-peg
    assert fake.hub.trading_connections > connections
    assert ledger_against_broker(fake, "AAPL", db) == []
    with open_ledger(db) as ledger:
        (order_id,) = ledger.order_ids()
        fills = [e for e in ledger.events_of(order_id) if type(e).__name__ in ("Filled", "PartiallyFilled")]
        names = [type(e).__name__ for e in ledger.events_of(order_id)]
    assert len(fills) == 1 and fills[0].inferred and fills[0].quantity == Decimal(10)
    assert "CancelRequested" not in names


def _wait_for_a_resting_order(fake: FakeAlpaca) -> dict[str, object]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with fake.book.lock:
            open_orders = [o.to_json() for o in fake.book.orders.values() if o.status_text == "new"]
        if open_orders:
            return open_orders[0]
        threading.Event().wait(0.02)
    raise AssertionError("no order came to rest at the fake")
