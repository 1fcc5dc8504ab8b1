"""Ctrl-C during ``execute``: a clean stop, orders as recorded, and a later run resumes them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from execledger.domain.order_events import Placed
from execledger.domain.topics import topics_of
from execledger.infrastructure.ledger import open_ledger

from tests.e2e.test_execute_cli import execledger

#: How long the batch may take to place its first order on a loaded machine.
FIRST_PLACEMENT_DEADLINE_SECONDS = 60.0


def wait_for_first_placement(url: str, process: subprocess.Popen[str]) -> None:
    """Poll the ledger until the running batch has recorded a placement (no fixed sleep)."""
    deadline = time.monotonic() + FIRST_PLACEMENT_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "the batch ended before it was interrupted"
        if Path(url.removeprefix("sqlite:///")).exists():
            with open_ledger(url) as ledger:
                if ledger.recorder.select_notifications(1, 1, topics=topics_of(Placed)):
                    return
        time.sleep(0.05)
    raise AssertionError(f"no placement recorded within {FIRST_PLACEMENT_DEADLINE_SECONDS}s")


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
    wait_for_first_placement(sqlite_url, process)
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
