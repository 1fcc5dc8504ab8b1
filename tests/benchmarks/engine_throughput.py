"""Benchmark: a simulated rebalance of N orders end to end, against the bare library's rate.

    .venv/bin/python tests/benchmarks/engine_throughput.py --orders 10000 [--follow]
    .venv/bin/python tests/benchmarks/engine_throughput.py --orders 10000 --backend postgres \\
        --dsn postgresql://postgres:postgres@127.0.0.1:5432/execledger_bench [--follow]
    .venv/bin/python tests/benchmarks/engine_throughput.py --orders 10000 --backend postgres \\
        --dsn ... --processes 2

Prints JSON. Our figure: orders and events per second end to end (submit, decide, place,
fill, complete: every event saved as the engine saves it; with ``--follow`` the read
models follow the ledger on a background thread, as in ``execute``, and the projection lag
is measured: for every save, the time until all read models have applied it).

The baseline, measured in the same run on the same database: a bare eventsourcing
Application saving one event per ``save()`` call (the per-event commit rate: what an
engine that commits every event on its own can reach at best). The engine commits the
saves of each event-loop round together (``CommitGroup``), so the ratio can pass 1. The
engine's own commit pattern replayed through the bare library is reported beside it.

``--processes K`` runs ``execledger execute`` on one orders file once alone and then K
times at once on a fresh ledger (the leases split the orders), and compares the total
events per second of the two.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from execledger.infrastructure.batch import Batch
from execledger.infrastructure.bootstrap import following_projections
from execledger.infrastructure.database_url import parse_database_url
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.logging import configure_logging
from execledger.infrastructure.use_cases import work_batch
from execledger.projections import ProjectionRunner

from tests.rebalance import rebalance_requests, write_rebalance_file

#: Events the bare library saves one per ``save()`` for the per-event rate (a sample: the
#: rate does not depend on the count, and 100,000 single commits would dominate the run).
BARE_SAMPLE_EVENTS = 5000


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


def run_engine(orders: int, url: str, *, follow: bool) -> dict[str, Any]:
    """One in-process session of ``orders`` rebalance orders into ``url``."""
    ledger = open_ledger(url)
    counter = CountingLedger(ledger)
    batch = Batch(tuple(rebalance_requests(orders)), seed=1)
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
    ledger.close()
    assert result.all_terminal, "a benchmark session left orders open"
    return {"seconds": elapsed, "events": sum(counter.batches), "batches": counter.batches, "lags": lags}


def bare_app(url: str, directory: Path, name: str) -> Application[UUID]:
    database = parse_database_url(url)
    env = dict(database.env)
    if database.is_sqlite:
        env["SQLITE_DBNAME"] = str(directory / f"{name}.db")
    return Application(env=env)


def bare_per_event_rate(url: str, directory: Path) -> float:
    """Events per second the bare library commits one event per ``save()``."""
    app = bare_app(url, directory, "bare_per_event")
    counters = [Counter(f"order-{n}") for n in range(100)]
    for aggregate in counters:
        app.save(aggregate)
    started = time.perf_counter()
    for number in range(BARE_SAMPLE_EVENTS):
        aggregate = counters[number % len(counters)]
        aggregate.increment(note="x" * 40)
        app.save(aggregate)
    elapsed = time.perf_counter() - started
    app.close()
    return BARE_SAMPLE_EVENTS / elapsed


def bare_same_pattern_rate(url: str, directory: Path, batches: list[int]) -> float:
    """Events per second the bare library saves with the engine's commit pattern."""
    app = bare_app(url, directory, "bare_pattern")
    aggregates = [Counter(f"order-{n}") for n in range(max(batches, default=1))]
    saved = 0
    started = time.perf_counter()
    for size in batches:
        for aggregate in aggregates[:size]:
            aggregate.increment(note="x" * 40)
        saved += len(app.save(*aggregates[:size]))
    elapsed = time.perf_counter() - started
    app.close()
    return saved / elapsed


