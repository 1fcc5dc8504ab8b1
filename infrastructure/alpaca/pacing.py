"""One request pace for the whole process: Alpaca limits requests per key per minute.

Hand-written (about 30 lines) because the calls run on the SDK's blocking ``requests``
session in worker threads: the asyncio limiters (aiolimiter) do not fit, and no
thread-safe limiter is among our dependencies. What it is doing is visible: ``state()``
(the progress display and ``--json`` show it), and a log line each time requests start
waiting.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PacingState:
    """A pacer at one moment: requests waiting now, and the waits so far."""

    requests_per_minute: int
    waiting: int
    waits: int
    waited_seconds: float


class RequestPacer:
    """A token bucket: at most ``per_minute`` requests in any minute, bursts up to a tenth."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._interval = 60.0 / per_minute
        self._capacity = max(1.0, per_minute / 10)
        self._tokens = self._capacity
        self._updated = time.monotonic()
        self._lock = threading.Lock()
        self.waiting = 0
        self.waits = 0
        self.waited_seconds = 0.0

    def acquire(self) -> float:
        """Take one request's slot, sleeping until there is one; returns the wait in seconds."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self._capacity, self._tokens + (now - self._updated) / self._interval)
            self._updated = now
            self._tokens -= 1
            wait = 0.0 if self._tokens >= 0 else -self._tokens * self._interval
            started_waiting = wait > 0 and self.waiting == 0
            if wait > 0:
                self.waiting += 1
                self.waits += 1
        if started_waiting:
            log.info(
                "alpaca_rate_limit_waiting", requests_per_minute=self.per_minute, wait_seconds=round(wait, 3)
            )
        if wait > 0:
            time.sleep(wait)
            with self._lock:
                self.waiting -= 1
                self.waited_seconds += wait
        return wait

    def state(self) -> PacingState:
        with self._lock:
            return PacingState(self.per_minute, self.waiting, self.waits, round(self.waited_seconds, 3))


_shared: dict[int, RequestPacer] = {}
_shared_lock = threading.Lock()


def shared_pacer(per_minute: int) -> RequestPacer:
    """The process's pacer for its configured rate: every client shares it."""
    with _shared_lock:
        return _shared.setdefault(per_minute, RequestPacer(per_minute))


def pacing_states() -> list[PacingState]:
    """The state of every pacer this process made (none before an Alpaca venue is used)."""
    with _shared_lock:
        pacers = list(_shared.values())
    return [pacer.state() for pacer in pacers]
