"""FakeAlpaca: the REST server and both WebSockets of one fake account, started together."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any

from execledger.domain.types import Quote

from tests.fake_alpaca.book import FakeBook
from tests.fake_alpaca.faults import Fault, Faults
from tests.fake_alpaca.rest import rest_server
from tests.fake_alpaca.streams import StreamHub
from tests.fake_alpaca.tripwires import Tripwires

KEY_ID = "PKFAKEKEYID0000000"
SECRET = "fake-secret-3f9a1c7e5b2d48e6a0c4"  # distinctive, so tests can grep for leaks


@dataclass(frozen=True)
class Request:
    """One REST request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]


class FakeAlpaca:
    """A fake Alpaca account on 127.0.0.1 (random ports); use as a context manager."""

    def __init__(self, key_id: str = KEY_ID, secret: str = SECRET) -> None:
        self.key_id = key_id
        self.secret = secret
        self.faults = Faults()
        self.hub = StreamHub(key_id, secret)
        self.tripwires = Tripwires()
        self.book = FakeBook(self._publish)
        self.book.lose_next_fill = self._lose_fill
        self.requests: list[Request] = []
        self._requests_lock = threading.Lock()
        self._http = rest_server(self)
        self._http_thread = threading.Thread(
            target=self._http.serve_forever, name="fake-alpaca-http", daemon=True
        )

    def __enter__(self) -> FakeAlpaca:
        self.hub.start()
        self._http_thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._http.shutdown()
        self._http.server_close()
        self.hub.stop()

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def trading_stream_url(self) -> str:
        return f"ws://127.0.0.1:{self.hub.trading_port}/stream"

    @property
    def data_stream_url(self) -> str:
        return f"ws://127.0.0.1:{self.hub.data_port}/v2/iex"

    def environment(self) -> dict[str, str]:
        """The settings that point execledger's Alpaca adapter at this fake."""
        return {
            "APCA_API_KEY_ID": self.key_id,
            "APCA_API_SECRET_KEY": self.secret,
            "EXECLEDGER_ALPACA_TRADING_URL": self.rest_url,
            "EXECLEDGER_ALPACA_DATA_URL": self.rest_url,
            "EXECLEDGER_ALPACA_TRADING_STREAM_URL": self.trading_stream_url,
            "EXECLEDGER_ALPACA_DATA_STREAM_URL": self.data_stream_url,
        }

    # -- the market --------------------------------------------------------------------

    def quote(self, quote: Quote) -> None:
        """Make ``quote`` current: resting orders match against it; data clients get it."""
        self.book.set_quote(quote)
        self.hub.publish_quote(quote)

    def play(self, quotes: Iterable[Quote]) -> None:
        for quote in quotes:
            self.quote(quote)

    # -- what the tests assert on --------------------------------------------------------

    def record(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> None:
        with self._requests_lock:
            self.requests.append(Request(method, path, query, body))

    def sent(self, method: str, path: str = "/v2/orders") -> list[Request]:
        """Requests with ``method`` whose path starts with ``path``."""
        with self._requests_lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(path)]

    def orders_for(self, client_order_id_prefix: str) -> list[dict[str, Any]]:
        """Every broker order whose client order id starts with the prefix (as JSON)."""
        with self.book.lock:
            return [
                order.to_json()
                for cid, order in self.book.by_client.items()
                if cid.startswith(client_order_id_prefix)
            ]

    def filled(self, client_order_id: str) -> Decimal:
        with self.book.lock:
            return self.book.by_client[client_order_id].working.filled

    def executions(self) -> dict[str, tuple[Decimal, Decimal]]:
        """Every execution: id -> (quantity, price)."""
        with self.book.lock:
            return {
                e["execution_id"]: (e["qty"], e["price"])
                for order in self.book.orders.values()
                for e in order.executions
            }

    def symbol_of(self, method: str, path: str, body: dict[str, Any]) -> str | None:
        """The symbol a POST or DELETE of an order is about (for the tripwires)."""
        if method == "POST" and path == "/v2/orders":
            return str(body.get("symbol", ""))
        if method == "DELETE" and path.startswith("/v2/orders/"):
            with self.book.lock:
                order = self.book.orders.get(path.removeprefix("/v2/orders/"))
                return None if order is None else order.working.symbol
        return None

    def _publish(self, message: dict[str, Any]) -> None:
        self.hub.publish(message)
        data = message["data"]
        if data["event"] in ("fill", "partial_fill"):
            wire = self.tripwires.count("fill", data["order"]["symbol"])
            if wire is not None:
                Tripwires.fire(wire)

    def _lose_fill(self) -> bool:
        if self.faults.take("stream") is Fault.DROP_STREAM_ON_FILL:
            self.hub.drop_trading()
            return True
        return False
