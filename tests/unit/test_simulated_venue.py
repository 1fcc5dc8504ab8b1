"""The simulated venue's matching, idempotency and streams, on hand-written tapes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from execledger.domain.types import OrderType, Quote, Side, TimeInForce
from execledger.infrastructure.errors import BrokerOrderNotFound, CancelRejected, OrderRejected
from execledger.infrastructure.ports import BrokerOrderStatus, OrderUpdate
from execledger.infrastructure.venue import (
    ClockQueue,
    SimulatedVenue,
    broker_order_id_for,
    parse_tape,
    synthetic_tape,
)

#: How long past the tape's end a test's tasks may still run.
OVERRUN = timedelta(hours=1)

T = TypeVar("T")
START = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)
DAY = TimeInForce.DAY

#: AAPL every 5 s; MSFT once (it stands until the tape ends at +10).
TAPE = """timestamp,symbol,bid,ask,bid_size,ask_size
2024-03-01T14:30:00Z,AAPL,100.00,100.10,200,300
2024-03-01T14:30:00Z,MSFT,400.00,400.20,50,60
2024-03-01T14:30:05Z,AAPL,100.02,100.12,200,100
2024-03-01T14:30:10Z,AAPL,100.04,100.14,500,500
2024-03-01T14:30:03Z,LATE,5.00,5.01,10,10
"""


def venue_on(text: str = TAPE, **options: Any) -> SimulatedVenue:
    """A venue on a tape given as CSV text."""
    return SimulatedVenue(sorted_tape(text), **options)


def sorted_tape(text: str) -> list[Quote]:
    """Parse CSV text (rows may be out of order here; the loader insists on order)."""
    header, *rows = text.strip().splitlines()
    return sorted(parse_tape([header, *sorted(rows)]), key=lambda q: q.quoted_at)


def at(seconds: int) -> datetime:
    """START plus ``seconds``."""
    return START + timedelta(seconds=seconds)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine to completion (venue calls need no clock driving)."""
    return asyncio.run(coro)


def run_to_end(venue: SimulatedVenue) -> None:
    """Drive the venue's clock through the whole tape."""
    asyncio.run(venue.clock.run_until(venue.tape_end))


def updates(venue: SimulatedVenue) -> list[OrderUpdate]:
    """Every order update so far, in order."""
    venue.close()

    async def collect() -> list[OrderUpdate]:
        return [update async for update in venue.order_updates()]

    return asyncio.run(collect())


async def buy(venue: SimulatedVenue, coid: str, qty: str, limit: str, symbol: str = "AAPL") -> Any:
    """Place a DAY BUY limit."""
    return await venue.place_limit(
        client_order_id=coid,
        symbol=symbol,
        side=Side.BUY,
        quantity=Decimal(qty),
        limit_price=Decimal(limit),
        time_in_force=DAY,
    )


async def sell(venue: SimulatedVenue, coid: str, qty: str, limit: str) -> Any:
    """Place a DAY SELL limit on AAPL."""
    return await venue.place_limit(
        client_order_id=coid,
        symbol="AAPL",
        side=Side.SELL,
        quantity=Decimal(qty),
        limit_price=Decimal(limit),
        time_in_force=DAY,
    )


def status_of(venue: SimulatedVenue, coid: str) -> BrokerOrderStatus:
    """The broker status of the order placed under ``coid``."""
    order = run(venue.get_by_client_order_id(coid))
    assert order is not None
    return order.status


def fills(venue: SimulatedVenue, coid: str) -> list[tuple[Decimal, Decimal, datetime]]:
    """(quantity, price, time) of each execution of ``coid``."""
    return [
        (u.execution.quantity, u.execution.price, u.execution.executed_at)
        for u in updates(venue)
        if u.execution is not None and u.execution.client_order_id == coid
    ]


