"""Faults the fake Alpaca injects on demand, each armed for a number of requests."""

from __future__ import annotations

import threading
from enum import StrEnum


class Fault(StrEnum):
    """What goes wrong with the next matching request (or stream event)."""

    STALL = "stall"  # sleep ``stall_seconds`` before handling: the client times out
    STALL_AFTER_ACCEPT = "stall_after_accept"  # handle, then sleep before answering
    TOO_MANY_REQUESTS = "429"  # answer 429 without handling
    SERVER_ERROR = "500"  # answer 500 without handling
    GATEWAY_TIMEOUT_AFTER_ACCEPT = "504_after_accept"  # handle, then answer 504
    DROP_AFTER_ACCEPT = "drop_after_accept"  # handle, then close the socket unanswered
    REJECT_REPLACE = "reject_replace"  # PATCH answered 422, the order untouched
    FILL_RACES_CANCEL = "fill_races_cancel"  # DELETE: the rest fills first, cancel refused
    DROP_STREAM_ON_FILL = "drop_stream_on_fill"  # the next fill event is lost with the socket


class Faults:
    """Armed faults per route (``"POST /v2/orders"``, ``"DELETE"``, ``"PATCH"``, ``"GET"``,
    ``"stream"``): each ``arm`` fires for the next ``times`` requests on that route."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[str, list[Fault]] = {}
        self.stall_seconds = 2.0

    def arm(self, route: str, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._armed.setdefault(route, []).extend([fault] * times)

    def take(self, route: str) -> Fault | None:
        """The next fault armed for ``route`` (consumed), or None."""
        with self._lock:
            queue = self._armed.get(route)
            return queue.pop(0) if queue else None

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()
