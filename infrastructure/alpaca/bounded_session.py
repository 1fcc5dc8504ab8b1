"""The SDK's HTTP session made safe: a timeout on every request, the shared pace, no
blind retries.

alpaca-py sets no timeout (alpacahq/alpaca-py#415) and retries 429/504 on every method,
POST included, after a fixed 3 s. We mount an adapter that adds our timeout and waits for
the pacer, and switch the SDK's retries off (``_retry = 0``, the only switch it has):
idempotent GETs are retried by us, placements are resolved by client order id instead.
"""

from __future__ import annotations

from typing import Any

from alpaca.common.rest import RESTClient
from execledger.infrastructure.alpaca.pacing import RequestPacer
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter


class BoundedAdapter(HTTPAdapter):
    """Every request waits for the pacer and carries ``timeout`` seconds."""

    def __init__(self, timeout: float, pacer: RequestPacer) -> None:
        super().__init__(max_retries=0)
        self._timeout = timeout
        self._pacer = pacer

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        self._pacer.acquire()
        return super().send(request, *args, **kwargs)


def bound(client: RESTClient, timeout: float, pacer: RequestPacer) -> None:
    """Give ``client`` our timeout and pace, and turn its own retries off."""
    adapter = BoundedAdapter(timeout, pacer)
    client._session.mount("http://", adapter)
    client._session.mount("https://", adapter)
    client._retry = 0
