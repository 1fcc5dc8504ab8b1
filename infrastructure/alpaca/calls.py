"""Running blocking SDK calls off the event loop, with their failures in our terms.

A call whose answer never came (timeout, dropped connection) or that Alpaca could not
serve (429, 5xx) is ``TransientBrokerError``: its outcome is unknown. Any other non-2xx
answer is ``AlpacaRefusal`` with Alpaca's status, code and message, which the adapter
maps per operation. Messages carry no header and no URL, so never a key.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import requests
import structlog
from alpaca.common.exceptions import APIError
from execledger.infrastructure.errors import BrokerError, TransientBrokerError

T = TypeVar("T")
log = structlog.get_logger(__name__)
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class AlpacaRefusal(BrokerError):
    """Alpaca answered, and said no: HTTP ``status`` with Alpaca's ``code`` and message."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"HTTP {status} ({code}): {message}")


def _refusal(error: APIError) -> AlpacaRefusal | TransientBrokerError:
    status = error.status_code or 0
    try:
        body = json.loads(str(error))
        code, message = body.get("code"), str(body.get("message", ""))
    except (ValueError, AttributeError):
        code, message = None, f"HTTP {status}"
    if status in TRANSIENT_STATUSES:
        return TransientBrokerError(f"Alpaca answered HTTP {status}: {message}")
    return AlpacaRefusal(status, code if isinstance(code, int) else None, message)


async def call(operation: str, function: Callable[[], T]) -> T:
    """``function()`` in a worker thread; SDK and transport errors become ours."""
    try:
        return await asyncio.to_thread(function)
    except APIError as error:
        raise _refusal(error) from None
    except requests.Timeout:
        raise TransientBrokerError(f"{operation}: no answer within the timeout") from None
    except requests.ConnectionError as error:
        reason = type(error.__context__ or error).__name__
        raise TransientBrokerError(f"{operation}: connection failed ({reason})") from None


async def call_idempotent(operation: str, function: Callable[[], T], retries: int, backoff: Decimal) -> T:
    """A read: ``call`` retried ``retries`` times on transient errors, backing off."""
    for attempt in range(retries + 1):
        try:
            return await call(operation, function)
        except TransientBrokerError as error:
            if attempt == retries:
                raise
            delay = float(backoff) * (2**attempt)
            log.warning("alpaca_read_retry", operation=operation, attempt=attempt + 1, error=str(error))
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
