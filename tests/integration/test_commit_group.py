"""Group commit: one transaction per event-loop round, durable before the broker hears of it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from execledger.domain.types import Side, TimeInForce
from execledger.infrastructure.engine.commit_group import CommitGroup, WriteAheadBroker
from execledger.infrastructure.errors import ConcurrentUpdate
from execledger.infrastructure.ledger import Ledger, open_ledger

from tests.builders import a_request, accepted_order, at, new_order


class RecordingBroker:
    """A broker that notes how many of the order's events the ledger held when it was called."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.seen: list[int] = []

    async def cancel(self, broker_order_id: str) -> Any:
        self.seen.append(len(self.ledger.events_of(UUID(broker_order_id))))
        return None


def test_the_saves_of_one_round_are_one_transaction(database_url: str) -> None:
    """Fifty orders saved by fifty tasks in the same round: one commit, every event stored."""
    orders = [new_order(a_request(idempotency_key=f"k-{n}")) for n in range(50)]
    with open_ledger(database_url) as ledger:
        group = CommitGroup(ledger)

        async def work(order: Any) -> None:
            group.save_order(order)
            await group.durable()

        async def main() -> None:
            await asyncio.gather(*(work(order) for order in orders))

        asyncio.run(main())

        assert group.transactions == 1
        assert all(len(ledger.events_of(order.id)) == 1 for order in orders)


def test_a_broker_command_waits_until_the_intent_is_durable(sqlite_url: str) -> None:
    """What a worker staged before calling the broker is in the ledger when the broker is called."""
    order = accepted_order()
    with open_ledger(sqlite_url) as ledger:
        group = CommitGroup(ledger)
        broker = RecordingBroker(ledger)
        gate = WriteAheadBroker(broker, group, lambda: None)  # type: ignore[arg-type]

        async def main() -> None:
            group.save_order(order)
            await gate.cancel(str(order.id))

        asyncio.run(main())

        assert broker.seen == [order.version]


def test_a_refusing_guard_stops_the_command(sqlite_url: str) -> None:
    """The guard (the lease check) runs before each command; when it raises, nothing is sent."""
    with open_ledger(sqlite_url) as ledger:
        broker = RecordingBroker(ledger)

        def refuse() -> None:
            raise ConcurrentUpdate("lease lost")

        gate = WriteAheadBroker(broker, CommitGroup(ledger), refuse)  # type: ignore[arg-type]
        with pytest.raises(ConcurrentUpdate):
            asyncio.run(
                gate.place_market(
                    client_order_id="x-1",
                    symbol="AAPL",
                    side=Side.BUY,
                    quantity=Decimal(1),
                    time_in_force=TimeInForce.DAY,
                )
            )
        assert broker.seen == []


def test_a_conflict_fails_only_the_order_that_conflicts(database_url: str) -> None:
    """Another writer moved order A on: A's task gets ConcurrentUpdate, B's events are saved."""
    stale, fresh = accepted_order(idempotency_key="a"), accepted_order(idempotency_key="b")
    with open_ledger(database_url) as ledger, open_ledger(database_url) as other:
        ledger.save_order(stale)
        rival = other.order(stale.id)
        rival.fail("the rival decided first", occurred_at=at(5))
        other.save_order(rival)
        group = CommitGroup(ledger)
        outcomes: dict[str, str] = {}

        async def work(name: str, order: Any) -> None:
            order.fail(f"{name} decided", occurred_at=at(6))
            group.save_order(order)
            try:
                await group.durable()
                outcomes[name] = "saved"
            except ConcurrentUpdate:
                outcomes[name] = "conflict"

        async def main() -> None:
            await asyncio.gather(work("a", stale), work("b", fresh))

        asyncio.run(main())

        assert outcomes == {"a": "conflict", "b": "saved"}
        assert type(ledger.events_of(fresh.id)[-1]).__name__ == "Failed"
        assert [type(e).__name__ for e in ledger.events_of(stale.id)][-1] == "Failed"
        assert ledger.order(stale.id).version == rival.version
