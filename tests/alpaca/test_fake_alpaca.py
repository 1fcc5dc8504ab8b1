"""The fake Alpaca speaks Alpaca's wire protocol: the real alpaca-py clients accept it."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal
from typing import Any

import pytest
from alpaca.common.exceptions import APIError
from alpaca.data.enums import DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.live import StockDataStream
from alpaca.data.requests import StockLatestQuoteRequest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest, ReplaceOrderRequest
from alpaca.trading.stream import TradingStream
from execledger.domain.types import OrderType, Side
from execledger.domain.types import TimeInForce as OurTimeInForce
from execledger.infrastructure.bootstrap import simulated_venue

from tests.builders import a_quote, at
from tests.fake_alpaca import FakeAlpaca


def trading(fake: FakeAlpaca, secret: str | None = None) -> TradingClient:
    client = TradingClient(fake.key_id, secret or fake.secret, url_override=fake.rest_url)
    client._retry = 0
    return client


def limit(cid: str, qty: float, price: float, side: OrderSide = OrderSide.BUY) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol="AAPL",
        qty=qty,
        side=side,
        time_in_force=TimeInForce.DAY,
        limit_price=price,
        client_order_id=cid,
    )


def test_a_resting_limit_order_round_trips_with_numbers_as_strings(fake: FakeAlpaca) -> None:
    """POST answers Alpaca's order JSON (numbers as strings); lookups by id and client id agree."""
    order = trading(fake).submit_order(limit("c-1", 10, 100.10))
    assert order.client_order_id == "c-1" and order.status == "new"
    assert order.qty == "10" and order.filled_qty == "0" and order.limit_price == "100.1"
    assert trading(fake).get_order_by_client_id("c-1").id == order.id
    assert trading(fake).get_order_by_id(order.id).client_order_id == "c-1"
    assert fake.sent("POST")[0].body["limit_price"] == Decimal("100.1")


def test_a_marketable_limit_fills_at_the_ask_up_to_its_size(fake: FakeAlpaca) -> None:
    """A buy at the ask takes the displayed 200; the rest rests (the simulated venue's rule)."""
    order = trading(fake).submit_order(limit("c-1", 250, 100.50))
    assert order.status == "partially_filled" and order.filled_qty == "200"
    assert order.filled_avg_price == "100.5"
    fake.quote(a_quote(ask_size=Decimal("80"), quoted_at=at(1)))
    assert trading(fake).get_order_by_client_id("c-1").status == "filled"


@pytest.mark.parametrize(
    ("cid", "price", "code", "message"),
    [
        ("x" * 129, 100.10, 40010001, "128 characters"),
        ("c-1", 100.105, 42210000, "sub-penny"),
    ],
)
def test_invalid_orders_are_422_with_alpacas_error_body(
    fake: FakeAlpaca, cid: str, price: float, code: int, message: str
) -> None:
    """Over-long client order ids and sub-penny prices are refused with 422 and a code."""
    with pytest.raises(APIError) as refused:
        trading(fake).submit_order(limit(cid, 10, price))
    assert refused.value.status_code == 422 and refused.value.code == code
    assert message in refused.value.message


def test_a_duplicate_client_order_id_is_422_and_places_nothing(fake: FakeAlpaca) -> None:
    """The second POST with the same client order id is refused; one order exists."""
    trading(fake).submit_order(limit("c-1", 10, 100.10))
    with pytest.raises(APIError) as refused:
        trading(fake).submit_order(limit("c-1", 10, 100.10))
    assert refused.value.status_code == 422 and "must be unique" in refused.value.message
    assert len(fake.orders_for("c-1")) == 1


def test_a_wrong_secret_is_401(fake: FakeAlpaca) -> None:
    """Requests without the account's keys are unauthorized."""
    with pytest.raises(APIError) as refused:
        trading(fake, secret="wrong").get_account()
    assert refused.value.status_code == 401


def test_cancel_replace_and_lookups(fake: FakeAlpaca) -> None:
    """DELETE cancels (204); PATCH makes a new order that replaces the old; unknown ids 404."""
    client = trading(fake)
    first = client.submit_order(limit("c-1", 10, 100.10))
    second = client.replace_order_by_id(
        first.id, ReplaceOrderRequest(qty=4, limit_price=100.2, client_order_id="c-2")
    )
    assert second.replaces == first.id and second.qty == "4"
    assert client.get_order_by_id(first.id).status == "replaced"
    client.cancel_order_by_id(second.id)
    assert client.get_order_by_id(second.id).status == "canceled"
    with pytest.raises(APIError) as refused:
        client.cancel_order_by_id(second.id)
    assert refused.value.status_code == 422
    with pytest.raises(APIError) as missing:
        client.get_order_by_client_id("nobody")
    assert missing.value.status_code == 404
    assert client.get_orders() == []


