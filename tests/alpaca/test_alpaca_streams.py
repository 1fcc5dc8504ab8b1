"""Trade updates, quotes and assets through the real alpaca-py streams and clients."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from execledger.domain.types import QuoteSource, Side, TimeInForce
from execledger.infrastructure.alpaca import AlpacaBroker
from execledger.infrastructure.ports import BrokerOrderStatus, OrderUpdate

from tests.alpaca.adapters import adapters_for, run
from tests.builders import a_quote, at
from tests.fake_alpaca import FakeAlpaca, Fault


async def _place(broker: AlpacaBroker, cid: str, quantity: str, price: str) -> None:
    await broker.place_limit(
        client_order_id=cid,
        symbol="AAPL",
        side=Side.BUY,
        quantity=Decimal(quantity),
        limit_price=Decimal(price),
        time_in_force=TimeInForce.DAY,
    )


async def _collect_until(
    broker: AlpacaBroker, fake: FakeAlpaca, act: object, done: object
) -> list[OrderUpdate]:
    updates: list[OrderUpdate] = []
    stream = broker.order_updates()

    async def consume() -> None:
        async for update in stream:
            updates.append(update)
            if done(updates):  # type: ignore[operator]
                return

    consumer = asyncio.create_task(consume())
    assert await asyncio.to_thread(fake.hub.trading_listening.wait, 10)
    await act()  # type: ignore[operator]
    await asyncio.wait_for(consumer, 15)
    await stream.aclose()
    return updates


def test_a_streamed_fill_is_keyed_by_alpacas_execution_id(fake: FakeAlpaca) -> None:
    """new, then fill: the fill's execution id, quantity and price are Alpaca's, in Decimal."""
    broker = adapters_for(fake).broker

    async def act() -> None:
        await _place(broker, "o-1", "10", "100.50")

    updates = run(_collect_until(broker, fake, act, lambda got: any(u.execution is not None for u in got)))
    fills = [u.execution for u in updates if u.execution is not None]
    assert len(fills) == 1 and fills[0].quantity == Decimal("10") and fills[0].price == Decimal("100.5")
    assert set(fake.executions()) == {fills[0].execution_id}


def test_a_fill_lost_with_the_stream_is_recovered_over_rest_after_the_reconnect(fake: FakeAlpaca) -> None:
    """The socket drops while sending a fill: after the reconnect every open order is read
    over REST, so the order's full cumulative fill arrives (as state, without an execution)."""
    broker = adapters_for(fake).broker

    async def act() -> None:
        await _place(broker, "o-1", "10", "100.10")
        fake.faults.arm("stream", Fault.DROP_STREAM_ON_FILL)
        await asyncio.to_thread(fake.quote, a_quote(ask=Decimal("100.10"), quoted_at=at(1)))

    def filled(got: list[OrderUpdate]) -> bool:
        return any(u.order.status is BrokerOrderStatus.FILLED for u in got)

    updates = run(_collect_until(broker, fake, act, filled))
    final = updates[-1]
    assert final.execution is None and final.order.filled_quantity == Decimal("10")
    assert all(u.execution is None for u in updates)
    assert fake.hub.trading_connections == 2


def test_quotes_come_over_rest_and_the_data_stream_in_decimal(fake: FakeAlpaca) -> None:
    """The REST latest quote is the fallback source; streamed quotes are STREAM."""
    market = adapters_for(fake).market_data
    latest = run(market.latest_quote("AAPL"))
    assert latest is not None and latest.bid == Decimal("100.0") and latest.source is QuoteSource.REST
    assert run(market.latest_quote("ZZZZ")) is None

    async def first_streamed() -> object:
        stream = market.quote_stream(["AAPL"])
        task = asyncio.create_task(anext(stream))
        for _ in range(200):
            if fake.hub.data_subscribers("AAPL"):
                break
            await asyncio.sleep(0.05)
        await asyncio.to_thread(fake.quote, a_quote(bid=Decimal("100.01"), quoted_at=at(3)))
        quote = await asyncio.wait_for(task, 10)
        await stream.aclose()
        return quote

    streamed = run(first_streamed())
    assert streamed.bid == Decimal("100.01") and streamed.source is QuoteSource.STREAM  # type: ignore[attr-defined]


def test_assets_and_positions(fake: FakeAlpaca) -> None:
    """Tradable/fractionable from Alpaca's asset; an unknown symbol is not tradable."""
    assets = adapters_for(fake).assets
    fake.book.unfractionable.add("AAPL")
    aapl = run(assets.asset("AAPL"))
    assert aapl.tradable and not aapl.fractionable
    assert not run(assets.asset("ZZZZ")).tradable
    assert run(assets.position("AAPL")) == Decimal(0)
    run(_place(adapters_for(fake).broker, "o-1", "7", "100.50"))
    assert run(assets.position("AAPL")) == Decimal("7")
