"""AlpacaBroker through the real alpaca-py clients against the fake Alpaca, faults included.

Every fault ends with one broker order per client order id and no call past its timeout.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from execledger.domain.types import OrderType, Side, TimeInForce
from execledger.infrastructure.alpaca import AlpacaBroker
from execledger.infrastructure.errors import (
    BrokerOrderNotFound,
    CancelRejected,
    OrderRejected,
    TransientBrokerError,
)
from execledger.infrastructure.ports import BrokerOrder, BrokerOrderStatus

from tests.alpaca.adapters import TIMEOUT, adapters_for, run
from tests.fake_alpaca import FakeAlpaca, Fault


@pytest.fixture
def broker(fake: FakeAlpaca) -> AlpacaBroker:
    return adapters_for(fake).broker


def place(broker: AlpacaBroker, cid: str = "o-1", quantity: str = "10", price: str = "100.10") -> BrokerOrder:
    return run(
        broker.place_limit(
            client_order_id=cid,
            symbol="AAPL",
            side=Side.BUY,
            quantity=Decimal(quantity),
            limit_price=Decimal(price),
            time_in_force=TimeInForce.DAY,
        )
    )


def test_a_limit_order_comes_back_in_decimals(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    """The broker's answer is parsed into Decimal through str; the wire price is the tick price."""
    order = place(broker, quantity="250", price="100.50")
    assert order.status is BrokerOrderStatus.PARTIALLY_FILLED
    assert order.filled_quantity == Decimal("200") and order.average_fill_price == Decimal("100.5")
    assert order.limit_price == Decimal("100.5") and order.order_type is OrderType.LIMIT
    assert fake.sent("POST")[0].body["limit_price"] == Decimal("100.5")