def test_assets_positions_and_the_latest_quote(fake: FakeAlpaca) -> None:
    """Assets, positions after a fill, and the REST latest quote parse in the SDK."""
    client = trading(fake)
    asset = client.get_asset("AAPL")
    assert asset.tradable and asset.fractionable
    client.submit_order(
        MarketOrderRequest(symbol="AAPL", qty=3, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    assert client.get_open_position("AAPL").qty == "3"
    data = StockHistoricalDataClient(fake.key_id, fake.secret, url_override=fake.rest_url)
    quote = data.get_stock_latest_quote(StockLatestQuoteRequest(symbol_or_symbols="AAPL", feed=DataFeed.IEX))
    assert quote["AAPL"].bid_price == 100.0 and quote["AAPL"].ask_size == 200


def test_the_trade_updates_stream_carries_fills_with_execution_ids(fake: FakeAlpaca) -> None:
    """A fill reaches TradingStream with its execution id, price and quantity."""
    received: list[Any] = []
    stream = TradingStream(fake.key_id, fake.secret, url_override=fake.trading_stream_url)

    async def on_update(update: Any) -> None:
        received.append(update)
        if update.event == "fill":
            await stream.close()
            stream._should_run = False

    stream.subscribe_trade_updates(on_update)
    thread = threading.Thread(target=lambda: asyncio.run(stream._run_forever()), daemon=True)
    thread.start()
    assert fake.hub.trading_listening.wait(10)
    trading(fake).submit_order(limit("c-1", 5, 100.50))
    thread.join(10)
    events = [update.event for update in received]
    assert events == ["new", "fill"]
    assert received[1].qty == 5 and received[1].price == 100.5 and received[1].execution_id is not None


def test_the_data_stream_sends_msgpack_quotes(fake: FakeAlpaca) -> None:
    """StockDataStream authenticates, subscribes and parses a quote with a Timestamp ext."""
    received: list[Any] = []
    stream = StockDataStream(fake.key_id, fake.secret, url_override=fake.data_stream_url)

    async def on_quote(quote: Any) -> None:
        received.append(quote)
        await stream.close()
        stream._should_run = False

    stream.subscribe_quotes(on_quote, "AAPL")
    thread = threading.Thread(target=lambda: asyncio.run(stream._run_forever()), daemon=True)
    thread.start()
    for _ in range(100):
        if fake.hub.data_subscribers("AAPL"):
            break
        threading.Event().wait(0.05)
    fake.quote(a_quote(bid=Decimal("100.01"), quoted_at=at(2)))
    thread.join(10)
    assert received and received[0].bid_price == 100.01 and received[0].timestamp == at(2)


def test_the_same_tape_gives_the_same_fills_through_both_venues(fake: FakeAlpaca) -> None:
    """Orders placed at the same quotes fill the same at the fake Alpaca and the simulated venue."""
    tape = [
        a_quote(quoted_at=at(0)),
        a_quote(ask=Decimal("100.40"), ask_size=Decimal("50"), quoted_at=at(1)),
        a_quote(ask=Decimal("100.20"), ask_size=Decimal("500"), quoted_at=at(2)),
    ]
    orders = [("s-1", Decimal("300"), Decimal("100.45")), ("s-2", Decimal("100"), Decimal("100.30"))]
    _ports, simulated = simulated_venue(tape, standing_quotes_are_current=False)
    client = trading(fake)
    for cid, quantity, price in orders:
        asyncio.run(
            simulated.place_limit(
                client_order_id=cid,
                symbol="AAPL",
                side=Side.BUY,
                quantity=quantity,
                limit_price=price,
                time_in_force=OurTimeInForce.DAY,
            )
        )
        client.submit_order(limit(cid, float(quantity), float(price)))
    asyncio.run(simulated.clock.run_until(simulated.tape_end))
    fake.play(tape[1:])
    for cid, _quantity, _price in orders:
        ours = asyncio.run(simulated.get_by_client_order_id(cid))
        theirs = client.get_order_by_client_id(cid)
        assert ours is not None and ours.order_type is OrderType.LIMIT
        assert Decimal(str(theirs.filled_qty)) == ours.filled_quantity
        assert Decimal(str(theirs.filled_avg_price)) == ours.average_fill_price
