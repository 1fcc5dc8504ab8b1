"""Seeing another process's commits to a SQLite file: ``PRAGMA data_version``, checked often.

SQLite has no notification channel between processes (PostgreSQL has LISTEN/NOTIFY).
``PRAGMA data_version`` on a connection changes whenever another connection has committed
to the file since it was last asked; it reads the WAL index in shared memory, so asking
costs microseconds and touches no table. A follower in another process is then woken
within a few milliseconds of a commit instead of at its next poll (which reads the
tracking and the log: a fraction of a millisecond, so it is kept at the poll interval).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

from execledger.projections.errors import ProjectionStoreUnavailable

#: How often the file's data version is checked, in seconds (a commit is seen within this).
CHECK_SECONDS = 0.002


class CommitWatcher:
    """Calls ``wake`` after any other connection commits to the file, until ``stop``."""

    def __init__(self, path: str, wake: Callable[[], None], check_seconds: float = CHECK_SECONDS) -> None:
        try:
            self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise ProjectionStoreUnavailable(f"cannot watch {path} for commits: {error}") from error
        self._wake = wake
        self._check_seconds = check_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="projection-commit-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and close the connection."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(1.0)
        self._connection.close()

    def _watch(self) -> None:
        last = self._data_version()
        while not self._stopping.wait(self._check_seconds):
            try:
                current = self._data_version()
            except sqlite3.Error:
                self._wake()  # the file is gone or locked away: the follower's poll carries on
                return
            if current != last:
                last = current
                self._wake()

    def _data_version(self) -> int:
        return int(self._connection.execute("PRAGMA data_version").fetchone()[0])
