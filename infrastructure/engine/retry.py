"""Bounded, retried calls: a timeout on every call, backoff with jitter for transient errors."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar

import structlog
from execledger.domain.config import ExecutionConfig
from execledger.infrastructure.errors import (
    BrokerUnavailable,
    MarketDataError,
    TransientBrokerError,
)
from execledger.infrastructure.ports import Clock

T = TypeVar("T")
log = structlog.get_logger(__name__)


class Retrier:
    """Runs venue calls with the configured timeout, retries and backoff."""

    def __init__(self, config: ExecutionConfig, clock: Clock, *, seed: int = 0) -> None:
        self._config = config
        self._clock = clock
        self._jitter = random.Random(seed)

    async def call(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``, bounded by ``broker_timeout_seconds``, retried on transient errors only."""
        attempts = self._config.retry_max_attempts
        for attempt in range(1, attempts + 1):
            try:
                async with asyncio.timeout(float(self._config.broker_timeout_seconds)):
                    return await call()
            except (TransientBrokerError, MarketDataError, TimeoutError) as error:
                if attempt == attempts:
                    raise BrokerUnavailable(
                        f"{operation} failed {attempts} times: {error or type(error).__name__}"
                    ) from error
                delay = self.backoff(attempt)
                log.warning(
                    "venue_call_retry",
                    operation=operation,
                    attempt=attempt,
                    delay_seconds=str(delay),
                    error=str(error) or type(error).__name__,
                )
                await self._clock.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def backoff(self, attempt: int) -> Decimal:
        """Exponential backoff capped at the maximum, with 50-100 % jitter."""
        base = self._config.retry_initial_backoff_seconds * (2 ** (attempt - 1))
        capped = min(base, self._config.retry_max_backoff_seconds)
        jitter = Decimal(500 + self._jitter.randint(0, 500)) / 1000
        delay: Decimal = (capped * jitter).quantize(Decimal("0.001"))
        return delay