def test_a_marketable_buy_limit_fills_at_the_ask_at_once() -> None:
    """limit >= ask: filled on placement at the ask (not the limit)."""
    venue = venue_on()

    order = run(buy(venue, "b1", "100", "100.15"))

    assert order.status is BrokerOrderStatus.FILLED
    assert order.average_fill_price == Decimal("100.10")
    assert order.broker_order_id == broker_order_id_for("b1")
    [new, fill] = updates(venue)
    assert new.order.status is BrokerOrderStatus.NEW
    assert fill.execution is not None
    assert fill.execution.execution_id == f"{order.broker_order_id}-1"
    assert (fill.execution.quantity, fill.execution.price) == (Decimal("100"), Decimal("100.10"))
    assert fill.at == START


def test_a_resting_limit_that_never_becomes_marketable_never_fills() -> None:
    """A BUY below every ask on the tape stays NEW to the end."""
    venue = venue_on()

    run(buy(venue, "b1", "100", "100.05"))
    run_to_end(venue)

    assert status_of(venue, "b1") is BrokerOrderStatus.NEW
    assert fills(venue, "b1") == []


def test_a_resting_sell_fills_at_the_bid_when_the_bid_reaches_it() -> None:
    """SELL limit 100.03 rests, then fills at the +10 bid of 100.04."""
    venue = venue_on()

    run(sell(venue, "s1", "100", "100.03"))
    run_to_end(venue)

    assert fills(venue, "s1") == [(Decimal("100"), Decimal("100.04"), at(10))]


def test_a_partial_fill_by_displayed_size_then_the_rest_on_later_quotes() -> None:
    """BUY 500 @ 100.20: 300 at once, 100 at +5 (its ask size), 100 at +10."""
    venue = venue_on()

    first = run(buy(venue, "b1", "500", "100.20"))
    run_to_end(venue)

    assert first.status is BrokerOrderStatus.PARTIALLY_FILLED
    assert first.filled_quantity == Decimal("300")
    assert fills(venue, "b1") == [
        (Decimal("300"), Decimal("100.10"), at(0)),
        (Decimal("100"), Decimal("100.12"), at(5)),
        (Decimal("100"), Decimal("100.14"), at(10)),
    ]
    final = run(venue.get_by_client_order_id("b1"))
    assert final is not None and final.status is BrokerOrderStatus.FILLED
    assert final.average_fill_price == Decimal("100.112")  # (30030 + 10012 + 10014) / 500


def test_orders_on_the_same_quote_share_its_displayed_size() -> None:
    """Two marketable BUYs of 200 against an ask size of 300: 200, then 100."""
    venue = venue_on()

    first = run(buy(venue, "b1", "200", "100.10"))
    second = run(buy(venue, "b2", "200", "100.10"))

    assert first.filled_quantity == Decimal("200")
    assert second.filled_quantity == Decimal("100")
    assert second.status is BrokerOrderStatus.PARTIALLY_FILLED


def test_resting_orders_are_rematched_in_price_time_priority() -> None:
    """On a new quote the best-priced resting BUY fills first, though placed later."""
    venue = venue_on(
        """timestamp,symbol,bid,ask,bid_size,ask_size
2024-03-01T14:30:00Z,X,9.95,10.05,100,100
2024-03-01T14:30:01Z,X,9.95,10.00,100,150
"""
    )

    run(buy(venue, "early", "100", "10.00", symbol="X"))
    run(buy(venue, "better", "100", "10.02", symbol="X"))
    run_to_end(venue)

    assert fills(venue, "better") == [(Decimal("100"), Decimal("10.00"), at(1))]
    assert fills(venue, "early") == [(Decimal("50"), Decimal("10.00"), at(1))]


