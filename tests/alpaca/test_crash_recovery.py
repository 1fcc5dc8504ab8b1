"""Crash recovery at Alpaca: ``execute`` SIGKILLed at seeded moments, then run again.

After every run: one broker order per placement intent (every broker order's client order
id is one the ledger recorded, none twice), the ledger's filled quantity equals the
broker's per order, nothing overfilled, and ``verify`` and ``replay`` are clean. Faults
widen the windows the kills aim at: an answer stalled after acceptance (between
PlacementRequested and the broker's answer) and a slow cancel confirmation.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from execledger.infrastructure.ledger import open_ledger

from tests.alpaca.cli_runs import FAST, environment_for, execledger
from tests.fake_alpaca import FakeAlpaca, Fault

SEEDS = [11, 12, 13, 14, 15]


def _kill_during_execute(fake: FakeAlpaca, db: str, orders: str, config: str, after: float) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "execledger.infrastructure.cli.app",
            "--db",
            db,
            "execute",
            orders,
            "--venue",
            "alpaca-paper",
            "--config",
            config,
            "--json",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment_for(fake),
    )
    time.sleep(after)
    process.send_signal(signal.SIGKILL)
    process.wait(30)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_killed_execute_restarts_to_the_brokers_truth(
    tmp_path: Path, ticking: FakeAlpaca, seed: int
) -> None:
    """SIGKILL at a seeded moment (with a seeded fault), restart: the invariants hold."""
    fake, rng = ticking, random.Random(seed)
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "symbol,side,quantity,idempotency_key\nAAPL,BUY,10,k1\nAAPL,SELL,7,k2\nAAPL,BUY,300,k3\n"
    )
    config = tmp_path / "config.json"
    config.write_text(json.dumps(FAST))
    fake.faults.stall_seconds = 1.0
    fault = rng.choice([None, Fault.STALL_AFTER_ACCEPT, Fault.STALL_AFTER_ACCEPT, Fault.STALL])
    if fault is not None:
        fake.faults.arm("POST /v2/orders" if fault is Fault.STALL_AFTER_ACCEPT else "DELETE", fault, times=2)
    _kill_during_execute(fake, db, str(orders), str(config), after=rng.uniform(1.0, 5.0))
    fake.faults.clear()
    done = execledger(
        fake, db, "execute", str(orders), "--venue", "alpaca-paper", "--config", str(config), "--json"
    )
    assert done.returncode == 0, done.stderr
    with fake.book.lock:
        broker = {cid: o.working.filled for cid, o in fake.book.by_client.items()}
    with open_ledger(db) as ledger:
        seen: set[str] = set()
        for order_id in ledger.order_ids():
            order = ledger.order(order_id)
            sent = set(order.placements)
            assert not sent & seen
            seen |= sent
            at_broker = sum((broker.get(cid, Decimal(0)) for cid in sent), Decimal(0))
            assert order.filled_quantity == at_broker, f"order {order_id}"
            assert at_broker <= order.quantity
    assert set(broker) <= seen, "a broker order the ledger never recorded"
    for command in ("verify", "replay"):
        checked = execledger(fake, db, command)
        assert checked.returncode == 0, checked.stdout + checked.stderr
