"""A follower in another process sees a SQLite commit within milliseconds, not at its poll."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from execledger.projections.sqlite_commits import CommitWatcher


def test_a_commit_by_another_connection_wakes_the_watcher_and_nothing_else_does(tmp_path: Path) -> None:
    path = str(tmp_path / "ledger.db")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE events (n INTEGER)")
    woken = threading.Event()
    watcher = CommitWatcher(path, woken.set, check_seconds=0.001)
    watcher.start()
    try:
        assert not woken.wait(0.1)  # no commit: no wake
        writer.execute("SELECT count(*) FROM events").fetchone()  # a read is no commit
        assert not woken.wait(0.05)
        started = time.monotonic()
        writer.execute("INSERT INTO events VALUES (1)")
        assert woken.wait(2)
        assert time.monotonic() - started < 1.0
        woken.clear()
        writer.execute("INSERT INTO events VALUES (2)")
        assert woken.wait(2)
    finally:
        watcher.stop()
        writer.close()