def test_a_market_order_fills_everything_at_the_touch() -> None:
    """Market BUY 1000 fills whole at the ask, whatever the displayed size; SELL at the bid."""
    venue = venue_on()

    bought = run(
        venue.place_market(
            client_order_id="m1",
            symbol="AAPL",
            side=Side.BUY,
            quantity=Decimal(1000),
            time_in_force=DAY,
        )
    )
    sold = run(
        venue.place_market(
            client_order_id="m2",
            symbol="AAPL",
            side=Side.SELL,
            quantity=Decimal(7),
            time_in_force=DAY,
        )
    )

    assert (bought.status, bought.filled_quantity) == (BrokerOrderStatus.FILLED, Decimal(1000))
    assert bought.average_fill_price == Decimal("100.10")
    assert bought.order_type is OrderType.MARKET and bought.limit_price is None
    assert sold.average_fill_price == Decimal("100.00")


def test_a_market_order_before_the_first_quote_fills_on_it() -> None:
    """LATE has no quote until +3: the market order waits for it."""
    venue = venue_on()

    order = run(
        venue.place_market(
            client_order_id="m1",
            symbol="LATE",
            side=Side.BUY,
            quantity=Decimal(50),
            time_in_force=DAY,
        )
    )
    run_to_end(venue)

    assert order.status is BrokerOrderStatus.NEW
    assert fills(venue, "m1") == [(Decimal(50), Decimal("5.01"), at(3))]


def test_the_last_quote_of_a_symbol_stands_until_the_tape_ends() -> None:
    """MSFT's only quote (at 0) is still current at +7 and fills a marketable order."""
    venue = venue_on()

    async def later() -> Any:
        await venue.clock.sleep(Decimal(7))
        return await buy(venue, "b1", "10", "400.20", symbol="MSFT")

    async def main() -> Any:
        task = venue.clock.spawn(later())
        await venue.clock.run([task], until=venue.tape_end + OVERRUN)
        return task.result()

    order = asyncio.run(main())

    assert order.status is BrokerOrderStatus.FILLED
    assert fills(venue, "b1") == [(Decimal(10), Decimal("400.20"), at(7))]


def test_a_duplicate_client_order_id_returns_the_existing_order() -> None:
    """Placing twice under one client order id creates one order and one fill."""
    venue = venue_on()

    first = run(buy(venue, "b1", "100", "100.10"))
    again = run(buy(venue, "b1", "100", "100.10"))

    assert again == first
    assert len(fills(venue, "b1")) == 1


def test_cancel_rules() -> None:
    """Cancel a resting order once; a second cancel, a filled order or an unknown id fail."""
    venue = venue_on()
    resting = run(buy(venue, "rest", "100", "99.00"))
    filled = run(buy(venue, "fill", "100", "100.10"))

    canceled = run(venue.cancel(resting.broker_order_id))

    assert canceled.status is BrokerOrderStatus.CANCELED
    with pytest.raises(CancelRejected, match="canceled"):
        run(venue.cancel(resting.broker_order_id))
    with pytest.raises(CancelRejected, match="filled"):
        run(venue.cancel(filled.broker_order_id))
    with pytest.raises(BrokerOrderNotFound):
        run(venue.cancel("nope"))
    assert updates(venue)[-1].order.status is BrokerOrderStatus.CANCELED


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"symbol": "ZZZZ"}, "unknown_symbol"),
        ({"quantity": Decimal(0)}, "invalid_quantity"),
        ({"quantity": Decimal("1.5"), "symbol": "MSFT"}, "not_fractionable"),
        ({"symbol": "LATE"}, "not_tradable"),
        ({"limit_price": Decimal("100.105")}, "invalid_tick"),
        ({"limit_price": Decimal("-1")}, "invalid_price"),
    ],
)
def test_bad_placements_are_rejected_with_a_code(kwargs: dict[str, Any], code: str) -> None:
    """Rejections raise OrderRejected(code), publish REJECTED, and store nothing."""
    venue = venue_on(not_fractionable=["MSFT"], not_tradable=["LATE"])
    order: dict[str, Any] = {
        "client_order_id": "x1",
        "symbol": "AAPL",
        "side": Side.BUY,
        "quantity": Decimal(1),
        "limit_price": Decimal("100.10"),
        "time_in_force": DAY,
        **kwargs,
    }

    with pytest.raises(OrderRejected) as caught:
        run(venue.place_limit(**order))

    assert caught.value.code == code
    assert run(venue.get_by_client_order_id("x1")) is None
    assert [u.order.status for u in updates(venue)] == [BrokerOrderStatus.REJECTED]


