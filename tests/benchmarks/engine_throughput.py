"""Benchmark: a simulated session of N orders into SQLite, against the bare library's rate.

Prints JSON. Our figure: orders and events per second end to end (submit, decide,
place, fill, complete, every event saved as the engine saves it). The baseline: the
same number of events saved through a bare eventsourcing Application into SQLite
with the same commit pattern (the same number of ``save()`` calls, each with the same
number of events), in the same run on the same machine.

    .venv/bin/python tests/benchmarks/engine_throughput.py [--orders 1000] [--seed 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from domain.config import ExecutionConfig
from infrastructure.bootstrap import execution_session, simulated_venue, synthetic_session_tape
from infrastructure.cli.execute import DEMO_PRICES, demo_requests
from infrastructure.ledger import Ledger, open_ledger
from infrastructure.logging import configure_logging


class CountingLedger:
    """Records the commit pattern: events per save() call."""

    def __init__(self, ledger: Ledger) -> None:
        self.batches: list[int] = []
        original = ledger.save

        def save(*objects: Any, **kwargs: Any) -> Any:
            recordings = original(*objects, **kwargs)
            if recordings:
                self.batches.append(len(recordings))
            return recordings

        ledger.save = save  # type: ignore[method-assign]


class Counter(Aggregate):
    """The bare baseline's aggregate: one event type with a Decimal-free payload."""

    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self, note: str) -> None:
        self.count += 1


def run_engine(orders: int, seed: int, directory: Path) -> tuple[float, int, list[int]]:
    ledger = open_ledger(f"sqlite:///{directory / 'engine.db'}")
    counter = CountingLedger(ledger)
    requests = demo_requests(orders, seed)
    tape = synthetic_session_tape(sorted(DEMO_PRICES), seed=seed, start_prices=DEMO_PRICES)
    ports, _ = simulated_venue(tape)
    session = execution_session(ledger, ports, ExecutionConfig(), seed=seed)
    started = time.perf_counter()
    result = asyncio.run(session.run(requests))
    elapsed = time.perf_counter() - started
    assert result.all_terminal
    return elapsed, sum(counter.batches), counter.batches


def run_bare(batches: list[int], orders: int, directory: Path) -> float:
    app: Application[UUID] = Application(env={
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(directory / "bare.db"),
    })  # fmt: skip
    aggregates = [Counter(f"order-{n}") for n in range(orders)]
    started = time.perf_counter()
    for number, size in enumerate(batches):
        aggregate = aggregates[number % orders]
        for _ in range(size - len(aggregate.pending_events)):
            aggregate.increment(note="x" * 40)
        app.save(aggregate)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    configure_logging(level="WARNING")
    with tempfile.TemporaryDirectory() as directory:
        elapsed, events, batches = run_engine(args.orders, args.seed, Path(directory))
        bare_elapsed = run_bare(batches, args.orders, Path(directory))
    ours = events / elapsed
    bare = events / bare_elapsed
    print(json.dumps({
        "benchmark": "engine_throughput_sqlite",
        "orders": args.orders,
        "events": events,
        "saves": len(batches),
        "seconds": round(elapsed, 3),
        "orders_per_second": round(args.orders / elapsed, 1),
        "events_per_second": round(ours, 1),
        "bare_library_events_per_second": round(bare, 1),
        "ratio_to_bare_library": round(ours / bare, 3),
        "goal_ratio": 0.5,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
