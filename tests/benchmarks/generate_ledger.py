"""Generate a ledger of N events (default 1,000,000: about 108,000 orders) and print JSON.

    .venv/bin/python tests/benchmarks/generate_ledger.py --db sqlite:///bench.db --events 1000000

Orders come from tests/projection_scenarios.worked_order (eight lives, every event
type, ~9.25 events each), over 1,000 symbols and one correlation id per 100 orders,
built through SmartOrder commands and saved many per ``ledger.save`` call.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from execledger.infrastructure.ledger import open_ledger

from tests.projection_scenarios import worked_order

SYMBOLS = 1000


def symbol_of(index: int) -> str:
    """The benchmark symbol of order ``index`` (S0000 ... S0999)."""
    return f"S{index % SYMBOLS:04d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="sqlite:///path.db or postgresql://...")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--orders-per-save", type=int, default=500)
    args = parser.parse_args()
    started = time.perf_counter()
    with open_ledger(args.db) as ledger:
        first = ledger.recorder.max_notification_id() or 0
        index = first  # resume-friendly: new order keys past what is there
        written = 0
        while written < args.events:
            orders = []
            while written < args.events and len(orders) < args.orders_per_save:
                order = worked_order(
                    index,
                    symbol=symbol_of(index),
                    correlation_id=f"bench-{index // 100}",
                    account="bench",
                )
                orders.append(order)
                written += len(order.pending_events)
                index += 1
            ledger.save(*orders)
        total = ledger.recorder.max_notification_id() or 0
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "database": args.db.split("@")[-1],
                "events_written": total - first,
                "orders_written": index - first,
                "ledger_events": total,
                "seconds": round(seconds, 2),
                "events_per_second": round((total - first) / seconds),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
