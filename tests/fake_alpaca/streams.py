"""The fake's WebSockets: trade updates (JSON) and market data (msgpack), one thread.

Messages published from the HTTP threads go through one queue per stream, so every
client sees them in the order they happened. Messages published while no client is
connected are gone (Alpaca does not replay trade updates either).
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import msgpack
from execledger.domain.types import Quote
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

_DROP = object()


def _authorization(status: str) -> dict[str, Any]:
    return {"stream": "authorization", "data": {"action": "authenticate", "status": status}}


class StreamHub:
    """Serves ``/stream`` (trade updates) and ``/v2/iex`` (quotes) on 127.0.0.1."""

    def __init__(self, key_id: str, secret: str) -> None:
        self._key_id = key_id
        self._secret = secret
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-alpaca-ws", daemon=True)
        self._trading: set[ServerConnection] = set()
        self._data: dict[ServerConnection, set[str]] = {}
        self._trade_queue: asyncio.Queue[Any] | None = None
        self.trading_connections = 0
        self.trading_port = 0
        self.data_port = 0
        self._servers: list[Server] = []
        self.trading_listening = threading.Event()

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def publish(self, message: dict[str, Any]) -> None:
        """Send a trade-update message to every listening client (thread-safe)."""
        assert self._trade_queue is not None
        self._loop.call_soon_threadsafe(self._trade_queue.put_nowait, message)

    def drop_trading(self) -> None:
        """Close every trade-updates connection (after what was queued before)."""
        assert self._trade_queue is not None
        self._loop.call_soon_threadsafe(self._trade_queue.put_nowait, _DROP)

    def publish_quote(self, quote: Quote) -> None:
        """Send a quote to the data clients subscribed to its symbol (thread-safe)."""
        message = {
            "T": "q",
            "S": quote.symbol,
            "bx": "V",
            "bp": float(quote.bid),
            "bs": float(quote.bid_size),
            "ax": "V",
            "ap": float(quote.ask),
            "as": float(quote.ask_size),
            "c": ["R"],
            "z": "C",
            "t": msgpack.Timestamp.from_datetime(quote.quoted_at),
        }
        asyncio.run_coroutine_threadsafe(self._send_quote(quote.symbol, message), self._loop).result(10)

    async def _start(self) -> None:
        self._trade_queue = asyncio.Queue()
        self._servers.append(await serve(self._trading_client, "127.0.0.1", 0))
        self._servers.append(await serve(self._data_client, "127.0.0.1", 0))
        self.trading_port = self._servers[0].sockets[0].getsockname()[1]
        self.data_port = self._servers[1].sockets[0].getsockname()[1]
        self._broadcaster = asyncio.create_task(self._broadcast())

    async def _stop(self) -> None:
        self._broadcaster.cancel()
        for server in self._servers:
            server.close()
            await server.wait_closed()

    async def _broadcast(self) -> None:
        assert self._trade_queue is not None
        while True:
            message = await self._trade_queue.get()
            if message is _DROP:
                self.trading_listening.clear()
                for connection in list(self._trading):
                    await connection.close()
                continue
            text = json.dumps(message)
            for connection in list(self._trading):
                try:
                    await connection.send(text)
                except ConnectionClosed:
                    self._trading.discard(connection)

    async def _trading_client(self, connection: ServerConnection) -> None:
        try:
            auth = json.loads(await connection.recv())
            data = auth.get("data", {})
            if data.get("key_id") != self._key_id or data.get("secret_key") != self._secret:
                reply = {
                    "stream": "authorization",
                    "data": {"action": "authenticate", "status": "unauthorized"},
                }
                await connection.send(json.dumps(reply))
                return
            await connection.send(json.dumps(_authorization("authorized")).encode())
            listen = json.loads(await connection.recv())
            streams = listen.get("data", {}).get("streams", [])
            await connection.send(json.dumps({"stream": "listening", "data": {"streams": streams}}))
            self._trading.add(connection)
            self.trading_connections += 1
            self.trading_listening.set()
            await connection.wait_closed()
        except ConnectionClosed:
            pass
        finally:
            self._trading.discard(connection)

    async def _data_client(self, connection: ServerConnection) -> None:
        try:
            await connection.send(msgpack.packb([{"T": "success", "msg": "connected"}]))
            auth = msgpack.unpackb(await connection.recv())
            if auth.get("key") != self._key_id or auth.get("secret") != self._secret:
                await connection.send(msgpack.packb([{"T": "error", "code": 402, "msg": "auth failed"}]))
                return
            await connection.send(msgpack.packb([{"T": "success", "msg": "authenticated"}]))
            self._data[connection] = set()
            async for frame in connection:
                request = msgpack.unpackb(frame)
                if request.get("action") == "subscribe":
                    self._data[connection].update(request.get("quotes", []))
                elif request.get("action") == "unsubscribe":
                    self._data[connection].difference_update(request.get("quotes", []))
                quotes = sorted(self._data[connection])
                await connection.send(
                    msgpack.packb([{"T": "subscription", "trades": [], "quotes": quotes, "bars": []}])
                )
        except ConnectionClosed:
            pass
        finally:
            self._data.pop(connection, None)

    async def _send_quote(self, symbol: str, message: dict[str, Any]) -> None:
        frame = msgpack.packb([message], datetime=False)
        for connection, symbols in list(self._data.items()):
            if symbol in symbols:
                try:
                    await connection.send(frame)
                except ConnectionClosed:
                    self._data.pop(connection, None)

    def data_subscribers(self, symbol: str) -> int:
        return sum(1 for symbols in self._data.values() if symbol in symbols)
