"""Benchmark: a simulated session of N orders into SQLite, against the bare library's rate.

With ``--follow`` the read models follow the ledger on a background thread while the
engine runs (as ``execute`` does), and the projection lag is measured: for every save,
the time from the save until all three read models have applied it.

Prints JSON. Our figure: orders and events per second end to end (submit, decide,
place, fill, complete, every event saved as the engine saves it). The baseline: the
same number of events saved through a bare eventsourcing Application into SQLite
with the same commit pattern (the same number of ``save()`` calls, each with the same
number of events), in the same run on the same machine.

    .venv/bin/python tests/benchmarks/engine_throughput.py [--orders 1000] [--seed 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from execledger.infrastructure.bootstrap import following_projections
from execledger.infrastructure.database_url import parse_database_url
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.logging import configure_logging
from execledger.infrastructure.use_cases import demo_batch, work_batch
from execledger.projections import ProjectionRunner


class CountingLedger:
    """Records the commit pattern (events per save() call) and when each save finished."""

    def __init__(self, ledger: Ledger) -> None:
        self.batches: list[int] = []
        self.saved: list[tuple[int, float]] = []  # (last notification id, perf_counter)
        original = ledger.save

        def save(*objects: Any, **kwargs: Any) -> Any:
            recordings = original(*objects, **kwargs)
            if recordings:
                self.batches.append(len(recordings))
                self.saved.append((recordings[-1].notification.id, time.perf_counter()))
            return recordings

        ledger.save = save  # type: ignore[method-assign]


class LagProbe:
    """Samples the read models' lowest position, to time when each save was projected."""

    def __init__(self, runner: ProjectionRunner, interval_seconds: float) -> None:
        self.samples: list[tuple[float, int]] = []
        self._runner = runner
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> LagProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            position = min(row["position"] for row in self._runner.status())
            self.samples.append((time.perf_counter(), position))
            self._stop.wait(self._interval)

    def lags_ms(self, saved: list[tuple[int, float]]) -> list[float]:
        """For each save, milliseconds until a sample showed it projected."""
        lags, cursor = [], 0
        for notification_id, saved_at in saved:
            while cursor < len(self.samples) and (
                self.samples[cursor][0] < saved_at or self.samples[cursor][1] < notification_id
            ):
                cursor += 1
            if cursor == len(self.samples):
                break
            lags.append((self.samples[cursor][0] - saved_at) * 1000)
        return lags


class Counter(Aggregate):
    """The bare baseline's aggregate: one event type with a Decimal-free payload."""

    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self, note: str) -> None:
        self.count += 1


def run_engine(
    orders: int, seed: int, directory: Path, *, follow: bool
) -> tuple[float, int, list[int], list[float]]:
    url = f"sqlite:///{directory / 'engine.db'}"
    ledger = open_ledger(url)
    counter = CountingLedger(ledger)
    batch = demo_batch(orders, seed)
    lags: list[float] = []
    started = time.perf_counter()
    if follow:
        with following_projections(ledger, parse_database_url(url), poll_interval_seconds=0.05) as runner:
            with LagProbe(runner, 0.01) as probe:
                result = work_batch(ledger, batch)
                time.sleep(0.5)
            lags = probe.lags_ms(counter.saved)
    else:
        result = work_batch(ledger, batch)
    elapsed = time.perf_counter() - started
    assert result.all_terminal
    return elapsed, sum(counter.batches), counter.batches, lags


def run_bare(batches: list[int], orders: int, directory: Path) -> float:
    app: Application[UUID] = Application(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(directory / "bare.db"),
        }
    )
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
    parser.add_argument("--follow", action="store_true", help="Read models follow in-process.")
    args = parser.parse_args()
    configure_logging(level="WARNING")
    with tempfile.TemporaryDirectory() as directory:
        elapsed, events, batches, lags = run_engine(
            args.orders, args.seed, Path(directory), follow=args.follow
        )
        bare_elapsed = run_bare(batches, args.orders, Path(directory))
    ours = events / elapsed
    bare = events / bare_elapsed
    print(
        json.dumps(
            {
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
                "projections_following": args.follow,
                **({"projection_lag_ms": _percentiles(lags), "lag_goal_ms": 100} if args.follow else {}),
            },
            indent=2,
        )
    )


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)  # noqa: E731
    return {"samples": len(ordered), "p50": pick(0.5), "p95": pick(0.95), "max": round(ordered[-1], 2)}


if __name__ == "__main__":
    main()