def test_a_price_off_its_tick_is_refused_before_anything_is_sent(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    """A sub-penny price above $1 never reaches Alpaca."""
    with pytest.raises(OrderRejected) as refused:
        place(broker, price="100.105")
    assert refused.value.code == "invalid_tick" and fake.sent("POST") == []


def test_alpacas_422_is_a_rejection_with_its_code(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    """An over-long client order id: Alpaca's 422 becomes OrderRejected carrying Alpaca's code."""
    with pytest.raises(OrderRejected) as refused:
        place(broker, cid="x" * 129)
    assert refused.value.code == "40010001"


@pytest.mark.parametrize(
    "fault", [Fault.GATEWAY_TIMEOUT_AFTER_ACCEPT, Fault.DROP_AFTER_ACCEPT, Fault.STALL_AFTER_ACCEPT]
)
def test_an_accepted_placement_whose_answer_is_lost_is_found_by_client_order_id(
    fake: FakeAlpaca, broker: AlpacaBroker, fault: Fault
) -> None:
    """504/dropped socket/timeout after acceptance: one POST, then the lookup gives the answer."""
    fake.faults.stall_seconds = float(TIMEOUT) * 3
    fake.faults.arm("POST /v2/orders", fault)
    started = time.monotonic()
    order = place(broker)
    assert order.client_order_id == "o-1" and order.status is BrokerOrderStatus.NEW
    assert len(fake.sent("POST")) == 1 and len(fake.orders_for("o-1")) == 1
    assert fake.sent("GET", "/v2/orders:by_client_order_id")
    assert time.monotonic() - started < float(TIMEOUT) * 3


@pytest.mark.parametrize("fault", [Fault.TOO_MANY_REQUESTS, Fault.SERVER_ERROR, Fault.STALL])
def test_a_placement_that_never_arrived_is_transient_and_resent_once(
    fake: FakeAlpaca, broker: AlpacaBroker, fault: Fault
) -> None:
    """429/500/stall before acceptance: no SDK retry; the lookup finds nothing, the error is
    transient; the resend under the same client order id makes exactly one order."""
    fake.faults.stall_seconds = float(TIMEOUT) * 2
    fake.faults.arm("POST /v2/orders", fault)
    started = time.monotonic()
    with pytest.raises(TransientBrokerError):
        place(broker)
    assert time.monotonic() - started < float(TIMEOUT) * 3
    assert len(fake.sent("POST")) == 1
    order = place(broker)
    time.sleep(float(TIMEOUT) * 2 if fault is Fault.STALL else 0)  # the stalled POST lands late
    assert order.status is BrokerOrderStatus.NEW and len(fake.orders_for("o-1")) == 1


def test_a_resend_meeting_the_duplicate_422_returns_the_existing_order(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    """Placing the same client order id again is answered by a lookup, not a second order."""
    first = place(broker)
    again = place(broker)
    assert again.broker_order_id == first.broker_order_id and len(fake.orders_for("o-1")) == 1


def test_a_cancel_is_confirmed_and_refused_when_closed(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    """DELETE then a confirming read: canceled; a second cancel is refused; unknown id is not found."""
    order = place(broker)
    assert run(broker.cancel(order.broker_order_id)).status is BrokerOrderStatus.CANCELED
    with pytest.raises(CancelRejected):
        run(broker.cancel(order.broker_order_id))
    with pytest.raises(BrokerOrderNotFound):
        run(broker.cancel("00000000-0000-4000-8000-00000000dead"))


def test_a_fill_racing_the_cancel_comes_back_as_the_filled_order(
    fake: FakeAlpaca, broker: AlpacaBroker
) -> None:
    """The rest fills before the cancel lands: the cancel's answer is the filled order."""
    order = place(broker)
    fake.faults.arm("DELETE", Fault.FILL_RACES_CANCEL)
    answer = run(broker.cancel(order.broker_order_id))
    assert answer.status is BrokerOrderStatus.FILLED and answer.filled_quantity == Decimal("10")


def test_a_rejected_replace_leaves_the_order_working(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    """PATCH refused: OrderRejected; the old order stays open and nothing new exists."""
    order = place(broker)
    fake.faults.arm("PATCH", Fault.REJECT_REPLACE)
    with pytest.raises(OrderRejected):
        run(
            broker.replace(
                order.broker_order_id,
                client_order_id="o-2",
                quantity=Decimal("10"),
                limit_price=Decimal("100.20"),
            )
        )
    assert run(broker.get_by_broker_order_id(order.broker_order_id)).status is BrokerOrderStatus.NEW
    assert fake.orders_for("o-2") == []


def test_a_replace_sends_an_explicit_whole_quantity(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    """A replace names its quantity (never Alpaca's full-quantity default); fractions are refused."""
    order = place(broker)
    new = run(
        broker.replace(
            order.broker_order_id, client_order_id="o-2", quantity=Decimal("4"), limit_price=Decimal("100.2")
        )
    )
    assert new.quantity == Decimal("4") and fake.sent("PATCH")[0].body["qty"] == 4
    with pytest.raises(OrderRejected):
        run(
            broker.replace(
                new.broker_order_id,
                client_order_id="o-3",
                quantity=Decimal("1.5"),
                limit_price=Decimal("100.2"),
            )
        )
    assert len(fake.sent("PATCH")) == 1


def test_reads_are_retried_on_transient_errors(fake: FakeAlpaca, broker: AlpacaBroker) -> None:
    """A GET answered 500 is asked again; a stalled GET gives up within its timeouts."""
    place(broker)
    fake.faults.arm("GET", Fault.SERVER_ERROR)
    assert run(broker.get_by_client_order_id("o-1")) is not None
    fake.faults.stall_seconds = float(TIMEOUT) * 2
    fake.faults.arm("GET", Fault.STALL, times=3)
    started = time.monotonic()
    with pytest.raises(TransientBrokerError):
        run(broker.get_by_client_order_id("o-1"))
    assert time.monotonic() - started < float(TIMEOUT) * 3 + 1
    assert run(broker.get_by_client_order_id("nobody")) is None


def test_error_messages_never_carry_the_secret(fake: FakeAlpaca) -> None:
    """Refused (401 with a wrong secret), lost (stalled past the timeout) and failed calls
    raise our errors; neither their text nor their chain mentions the secret in use."""
    wrong = "wrong-secret-4be1d07c9f"
    refused = adapters_for(fake, APCA_API_SECRET_KEY=wrong)
    failures: list[BaseException] = []
    for call in (
        lambda: place(refused.broker),
        lambda: run(refused.assets.asset("AAPL")),
        lambda: run(refused.market_data.latest_quote("AAPL")),
    ):
        with pytest.raises(Exception) as raised:
            call()
        failures.append(raised.value)
    fake.faults.stall_seconds = float(TIMEOUT) * 2
    fake.faults.arm("POST /v2/orders", Fault.STALL)
    fake.faults.arm("GET", Fault.STALL, times=3)
    with pytest.raises(TransientBrokerError) as lost:
        place(adapters_for(fake).broker)
    failures.append(lost.value)
    for failure in failures:
        chain = [failure, failure.__cause__, failure.__context__]
        text = " ".join(f"{error!s} {error!r}" for error in chain if error is not None)
        assert wrong not in text and fake.secret not in text and "APCA-API-SECRET-KEY" not in text