def run_processes(orders: int, url: str, count: int, directory: Path) -> dict[str, Any]:
    """``count`` ``execute`` processes at once on one file and one ledger."""
    path = write_rebalance_file(directory / f"orders-{count}.csv", orders)
    command = [sys.executable, "-m", "execledger.infrastructure.cli.app", "--db", url, "execute", str(path)]
    started = time.perf_counter()
    processes = [
        subprocess.Popen([*command, "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    outputs = [process.communicate() for process in processes]
    elapsed = time.perf_counter() - started
    codes = [process.returncode for process in processes]
    summaries = [json.loads(out) if out.strip() else {} for out, _ in outputs]
    with open_ledger(url) as ledger:
        events = ledger.recorder.max_notification_id() or 0
    return {
        "processes": count,
        "seconds": round(elapsed, 3),
        "events": events,
        "events_per_second": round(events / elapsed, 1),
        "exit_codes": codes,
        "worked_per_process": [summary.get("worked") for summary in summaries],
        "skipped_per_process": [len(summary.get("skipped", [])) for summary in summaries],
    }


@contextmanager
def fresh_database(backend: str, dsn: str | None, directory: Path, name: str) -> Iterator[str]:
    """A URL of an empty ledger: a SQLite file, or a fresh schema in the PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / name}.db"
        return
    import psycopg

    assert dsn, "--dsn (or EXECLEDGER_BENCH_POSTGRES_DSN) is needed for PostgreSQL"
    schema = f"bench_{name}_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--dsn", default=os.environ.get("EXECLEDGER_BENCH_POSTGRES_DSN"))
    parser.add_argument("--follow", action="store_true", help="Read models follow in-process.")
    parser.add_argument("--processes", type=int, default=0, help="Compare 1 and K execute processes.")
    args = parser.parse_args()
    configure_logging(level="WARNING")
    with tempfile.TemporaryDirectory(prefix="execledger-bench-") as tmp:
        run = processes_report if args.processes else engine_report
        report = run(args, Path(tmp))
    print(json.dumps(report, indent=2))


def engine_report(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    with fresh_database(args.backend, args.dsn, directory, "engine") as url:
        run = run_engine(args.orders, url, follow=args.follow)
    with fresh_database(args.backend, args.dsn, directory, "bare") as url:
        per_event = bare_per_event_rate(url, directory)
        same_pattern = bare_same_pattern_rate(url, directory, run["batches"])
    ours = run["events"] / run["seconds"]
    return {
        "benchmark": f"engine_throughput_{args.backend}",
        "orders": args.orders,
        "events": run["events"],
        "commits": len(run["batches"]),
        "seconds": round(run["seconds"], 3),
        "orders_per_second": round(args.orders / run["seconds"], 1),
        "events_per_second": round(ours, 1),
        "bare_library_per_event_commit_events_per_second": round(per_event, 1),
        "ratio_to_bare_per_event_commits": round(ours / per_event, 3),
        "goal_ratio": 0.5,
        "bare_library_same_commit_pattern_events_per_second": round(same_pattern, 1),
        "ratio_to_bare_same_commit_pattern": round(ours / same_pattern, 3),
        "projections_following": args.follow,
        **({"projection_lag_ms": _percentiles(run["lags"]), "lag_goal_ms": 100} if args.follow else {}),
    }


def processes_report(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    with fresh_database(args.backend, args.dsn, directory, "one") as url:
        alone = run_processes(args.orders, url, 1, directory)
    with fresh_database(args.backend, args.dsn, directory, "many") as url:
        together = run_processes(args.orders, url, args.processes, directory)
    return {
        "benchmark": f"execute_processes_{args.backend}",
        "orders": args.orders,
        "one_process": alone,
        "shared_ledger": together,
        "throughput_ratio": round(together["events_per_second"] / alone["events_per_second"], 3),
        "goal": "throughput_ratio > 1",
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)  # noqa: E731
    return {"samples": len(ordered), "p50": pick(0.5), "p95": pick(0.95), "max": round(ordered[-1], 2)}


if __name__ == "__main__":
    main()
