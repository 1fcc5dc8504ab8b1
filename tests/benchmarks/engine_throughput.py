"""Benchmark: a simulated rebalance of N orders end to end, against the bare library's rate.

    .venv/bin/python tests/benchmarks/engine_throughput.py --orders 10000 [--follow]
    .venv/bin/python tests/benchmarks/engine_throughput.py --orders 10000 --backend postgres \\
        --dsn postgresql://postgres:postgres@127.0.0.1:5432/execledger_bench [--follow]
    .venv/bin/python tests/benchmarks/engine_throughput.py --orders 10000 --backend postgres \\
        --dsn ... --processes 2

Prints JSON. Our figure: orders and events per second end to end (submit, decide, place,
fill, complete: every event saved as the engine saves it; with ``--follow in-process``
the read models follow the ledger as in ``execute`` (each save folded inside its own
transaction, a background thread for other processes' events), with ``--follow process``
a follower in another process does, as ``projections run``; the projection lag is
measured: for every save, the time from its commit until all read models hold it).

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
import multiprocessing
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
from execledger.infrastructure.database_url import parse_database_url
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.logging import configure_logging
from execledger.infrastructure.read_models import following_projections, open_projections
from execledger.infrastructure.use_cases import work_batch
from execledger.projections import ProjectionRunner

from tests.rebalance import rebalance_requests, write_rebalance_file

#: Events the bare library saves one per ``save()`` for the per-event rate (a sample: the
#: rate does not depend on the count, and 100,000 single commits would dominate the run).
BARE_SAMPLE_EVENTS = 5000


class CountingLedger:
    """Records the commit pattern (events per save() call) and when each save committed.

    The time is taken by a save listener registered before any follower's, so it is the
    moment the library reports the commit: a follower that applies the save's events in
    the saving thread (as ``execute``'s does, before ``save()`` returns) is timed from the
    commit, not from the return.
    """

    def __init__(self, ledger: Ledger) -> None:
        self.batches: list[int] = []
        self.saved: list[tuple[int, float]] = []  # (last notification id, time.monotonic)
        committed_at = [0.0]
        original = ledger.save

        def save(*objects: Any, **kwargs: Any) -> Any:
            recordings = original(*objects, **kwargs)
            if recordings:
                self.batches.append(len(recordings))
                self.saved.append((recordings[-1].notification.id, committed_at[0]))
            return recordings

        ledger.add_save_listener(lambda saved: committed_at.__setitem__(0, time.monotonic()))
        ledger.save = save  # type: ignore[method-assign]


class AppliedProbe:
    """Records, for each commit that moves the follower's read models, when
    (``time.monotonic``: one clock for every process on the machine) and the position it
    reached (``ProjectionRunner.on_applied``: the runner tells, nothing is polled, so the
    probe neither waits nor competes for locks). A save folded inside its own transaction
    is told right after that commit; ``inline_seconds`` holds how long each such fold kept
    the save's transaction open (the store's ``inline_transaction``, timed)."""

    def __init__(self, runner: ProjectionRunner) -> None:
        self.samples: list[tuple[float, int]] = []
        self.inline_seconds: list[float] = []
        runner.on_applied(lambda position: self.samples.append((time.monotonic(), position)))
        store, begin = runner.store, runner.store.inline_transaction

        @contextmanager
        def timed(connection: Any) -> Iterator[Any]:
            started = time.perf_counter()
            with begin(connection) as tx:
                yield tx
            self.inline_seconds.append(time.perf_counter() - started)

        store.inline_transaction = timed  # type: ignore[method-assign]


def lags_ms(saved: list[tuple[int, float]], samples: list[tuple[float, int]]) -> list[float]:
    """For each save, milliseconds from its commit until the follower committed it."""
    lags, cursor = [], 0
    ordered = sorted(samples)
    for notification_id, saved_at in saved:
        while cursor < len(ordered) and ordered[cursor][1] < notification_id:
            cursor += 1
        if cursor == len(ordered):
            break
        lags.append(max(0.0, ordered[cursor][0] - saved_at) * 1000)
    return lags


def follow_elsewhere(url: str, poll_interval_seconds: float, ready: Any, stop: Any, out: Any) -> None:
    """In another process: follow the ledger as ``projections run`` does (woken by the
    ledger's NOTIFY on PostgreSQL, polling on SQLite) and send back the probe's samples."""
    with open_ledger(url) as ledger:
        store = open_projections(url)
        runner = ProjectionRunner(ledger, store)
        runner.catch_up()
        probe = AppliedProbe(runner)
        store.wake_on_commits(ledger.recorder, runner.wake)
        stopping = threading.Event()
        threading.Thread(target=lambda: (stop.wait(), stopping.set(), runner.wake()), daemon=True).start()
        ready.set()
        runner.run_forever(poll_interval_seconds, stopping)
        store.close()
    out.put(probe.samples)


class Counter(Aggregate):
    """The bare baseline's aggregate: one event type with a Decimal-free payload."""

    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self, note: str) -> None:
        self.count += 1


