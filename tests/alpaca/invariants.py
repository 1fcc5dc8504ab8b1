"""What must hold between a ledger and the fake Alpaca after any run, faults and crashes
included: one broker order per placement intent (each broker order is one placement the
ledger recorded, under the broker's id), the ledger's fills equal the broker's, nothing
overfilled, and nothing left working at the broker or open in the ledger."""

from __future__ import annotations

from decimal import Decimal

from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.ports import BrokerOrderStatus

from tests.fake_alpaca import FakeAlpaca

OPEN = frozenset({BrokerOrderStatus.NEW, BrokerOrderStatus.PARTIALLY_FILLED})


def ledger_against_broker(fake: FakeAlpaca, symbol: str, db: str) -> list[str]:
    """What differs between the ledger at ``db`` and the fake's orders in ``symbol``."""
    problems: list[str] = []
    with fake.book.lock:
        broker = {
            o.working.client_order_id: (o.working.filled, o.working.status, o.working.broker_order_id)
            for o in fake.book.orders.values()
            if o.working.symbol == symbol
        }
    seen: set[str] = set()
    with open_ledger(db) as ledger:
        for order_id in ledger.order_ids():
            order = ledger.order(order_id)
            sent = set(order.placements)
            if sent & seen:
                problems.append(f"placements shared between orders: {sent & seen}")
            seen |= sent
            for cid, placement in order.placements.items():
                if cid in broker and placement.broker_order_id != broker[cid][2]:
                    problems.append(f"{cid}: the ledger has broker order {placement.broker_order_id}")
            at_broker = sum((broker[cid][0] for cid in sent if cid in broker), Decimal(0))
            if order.filled_quantity != at_broker:
                problems.append(
                    f"order {order_id}: filled {order.filled_quantity}, at the broker {at_broker}"
                )
            if at_broker > order.quantity or order.overfilled:
                problems.append(f"order {order_id}: overfilled ({at_broker} of {order.quantity})")
            if not order.is_terminal:
                problems.append(f"order {order_id}: still {order.status.value}")
    if set(broker) - seen:
        problems.append(f"broker orders the ledger never recorded: {set(broker) - seen}")
    working = {cid for cid, (_, status, _) in broker.items() if status in OPEN}
    if working:
        problems.append(f"broker orders still working: {working}")
    return problems
