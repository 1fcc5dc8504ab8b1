"""The fake's REST API on a stdlib ThreadingHTTPServer, with faults injected per route."""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tests.fake_alpaca import wire
from tests.fake_alpaca.faults import Fault
from tests.fake_alpaca.tripwires import Moment, Tripwires

if TYPE_CHECKING:
    from tests.fake_alpaca.server import FakeAlpaca

ORDER_PATH = re.compile(r"^/v2/orders/([0-9a-fA-F-]{36})$")
UNAUTHORIZED = (401, wire.error(40110000, "request is not authorized"))


class _Default(json.JSONEncoder):
    def default(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        return super().default(value)


def rest_server(fake: FakeAlpaca) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 (random port) answering as Alpaca for ``fake``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the fake records requests in ``fake.requests`` instead."""

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            split = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(split.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw, parse_float=Decimal) if raw else {}
            fake.record(method, split.path, query, body)
            if (
                self.headers.get("APCA-API-KEY-ID") != fake.key_id
                or self.headers.get("APCA-API-SECRET-KEY") != fake.secret
            ):
                self._answer(*UNAUTHORIZED)
                return
            symbol = fake.symbol_of(method, split.path, body)
            wire = None if symbol is None else fake.tripwires.count(method, symbol)
            if wire is not None and wire.moment is Moment.BEFORE_HANDLING:
                Tripwires.fire(wire)
                self._drop()
                return
            fault = fake.faults.take(f"{method} {split.path}") or fake.faults.take(method)
            if fault is Fault.TOO_MANY_REQUESTS:
                self._answer(429, wire.error(42910000, "rate limit exceeded"))
                return
            if fault is Fault.SERVER_ERROR:
                self._answer(500, wire.error(50010000, "internal server error"))
                return
            if fault is Fault.STALL:
                time.sleep(fake.faults.stall_seconds)
            status, payload = self._route(method, split.path, query, body, fault)
            if wire is not None:
                Tripwires.fire(wire)
                self._drop()
                return
            if fault is Fault.STALL_AFTER_ACCEPT:
                time.sleep(fake.faults.stall_seconds)
            if fault is Fault.GATEWAY_TIMEOUT_AFTER_ACCEPT:
                self._answer(504, wire.error(50410000, "gateway timeout"))
                return
            if fault is Fault.DROP_AFTER_ACCEPT:
                self._drop()
                return
            self._answer(status, payload)

        def _route(
            self, method: str, path: str, query: dict[str, str], body: dict[str, Any], fault: Fault | None
        ) -> tuple[int, Any]:
            book = fake.book
            match = ORDER_PATH.match(path)
            if path == "/v2/orders" and method == "POST":
                return book.submit(body)
            if path == "/v2/orders" and method == "GET":
                symbols = set(query["symbols"].split(",")) if query.get("symbols") else None
                return book.list(query.get("status", "open"), symbols)
            if path == "/v2/orders:by_client_order_id" and method == "GET":
                return book.get_by_client(query.get("client_order_id", ""))
            if match and method == "GET":
                return book.get(match.group(1))
            if match and method == "DELETE":
                return book.cancel(match.group(1), fill_first=fault is Fault.FILL_RACES_CANCEL)
            if match and method == "PATCH":
                if fault is Fault.REJECT_REPLACE:
                    return 422, wire.error(42210000, "unable to replace order")
                return book.replace(match.group(1), body)
            if path.startswith("/v2/assets/") and method == "GET":
                return book.asset(path.removeprefix("/v2/assets/"))
            if path.startswith("/v2/positions/") and method == "GET":
                return book.position(path.removeprefix("/v2/positions/"))
            if path == "/v2/account" and method == "GET":
                return 200, wire.account()
            if path == "/v2/stocks/quotes/latest" and method == "GET":
                return book.latest_quotes(query.get("symbols", "").split(","))
            return 404, wire.error(40410000, f"no route {method} {path}")

        def _drop(self) -> None:
            """Close the connection without an answer."""
            self.close_connection = True
            self.connection.close()

        def _answer(self, status: int, payload: Any) -> None:
            data = b"" if payload is None else json.dumps(payload, cls=_Default).encode()
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server
