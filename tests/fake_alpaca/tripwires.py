"""Tripwires: the fake Alpaca calls a test's ``action`` at an exact moment of a client's run.

A crash test arms one to SIGKILL the client process while the fake holds a request:
the Nth ``POST`` or ``DELETE`` of a symbol, before the fake handles it (the broker never
got it) or after (the broker did it, the client never hears so), or right after the Nth
fill of a symbol is published on the trade-updates stream (in the middle of a burst).
A request that trips a wire is not answered: its connection is closed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class Moment(StrEnum):
    """Where a tripwire fires."""

    BEFORE_HANDLING = "before"  # the request arrived; the fake has not acted on it
    AFTER_HANDLING = "after"  # the fake acted on it; the answer is not sent yet
    FILL_PUBLISHED = "fill"  # a fill went out on the trade-updates stream


@dataclass
class Tripwire:
    """Calls ``action`` at the ``nth`` ``route`` (``"POST"``, ``"DELETE"``, ``"fill"``) of
    ``symbol``, at ``moment``."""

    route: str
    symbol: str
    nth: int
    moment: Moment
    action: Callable[[], None]
    seen: int = 0
    fired: threading.Event = field(default_factory=threading.Event)


class Tripwires:
    """The armed tripwires of one fake (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Tripwire] = []

    def arm(self, wire: Tripwire) -> Tripwire:
        with self._lock:
            self._armed.append(wire)
        return wire

    def disarm(self, wire: Tripwire) -> None:
        with self._lock:
            if wire in self._armed:
                self._armed.remove(wire)

    def count(self, route: str, symbol: str) -> Tripwire | None:
        """Count one ``route`` of ``symbol``; the wire whose ``nth`` this is, if any."""
        with self._lock:
            for wire in self._armed:
                if wire.route == route and wire.symbol == symbol:
                    wire.seen += 1
                    if wire.seen == wire.nth:
                        self._armed.remove(wire)
                        return wire
        return None

    @staticmethod
    def fire(wire: Tripwire) -> None:
        wire.action()
        wire.fired.set()
