"""Several processes opening a fresh ledger at once all succeed (table creation races)."""

from __future__ import annotations

import threading

from execledger.infrastructure.ledger import Ledger, open_ledger


def test_ledgers_opened_at_once_on_a_fresh_database_all_open(database_url: str) -> None:
    """Eight threads open the same fresh database together: each gets a ledger, none an error."""
    opened: list[Ledger] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def open_one() -> None:
        start.wait()
        try:
            opened.append(open_ledger(database_url))
        except BaseException as error:  # collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and len(opened) == 8
    for ledger in opened:
        ledger.close()
