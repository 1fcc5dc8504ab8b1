"""A fake Alpaca on 127.0.0.1 per test, quoted with one AAPL quote (100.00 / 100.50)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.builders import a_quote
from tests.fake_alpaca import FakeAlpaca


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    """A running fake Alpaca account whose AAPL book shows 100.00 x 300 / 100.50 x 200."""
    with FakeAlpaca() as server:
        server.quote(a_quote())
        yield server