def test_tradable_and_fractionable_default_to_everything_on_the_tape() -> None:
    """Configurable sets; symbols off the tape are neither."""
    venue = venue_on(not_fractionable=["MSFT"])

    assert venue.symbols == frozenset({"AAPL", "MSFT", "LATE"})
    assert venue.tradable("AAPL") and venue.fractionable("AAPL")
    assert not venue.fractionable("MSFT") and venue.tradable("MSFT")
    assert not venue.tradable("ZZZZ")
    order = run(buy(venue, "frac", "0.5", "100.10"))
    assert order.filled_quantity == Decimal("0.5")


def test_an_ioc_order_cancels_what_does_not_fill_at_once() -> None:
    """IOC BUY 500 against an ask size of 300: 300 filled, the rest canceled."""
    venue = venue_on()

    order = run(
        venue.place_limit(
            client_order_id="ioc",
            symbol="AAPL",
            side=Side.BUY,
            quantity=Decimal(500),
            limit_price=Decimal("100.10"),
            time_in_force=TimeInForce.IOC,
        )
    )

    assert (order.status, order.filled_quantity) == (BrokerOrderStatus.CANCELED, Decimal(300))


def test_quotes_follow_virtual_time_and_the_tape_ends() -> None:
    """latest_quote is None before a symbol's first quote; then the tape quote current as time moves."""
    venue = venue_on()
    seen: list[tuple[datetime, Quote | None]] = []

    async def watcher() -> None:
        for seconds in (0, 3, 5, 10):
            await venue.clock.sleep(Decimal(seconds) - Decimal((venue.now - at(0)).total_seconds()))
            seen.append((venue.now, await venue.latest_quote("LATE" if seconds < 5 else "AAPL")))

    async def main() -> None:
        await venue.clock.run([venue.clock.spawn(watcher())], until=venue.tape_end + OVERRUN)

    asyncio.run(main())

    assert seen[0] == (at(0), None)
    assert [(moment, q.symbol, q.bid) for moment, q in seen[1:] if q is not None] == [
        (at(3), "LATE", Decimal("5.00")),
        (at(5), "AAPL", Decimal("100.02")),
        (at(10), "AAPL", Decimal("100.04")),
    ]
    assert venue.is_finished and venue.tape_end == at(10)


def test_after_the_tape_ends_new_orders_are_refused_and_open_ones_can_be_canceled() -> None:
    """session_closed for placements; the engine cancels what still rests."""
    venue = venue_on()
    resting = run(buy(venue, "b1", "100", "99.00"))

    run_to_end(venue)

    with pytest.raises(OrderRejected) as caught:
        run(buy(venue, "b2", "1", "100.20"))
    assert caught.value.code == "session_closed"
    assert run(venue.cancel(resting.broker_order_id)).status is BrokerOrderStatus.CANCELED


def test_restamped_quotes_carry_the_current_time() -> None:
    """With restamp_quotes, the standing quote is reported as of now."""
    venue = venue_on(restamp_quotes=True)

    async def later() -> Quote | None:
        await venue.clock.sleep(Decimal(4))
        return await venue.latest_quote("MSFT")

    async def main() -> Quote | None:
        task = venue.clock.spawn(later())
        await venue.clock.run([task], until=venue.tape_end + OVERRUN)
        return task.result()

    quote = asyncio.run(main())

    assert quote is not None and quote.quoted_at == at(4) and quote.bid == Decimal("400.00")


