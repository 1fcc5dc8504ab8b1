"""Retrier: timeouts on every call, retries only for transient errors, backoff from config."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from execledger.domain.config import ExecutionConfig
from execledger.infrastructure.engine.retry import Retrier
from execledger.infrastructure.errors import BrokerUnavailable, OrderRejected, TransientBrokerError

CONFIG = ExecutionConfig(
    retry_max_attempts=4,
    retry_initial_backoff_seconds=Decimal("0.5"),
    retry_max_backoff_seconds=Decimal("1.5"),
    broker_timeout_seconds=Decimal("0.05"),
)


class RecordingClock:
    """A clock whose sleeps return at once and are written down."""

    def __init__(self) -> None:
        self.slept: list[Decimal] = []

    def now(self) -> datetime:
        return datetime(2026, 1, 5, 14, 30, tzinfo=UTC)

    async def sleep(self, seconds: Decimal) -> None:
        self.slept.append(seconds)


class Flaky:
    """Fails ``failures`` times with ``error``, then answers."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.calls = 0
        self._failures = failures
        self._error = error

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self._failures:
            raise self._error
        return "ok"


def test_transient_errors_are_retried_with_capped_exponential_backoff() -> None:
    """Three transient failures, then success: sleeps of 0.5, 1.0, 1.5 (capped) times 50-100 % jitter."""
    clock, call = RecordingClock(), Flaky(3, TransientBrokerError("503"))
    assert asyncio.run(Retrier(CONFIG, clock).call("place", call)) == "ok"
    assert call.calls == 4
    for slept, base in zip(clock.slept, [Decimal("0.5"), Decimal("1.0"), Decimal("1.5")], strict=True):
        assert base / 2 <= slept <= base


def test_a_rejection_is_not_retried() -> None:
    """A broker refusal is final: one call, no sleep, the error surfaces."""
    clock, call = RecordingClock(), Flaky(5, OrderRejected("insufficient_buying_power", "no"))
    with pytest.raises(OrderRejected):
        asyncio.run(Retrier(CONFIG, clock).call("place", call))
    assert call.calls == 1 and clock.slept == []


def test_retries_stop_at_the_configured_attempts() -> None:
    """Always transient: retry_max_attempts calls, then BrokerUnavailable naming the operation."""
    clock, call = RecordingClock(), Flaky(99, TransientBrokerError("429"))
    with pytest.raises(BrokerUnavailable, match="place failed 4 times"):
        asyncio.run(Retrier(CONFIG, clock).call("place", call))
    assert call.calls == 4 and len(clock.slept) == 3


def test_a_call_that_hangs_times_out_and_is_retried() -> None:
    """A call that never answers is cut at broker_timeout_seconds, counted as transient."""
    calls = 0

    async def hang() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(10)
        return "never"

    with pytest.raises(BrokerUnavailable):
        asyncio.run(Retrier(CONFIG, RecordingClock()).call("cancel", hang))
    assert calls == 4


def test_jitter_is_reproducible_for_a_seed() -> None:
    """Two retriers with the same seed back off identically (replayable simulations)."""
    first, second = Retrier(CONFIG, RecordingClock(), seed=5), Retrier(CONFIG, RecordingClock(), seed=5)
    assert [first.backoff(n) for n in range(1, 6)] == [second.backoff(n) for n in range(1, 6)]
