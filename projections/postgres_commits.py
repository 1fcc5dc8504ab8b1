"""Seeing any process's commits to a PostgreSQL ledger: LISTEN on the recorder's channel.

eventsourcing's PostgreSQL recorder sends ``NOTIFY <channel>`` inside every insert of
events, so the notification is delivered when the insert commits, from whichever process
wrote. A listener holds a connection of its own (a LISTENing connection must not be
used for anything else) and wakes the follower for each notification.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import psycopg
from execledger.projections.errors import ProjectionStoreUnavailable
from psycopg import sql

#: How often the listener checks whether it is being stopped, in seconds.
CHECK_SECONDS = 0.5


class CommitListener:
    """Calls ``wake`` for each notification on ``channel``, until ``stop``."""

    def __init__(self, conninfo: Mapping[str, Any], channel: str, wake: Callable[[], None]) -> None:
        try:
            self._connection = psycopg.connect(**conninfo, autocommit=True)
            self._connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        except psycopg.Error as error:
            raise ProjectionStoreUnavailable(f"cannot listen for commits: {error}") from error
        self._wake = wake
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="projection-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop listening; the connection closes as the thread ends."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(CHECK_SECONDS * 2)

    def _listen(self) -> None:
        try:
            while not self._stopping.is_set():
                for _ in self._connection.notifies(timeout=CHECK_SECONDS):
                    self._wake()
        except psycopg.Error:
            self._wake()  # the connection is gone: the follower's poll carries on without it
        finally:
            self._connection.close()
