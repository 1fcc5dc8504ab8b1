"""Orders with realistic lives, built through SmartOrder commands, for the projection tests.

``worked_order(i)`` gives order ``i`` one of eight lives (filled at once, partly
filled then re-pegged, escalated to market, denied, expired, ...), so a ledger of
many of them has every event type of the catalogue. The benchmark generator uses it too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from execledger.domain.config import ExecutionConfig
from execledger.domain.order import SmartOrder
from execledger.domain.requests import OrderRequest
from execledger.domain.types import OrderType, Quote, QuoteSource, TimeInForce

T0 = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)
CONFIG = ExecutionConfig()


def quote(symbol: str, bid: str, ask: str, when: datetime) -> Quote:
    """A streamed quote with sizes 300 / 200."""
    return Quote(
        symbol=symbol,
        bid=Decimal(bid),
        ask=Decimal(ask),
        bid_size=Decimal(300),
        ask_size=Decimal(200),
        quoted_at=when,
        source=QuoteSource.STREAM,
    )


def requested(
    symbol: str,
    side: str,
    quantity: str,
    *,
    key: str,
    correlation_id: str,
    when: datetime,
    account: str = "acct-1",
) -> SmartOrder:
    """A new order (Requested)."""
    request = OrderRequest(
        symbol=symbol,
        side=side,
        quantity=Decimal(quantity),
        account=account,
        correlation_id=correlation_id,
        idempotency_key=key,
    )
    return SmartOrder.request(request, CONFIG, when)


def place(order: SmartOrder, price: str | None, when: datetime, broker_id: str) -> str:
    """PlacementRequested then Placed, for the whole remaining quantity."""
    client_id = order.request_placement(
        order_type=OrderType.LIMIT if price else OrderType.MARKET,
        quantity=order.remaining_quantity,
        limit_price=Decimal(price) if price else None,
        time_in_force=TimeInForce.DAY,
        occurred_at=when,
    )
    order.record_placed(client_id, broker_order_id=broker_id, broker_status="new", occurred_at=when)
    return client_id


def fill(order: SmartOrder, quantity: str, price: str, when: datetime, execution_id: str) -> None:
    """A fill on the live placement."""
    placement = order.live_placement
    assert placement is not None and placement.broker_order_id is not None
    order.record_fill(
        placement.client_order_id,
        execution_id=execution_id,
        quantity=Decimal(quantity),
        price=Decimal(price),
        broker_order_id=placement.broker_order_id,
        occurred_at=when,
    )


def quoted_and_priced(order: SmartOrder, bid: str, ask: str, price: str, when: datetime) -> None:
    """Quoted then Priced."""
    order.record_quote(
        quote(order.symbol, bid, ask, when),
        suspicion_reasons=[],
        fallback_used=False,
        occurred_at=when,
    )
    order.price(
        Decimal(price),
        method="liquidity_aware",
        tick=Decimal("0.01"),
        metadata={"liquidity_score": "80"},
        occurred_at=when,
    )


def worked_order(
    index: int,
    *,
    symbol: str = "AAPL",
    correlation_id: str = "batch-1",
    t0: datetime = T0,
    account: str = "acct-1",
) -> SmartOrder:
    """Order ``index``: one of eight lives, chosen by ``index % 8``; ~8 events on average."""
    life = index % 8
    start = t0 + timedelta(seconds=index)

    def at(seconds: float) -> datetime:
        return start + timedelta(seconds=seconds)

    side = "SELL" if index % 3 == 0 else "BUY"
    order = requested(
        symbol,
        side,
        "100",
        key=f"k-{index}",
        correlation_id=correlation_id,
        when=at(0),
        account=account,
    )
    if life == 6:
        order.deny("not tradable", occurred_at=at(0.5))
        return order
    if life == 2:
        order.adjust_quantity(Decimal("99"), fractionable=False, reason="whole shares", occurred_at=at(0.5))
    else:
        order.validate(tradable=True, fractionable=True, occurred_at=at(0.5))
    quoted_and_priced(order, "100.00", "100.10", "100.04", at(1))
    broker = f"B-{index}"
    if life == 3:
        client_id = order.request_placement(
            order_type=OrderType.LIMIT,
            quantity=order.remaining_quantity,
            limit_price=Decimal("100.04"),
            time_in_force=TimeInForce.DAY,
            occurred_at=at(1.5),
        )
        order.record_placement_rejected(
            client_id,
            error_code="40310000",
            reason="insufficient buying power",
            occurred_at=at(1.6),
        )
        order.fail("broker refused the placement", occurred_at=at(1.7))
        return order
    place(order, "100.04", at(1.5), f"{broker}-1")
    if life in (0, 1, 2):
        fill(order, "40", "100.04", at(2), f"E-{index}-1")
        fill(order, str(order.remaining_quantity), "100.03", at(3), f"E-{index}-2")
    elif life == 4:
        order.repeg(
            Decimal("100.12"),
            bid=Decimal("100.02"),
            ask=Decimal("100.10"),
            reasons=["unfilled"],
            occurred_at=at(11),
        )
        order.request_cancel("re-peg", occurred_at=at(11))
        order.record_canceled("canceled", occurred_at=at(11.2))
        place(order, "100.12", at(11.3), f"{broker}-2")
        fill(order, "100", "100.11", at(12), f"E-{index}-1")
    elif life == 5:
        fill(order, "30", "100.04", at(2), f"E-{index}-1")
        order.escalate("re-pegs exhausted", occurred_at=at(21))
        order.request_cancel("escalation", occurred_at=at(21))
        order.record_canceled("canceled", occurred_at=at(21.1))
        place(order, None, at(21.2), f"{broker}-2")
        fill(order, "70", "100.15", at(21.3), f"E-{index}-1b")
    else:
        order.repeg(
            Decimal("100.12"),
            bid=Decimal("100.02"),
            ask=Decimal("100.10"),
            reasons=["unfilled"],
            occurred_at=at(29),
        )
        order.request_cancel("re-peg", occurred_at=at(29))
        order.record_cancel_rejected("too late to cancel", occurred_at=at(29.5))
        order.request_cancel("session end", occurred_at=at(30))
        order.record_canceled("canceled", occurred_at=at(30.1))
        order.expire("tape ended", occurred_at=at(30.2))
        return order
    order.complete("filled", occurred_at=at(40))
    return order