def run_engine(orders: int, url: str, *, follow: str, poll_interval_seconds: float) -> dict[str, Any]:
    """One in-process session of ``orders`` rebalance orders into ``url``; ``follow``: the read
    models follow in this process ("in-process", as ``execute`` does), in another process
    ("process", as ``projections run`` does) or not at all ("")."""
    ledger = open_ledger(url)
    counter = CountingLedger(ledger)
    batch = Batch(tuple(rebalance_requests(orders)), seed=1)
    samples: list[tuple[float, int]] = []
    inline: list[float] = []
    started = time.perf_counter()
    if follow == "in-process":
        with following_projections(
            ledger, parse_database_url(url), poll_interval_seconds=poll_interval_seconds
        ) as runner:
            probe = AppliedProbe(runner)
            result = work_batch(ledger, batch)
        samples = probe.samples
        inline = [seconds * 1000 for seconds in probe.inline_seconds]
    elif follow == "process":
        context = multiprocessing.get_context("spawn")
        ready, stop, out = context.Event(), context.Event(), context.Queue()
        child = context.Process(target=follow_elsewhere, args=(url, poll_interval_seconds, ready, stop, out))
        child.start()
        ready.wait(120)
        result = work_batch(ledger, batch)
        time.sleep(1.0)  # the follower applies the last saves
        stop.set()
        samples = out.get(timeout=120)
        child.join(60)
    else:
        result = work_batch(ledger, batch)
    elapsed = time.perf_counter() - started
    ledger.close()
    assert result.all_terminal, "a benchmark session left orders open"
    lags = lags_ms(counter.saved, samples) if follow else []
    return {
        "seconds": elapsed,
        "events": sum(counter.batches),
        "batches": counter.batches,
        "lags": lags,
        "inline_ms": inline,
    }


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
    parser.add_argument(
        "--follow",
        nargs="?",
        const="in-process",
        default="",
        choices=("in-process", "process"),
        help="Read models follow in this process (as execute does) or in another (projections run).",
    )
    parser.add_argument(
        "--poll-interval", type=float, default=0.05, help="The follower's poll, seconds (as the setting)."
    )
    parser.add_argument("--processes", type=int, default=0, help="Compare 1 and K execute processes.")
    args = parser.parse_args()
    configure_logging(level="WARNING")
    with tempfile.TemporaryDirectory(prefix="execledger-bench-") as tmp:
        run = processes_report if args.processes else engine_report
        report = run(args, Path(tmp))
    print(json.dumps(report, indent=2))


def engine_report(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    with fresh_database(args.backend, args.dsn, directory, "engine") as url:
        run = run_engine(args.orders, url, follow=args.follow, poll_interval_seconds=args.poll_interval)
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
        "projections_following": args.follow or "no",
        **(
            {
                "follower_poll_seconds": args.poll_interval,
                "projection_lag_ms": _percentiles(run["lags"]),
                # A commit's lag grows with its size (the follower applies all its events):
                # the engine commits 1,000 submissions at once, then a round's saves together.
                "projection_lag_ms_commits_of_at_most_50_events": _percentiles(
                    [lag for lag, size in zip(run["lags"], run["batches"], strict=False) if size <= 50]
                ),
                "projection_lag_ms_larger_commits": _percentiles(
                    [lag for lag, size in zip(run["lags"], run["batches"], strict=False) if size > 50]
                ),
                "lag_goal_p95_ms": 20,
                "share_of_commits_projected_within_20_ms": round(
                    sum(1 for lag in run["lags"] if lag < 20) / max(1, len(run["lags"])), 3
                ),
                # What the follower must apply before a commit counts as projected.
                "commit_size_events": _percentiles([float(size) for size in run["batches"]]),
                # In-process: commits whose events were folded inside their own transaction
                # (the rest were applied right after their commit), and how long each fold
                # kept that transaction open.
                "commits_folded_in_their_transaction": len(run["inline_ms"]),
                "inline_fold_ms": _percentiles(run["inline_ms"]),
                "load_average": os.getloadavg(),
            }
            if args.follow
            else {}
        ),
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
