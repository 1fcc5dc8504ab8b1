"""Ctrl-C during ``execute``: a clean stop, orders as recorded, and a later run resumes them."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from tests.e2e.test_execute_cli import execledger


def test_ctrl_c_stops_cleanly_and_the_same_file_resumes(tmp_path: Path, sqlite_url: str) -> None:
    """SIGINT mid-batch: exit 130, no traceback; the ledger verifies; a re-run finishes every order."""
    rows = "\n".join(
        f"{'AAPL' if n % 2 else 'MSFT'},{'BUY' if n % 3 else 'SELL'},{(n % 7 + 1) * 300}" for n in range(400)
    )
    path = tmp_path / "orders.csv"
    path.write_text("symbol,side,quantity\n" + rows + "\n")
    cli = [sys.executable, "-m", "execledger.infrastructure.cli.app"]
    command = [*cli, "--db", sqlite_url, "execute", str(path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_until_working(sqlite_url)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert execledger("verify", db=sqlite_url).returncode == 0

    resumed = execledger("execute", str(path), "--json", db=sqlite_url)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["created"] < 400, "the interrupted run had recorded orders"
    assert summary["all_terminal"] is True
    assert execledger("verify", db=sqlite_url).returncode == 0


def _wait_until_working(sqlite_url: str) -> None:
    """Until the run has recorded more than the batch's requests (it is working orders):
    a fixed sleep interrupts a slow machine's run while it still imports."""
    path = sqlite_url.removeprefix("sqlite:///")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with closing(sqlite3.connect(path, timeout=5)) as connection:
                (count,) = connection.execute("SELECT count(*) FROM stored_events").fetchone()
        except sqlite3.OperationalError:  # the table does not exist yet
            count = 0
        if count > 500:
            return
        time.sleep(0.05)
    raise AssertionError("the run recorded nothing within 60 s")
