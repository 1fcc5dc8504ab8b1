"""A fake Alpaca on 127.0.0.1 per test, quoted with one AAPL quote (100.00 / 100.50)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.builders import a_quote
from tests.fake_alpaca import FakeAlpaca


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    """A running fake Alpaca account whose AAPL book shows 100.00 x 300 / 100.50 x 200."""
    with FakeAlpaca() as server:
        server.quote(a_quote())
        yield server


@pytest.fixture
def ticking(fake: FakeAlpaca) -> Iterator[FakeAlpaca]:
    """The fake's AAPL quote restamped every 0.1 s, so that it stays fresh."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(0.1):
            fake.quote(a_quote(quoted_at=datetime.now(UTC)))

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    yield fake
    stop.set()
    thread.join(5)
