"""Order leases: one owner per order on a ledger; released on exit, taken over after expiry."""

from __future__ import annotations

import time
from uuid import uuid4

import pytest
from execledger.infrastructure.database_url import parse_database_url
from execledger.infrastructure.errors import LeaseLost
from execledger.infrastructure.leases import OrderLeases, open_lease_table


def leases(database_url: str, owner: str, ttl_seconds: float = 30.0) -> OrderLeases:
    return OrderLeases(
        open_lease_table(parse_database_url(database_url)), ttl_seconds=ttl_seconds, owner=owner
    )


def test_an_order_leased_by_one_process_is_held_for_the_other(database_url: str) -> None:
    """A claims two orders; B's claim of them and a third gets only the third, naming A."""
    first, second, third = uuid4(), uuid4(), uuid4()
    with leases(database_url, "A") as a, leases(database_url, "B") as b:
        assert a.claim([first, second]).owned == {first, second}
        claim = b.claim([first, second, third])
        assert claim.owned == {third}
        assert claim.held_by_others == {first: "A", second: "A"}
        assert a.claim([first]).owned == {first}  # claiming one's own again is fine


def test_released_and_exited_leases_are_free_again(database_url: str) -> None:
    """A released order, and every order of a process that exited, can be claimed at once."""
    done, working = uuid4(), uuid4()
    with leases(database_url, "B") as b:
        with leases(database_url, "A") as a:
            a.claim([done, working])
            a.release([done])
            assert b.claim([done, working]).owned == {done}
        assert b.claim([working]).owned == {working}


def test_the_lease_of_a_crashed_process_is_taken_over_after_it_expires(database_url: str) -> None:
    """A process that stops renewing (no heartbeat: it crashed) loses its orders after the TTL."""
    order = uuid4()
    crashed = leases(database_url, "crashed", ttl_seconds=0.3)  # never entered: no heartbeat
    assert crashed.claim([order]).owned == {order}
    with leases(database_url, "B") as b:
        assert b.claim([order]).held_by_others == {order: "crashed"}
        time.sleep(0.5)
        assert b.claim([order]).owned == {order}


def test_the_heartbeat_keeps_the_leases_past_their_ttl(database_url: str) -> None:
    """A live process renews every third of the TTL: its orders stay its own for longer."""
    order = uuid4()
    with leases(database_url, "A", ttl_seconds=0.6) as a, leases(database_url, "B") as b:
        a.claim([order])
        time.sleep(1.0)
        assert b.claim([order]).held_by_others == {order: "A"}
        a.check()


def test_a_process_that_cannot_renew_refuses_to_go_on(sqlite_url: str) -> None:
    """Renewals that stopped for a TTL: ``check`` raises LeaseLost (broker commands stop)."""
    stale = leases(sqlite_url, "A", ttl_seconds=0.2)  # no heartbeat running
    stale.claim([uuid4()])
    time.sleep(0.3)
    with pytest.raises(LeaseLost):
        stale.check()
