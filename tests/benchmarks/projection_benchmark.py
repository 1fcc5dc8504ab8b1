"""Projection benchmark on a generated ledger (see generate_ledger.py); prints JSON.

    .venv/bin/python tests/benchmarks/projection_benchmark.py --db sqlite:///bench.db

Measures, in one run: the bare eventsourcing library reading and decoding every
notification (events/s); a full rebuild of all three projections (events/s, and its
ratio to the bare rate); ``timeline`` and ``orders --symbol`` query latency (p50, p95)
through the same queries the CLI runs; and the projection lag while a writer appends
orders one ``save`` at a time with the runner following in the background.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.read_models import (
    catch_up_after_save,
    ledger_and_projections,
    open_projections,
)
from execledger.projections import ProjectionRunner, ProjectionStore, queries
from execledger.projections.errors import UnknownOrderId
from execledger.projections.order_status import TABLE as ORDER_STATUS
from execledger.projections.rebuild import PARTITION_THRESHOLD

from tests.benchmarks.engine_throughput import AppliedProbe, lags_ms
from tests.benchmarks.generate_ledger import SYMBOLS, symbol_of
from tests.projection_scenarios import worked_order

PAGE = 2000


def bare_read_rate(ledger: Ledger) -> tuple[int, float]:
    """Events read and decoded per second (of wall time) by the library alone."""
    count, rate, _ = bare_read_rates(ledger)
    return count, rate


def bare_read_rates(ledger: Ledger) -> tuple[int, float, float]:
    """Events read and decoded per second by the library alone, page by page: per second of
    wall time and per second of this process's CPU time."""
    started, cpu_started = time.perf_counter(), time.process_time()
    count, position = 0, 1
    while True:
        page = ledger.recorder.select_notifications(position, PAGE)
        for notification in page:
            ledger.mapper.to_domain_event(notification)
        count += len(page)
        if len(page) < PAGE:
            break
        position = page[-1].id + 1
    return count, count / (time.perf_counter() - started), count / (time.process_time() - cpu_started)


def cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have ended (a rebuild's workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100)
    return {"p50_ms": round(cuts[49] * 1000, 3), "p95_ms": round(cuts[94] * 1000, 3)}


def timeline_or_none(store: ProjectionStore, identifier: str) -> list[dict[str, Any]]:
    """The timeline, or nothing for an id no order has (a denied order has no placement)."""
    try:
        return queries.timeline_of(store, identifier)
    except UnknownOrderId:
        return []


def query_latency(store: ProjectionStore, samples: int) -> dict[str, Any]:
    rng = random.Random(7)
    orders = store.select(ORDER_STATUS, limit=20_000)
    timeline_ids = [str(rng.choice(orders)["order_id"]) for _ in range(samples)]
    client_ids = [f"{rng.choice(orders)['order_id']}-1" for _ in range(samples)]
    symbols = [symbol_of(rng.randrange(SYMBOLS)) for _ in range(samples)]

    def timed(action: Any, args: list[str]) -> tuple[list[float], int]:
        seconds, rows = [], 0
        for arg in args:
            started = time.perf_counter()
            rows += len(action(arg))
            seconds.append(time.perf_counter() - started)
        return seconds, rows

    by_order, rows_a = timed(lambda i: queries.timeline_of(store, i), timeline_ids)
    by_client, _ = timed(lambda i: timeline_or_none(store, i), client_ids)
    by_symbol, rows_b = timed(lambda s: queries.orders(store, symbol=s), symbols)
    return {
        "timeline_by_order_id": {**percentiles(by_order), "mean_rows": rows_a / samples},
        "timeline_by_client_order_id": percentiles(by_client),
        "orders_by_symbol": {**percentiles(by_symbol), "mean_rows": rows_b / samples},
    }


def reads_during_rebuild(
    db: str, ledger: Ledger, store: ProjectionStore, samples: int, processes: int, threshold: int
) -> dict[str, Any]:
    """Query latency (``orders --symbol``, ``timeline``) while a rebuild runs beside the serving
    read models on its own connection, split across ``processes`` as ``projections rebuild``
    splits it, and how many reads answered."""
    rebuild_store = open_projections(db)
    rebuild = partial(
        ProjectionRunner(ledger, rebuild_store).rebuild,
        processes=processes,
        opener=partial(ledger_and_projections, db),
        threshold=threshold,
    )
    rebuilding = threading.Thread(target=rebuild)
    rng = random.Random(11)
    orders = store.select(ORDER_STATUS, limit=20_000)
    seconds: list[float] = []
    rebuilding.start()
    try:
        while rebuilding.is_alive() or len(seconds) < 10:
            started = time.perf_counter()
            if len(seconds) % 2:
                queries.orders(store, symbol=symbol_of(rng.randrange(SYMBOLS)))
            else:
                queries.timeline_of(store, str(rng.choice(orders)["order_id"]))
            seconds.append(time.perf_counter() - started)
            if len(seconds) >= samples and not rebuilding.is_alive():
                break
    finally:
        rebuilding.join()
        rebuild_store.close()
    return {"reads": len(seconds), "rebuild_processes": processes, **percentiles(seconds)}


def lag_while_writing(ledger: Ledger, runner: ProjectionRunner, orders: int) -> dict[str, Any]:
    """Save orders one at a time; time from each save's commit until the follower committed it
    (the runner tells each commit: nothing polls the database). The follower follows as
    ``execute``'s does: each save's events folded inside its own transaction (else applied
    in the saving thread right after the commit), and a background thread polling every 50 ms."""
    probe = AppliedProbe(runner)
    ledger.fold_in_saves(runner)
    runner.start_in_background(poll_interval_seconds=0.05)
    committed_at = [0.0]

    def mark(saved: object) -> None:
        committed_at[0] = time.monotonic()

    follow = catch_up_after_save(runner)
    ledger.add_save_listener(mark)  # first: the commit's time, before the follower applies it
    ledger.add_save_listener(follow)
    saved: list[tuple[int, float]] = []
    base = (ledger.recorder.max_notification_id() or 0) + 10_000_000
    try:
        for i in range(orders):
            order = worked_order(base + i, symbol=symbol_of(i), correlation_id="lag")
            recordings = ledger.save(order)
            target = recordings[-1].notification.id
            saved.append((target, committed_at[0]))
            deadline = time.monotonic() + 30
            while not (probe.samples and probe.samples[-1][1] >= target) and time.monotonic() < deadline:
                time.sleep(0.0005)
            time.sleep(0.01)
    finally:
        ledger.fold_in_saves(None)
        ledger.remove_save_listener(follow)
        ledger.remove_save_listener(mark)
        runner.stop()
    lags = lags_ms(saved, probe.samples)
    return {"saves": orders, **percentiles([lag / 1000 for lag in lags]), "max_ms": round(max(lags), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--query-samples", type=int, default=300)
    parser.add_argument("--lag-orders", type=int, default=100)
    parser.add_argument(
        "--rebuild-processes",
        type=int,
        default=min(os.cpu_count() or 1, 4),
        help="processes the rebuild splits the orders across (the EXECLEDGER_REBUILD_PROCESSES default)",
    )
    parser.add_argument(
        "--rebuild-threshold",
        type=int,
        default=PARTITION_THRESHOLD,
        help="fewest events a rebuild splits across processes (lower it to split a small ledger)",
    )
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    with open_ledger(args.db) as ledger:
        store = open_projections(args.db)
        runner = ProjectionRunner(ledger, store)
        events, bare_rate, bare_cpu_rate = bare_read_rates(ledger)
        started, cpu_started = time.perf_counter(), cpu_seconds()
        rebuilt = runner.rebuild(
            processes=args.rebuild_processes,
            opener=partial(ledger_and_projections, args.db),
            threshold=args.rebuild_threshold,
        )
        rebuild_rate = rebuilt / (time.perf_counter() - started)
        rebuild_cpu_rate = rebuilt / (cpu_seconds() - cpu_started)
        _, bare_after, bare_cpu_after = bare_read_rates(ledger)
        bare = max(bare_rate, bare_after)
        bare_cpu = max(bare_cpu_rate, bare_cpu_after)
        result = {
            "database": args.db.split("@")[-1],
            "load_average_at_start": load_at_start,
            "ledger_events": events,
            "bare_read_decode_events_per_second": round(bare),
            "rebuild_processes": args.rebuild_processes if events >= max(args.rebuild_threshold, 1) else 1,
            "rebuild_events_per_second": round(rebuild_rate),
            "rebuild_to_bare_ratio": round(rebuild_rate / bare, 3),
            # Per second of CPU (the rebuild's: this process's and its workers'): less
            # swayed by other processes on a busy machine (PostgreSQL's own CPU is in
            # neither figure).
            "bare_events_per_cpu_second": round(bare_cpu),
            "rebuild_events_per_cpu_second": round(rebuild_cpu_rate),
            "rebuild_to_bare_cpu_ratio": round(rebuild_cpu_rate / bare_cpu, 3),
            "queries": query_latency(store, args.query_samples),
            "reads_during_rebuild": reads_during_rebuild(
                args.db, ledger, store, args.query_samples, args.rebuild_processes, args.rebuild_threshold
            ),
            "lag_while_writing": lag_while_writing(ledger, runner, args.lag_orders),
        }
        store.close()
    result["load_average_at_end"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
