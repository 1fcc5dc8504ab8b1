"""Two ``execute`` processes on one ledger and one file: every order worked once, both exit 0."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from execledger.infrastructure.ledger import open_ledger

from tests.rebalance import write_rebalance_file

ORDERS = 600


def start_execute(path: Path, db: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "execledger.infrastructure.cli.app",
            "--db",
            db,
            "execute",
            str(path),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, dict[str, Any], str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, json.loads(out) if out else {}, err


def test_two_processes_on_one_file_work_every_order_once(tmp_path: Path, database_url: str) -> None:
    """Started together on the same file: each order is worked by exactly one of them, the
    other reports it skipped (or already finished); both exit 0 and no save conflicts."""
    path = write_rebalance_file(tmp_path / "orders.csv", ORDERS)
    first, second = start_execute(path, database_url), start_execute(path, database_url)
    outcomes = [finish(first), finish(second)]

    for code, summary, err in outcomes:
        assert code == 0, err
        assert summary["all_terminal"] is True
        assert "ConcurrentUpdate" not in err and "changed by another writer" not in err
    worked = Counter(
        row["order_id"] for _, summary, _ in outcomes for row in summary["results"] if row["worked_here"]
    )
    assert len(worked) == ORDERS and set(worked.values()) == {1}
    for _, summary, _ in outcomes:
        skipped = {entry["order_id"] for entry in summary["skipped"]}
        mine = {row["order_id"] for row in summary["results"] if row["worked_here"]}
        assert not skipped & mine
    with open_ledger(database_url) as ledger:
        orders = [ledger.order(order_id) for order_id in ledger.order_ids()]
    assert len(orders) == ORDERS and all(order.is_terminal for order in orders)