LogRow = tuple[str, BrokerOrderStatus, datetime, str | None, Decimal, Decimal | None]


def engine_like_session(seed: int, orders: int) -> tuple[list[LogRow], float]:
    """One task per order plus an update dispatcher, as the engine runs them: place at
    the bid, re-peg to the ask every 10 s twice, then market; cancel at the tape's end."""
    tape = synthetic_tape(["AAA", "BBB", "CCC"], seed=seed, start=START, duration_seconds=1800)
    venue = SimulatedVenue(tape)
    clock = venue.clock
    inboxes = {f"o{n}": ClockQueue[OrderUpdate](clock) for n in range(orders)}

    async def dispatch() -> None:
        async for update in venue.order_updates():
            inboxes[update.order.client_order_id.split("-")[0]].put_nowait(update)

    async def work(name: str, symbol: str, side: Side, quantity: Decimal) -> None:
        await clock.sleep(Decimal(seed % 5 + int(name[1:])))
        filled = Decimal(0)
        quote = await venue.latest_quote(symbol)
        assert quote is not None
        order = await venue.place_limit(
            client_order_id=f"{name}-1",
            symbol=symbol,
            side=side,
            quantity=quantity,
            limit_price=quote.bid if side is Side.BUY else quote.ask,
            time_in_force=DAY,
        )
        for placement in range(2, 100):
            await clock.sleep(Decimal(10))
            filled += sum(u.execution.quantity for u in inboxes[name].drain() if u.execution)
            if filled >= quantity:
                return
            if venue.is_finished:
                await venue.cancel(order.broker_order_id)
                return
            quote = await venue.latest_quote(symbol)
            assert quote is not None
            coid, left = f"{name}-{placement}", quantity - filled
            try:
                if placement <= 3:
                    price = quote.ask if side is Side.BUY else quote.bid
                    await venue.cancel(order.broker_order_id)
                    order = await venue.place_limit(
                        client_order_id=coid,
                        symbol=symbol,
                        side=side,
                        quantity=left,
                        limit_price=price,
                        time_in_force=DAY,
                    )
                else:
                    await venue.cancel(order.broker_order_id)
                    await venue.place_market(
                        client_order_id=coid,
                        symbol=symbol,
                        side=side,
                        quantity=left,
                        time_in_force=DAY,
                    )
            except CancelRejected:
                pass  # filled meanwhile: the fill is in the inbox

    async def main() -> None:
        dispatcher = clock.spawn(dispatch(), name="dispatcher")
        tasks = [
            clock.spawn(
                work(
                    f"o{n}",
                    ["AAA", "BBB", "CCC"][n % 3],
                    [Side.BUY, Side.SELL][n % 2],
                    Decimal(300 + 150 * n),
                ),
                name=f"o{n}",
            )
            for n in range(orders)
        ]
        await venue.clock.run(tasks, until=venue.tape_end + OVERRUN)
        dispatcher.cancel()
        for task in tasks:
            task.result()

    began = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - began
    log: list[LogRow] = [
        (
            u.order.client_order_id,
            u.order.status,
            u.at,
            u.execution.execution_id if u.execution else None,
            u.execution.quantity if u.execution else Decimal(0),
            u.execution.price if u.execution else None,
        )
        for u in updates(venue)
    ]
    return log, elapsed


def test_an_engine_shaped_session_is_deterministic_and_fast() -> None:
    """Same seed, same updates; every order fully filled exactly; well under a second."""
    first, elapsed = engine_like_session(seed=3, orders=12)
    second, _ = engine_like_session(seed=3, orders=12)
    other, _ = engine_like_session(seed=4, orders=12)

    assert first == second
    assert first != other
    assert elapsed < 2.0
    for n in range(12):
        executed = sum((row[4] for row in first if row[0].startswith(f"o{n}-")), Decimal(0))
        assert executed == Decimal(300 + 150 * n)
