"""Building the real Alpaca adapters against a fake Alpaca, with short test timings."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any, TypeVar

from execledger.infrastructure.alpaca import AlpacaAdapters, AlpacaEnvironment, AlpacaSettings, connect

from tests.fake_alpaca import FakeAlpaca

T = TypeVar("T")
TIMEOUT = Decimal("0.5")


def settings_for(fake: FakeAlpaca, **overrides: Any) -> AlpacaSettings:
    """Settings pointing at ``fake`` (as the environment would), fast retries and reconnects."""
    values: dict[str, Any] = {
        **fake.environment(),
        "EXECLEDGER_ALPACA_REQUESTS_PER_MINUTE": 100_000,
        "EXECLEDGER_ALPACA_GET_RETRY_BACKOFF_SECONDS": "0.01",
        "EXECLEDGER_ALPACA_STREAM_RECONNECT_SECONDS": "0.05",
    }
    values.update(overrides)
    return AlpacaSettings.model_validate(values)


def adapters_for(fake: FakeAlpaca, **overrides: Any) -> AlpacaAdapters:
    return connect(
        settings_for(fake, **overrides),
        AlpacaEnvironment.PAPER,
        timeout_seconds=TIMEOUT,
        cancel_confirm_seconds=Decimal("1"),
    )


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)
