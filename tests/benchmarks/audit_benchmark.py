"""Benchmark: replay, verify and the best-execution report against the bare library's
read-and-decode rate, measured in the same run on the same ledger. Prints JSON.

    .venv/bin/python tests/benchmarks/audit_benchmark.py --db sqlite:////tmp/audit-bench.db --events 100000
    .venv/bin/python tests/benchmarks/audit_benchmark.py \\
        --db postgresql://postgres:postgres@127.0.0.1:5432/x --events 1000000

A ledger with fewer events than ``--events`` is topped up first (tests/benchmarks/
generate_ledger.py's orders), sealed with a benchmark audit key so that ``verify`` checks
every MAC. Measured:

- ``bare``: the library reading every notification and decoding it to a domain event;
- ``verify``: every chain, MAC and the ledger root, plus the read-model figures fold
  (as ``execledger verify`` does, without the read-model comparison itself);
- ``replay``: every decision of every order re-checked (``execledger replay``);
- ``report``: ``report best-execution`` (read models rebuilt first, not timed), with and
  without the chains' verification.

Goals (issue 10): replay >= 0.3 and verify >= 0.5 of the bare rate; the report < 10 s at
1,000,000 events.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from execledger.infrastructure.auditing import replay_ledger
from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.read_model_check import OrderFigures
from execledger.infrastructure.read_models import open_projections
from execledger.infrastructure.report_use_cases import best_execution_report
from execledger.infrastructure.sealing import AuditKey
from execledger.infrastructure.time_window import TimeWindow
from execledger.infrastructure.verification import verify_ledger
from execledger.projections import ProjectionRunner

from tests.benchmarks.projection_benchmark import bare_read_rate

BENCH_KEY = "execledger benchmark audit key (not a secret)"


def _timed(action: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    os.environ["EXECLEDGER_AUDIT_KEY"] = BENCH_KEY  # the generator (a child) seals with it too
    with open_ledger(args.db) as ledger:
        have = ledger.recorder.max_notification_id() or 0
    if have < args.events:
        generator = Path(__file__).with_name("generate_ledger.py")
        command = [sys.executable, str(generator), "--db", args.db, "--events", str(args.events - have)]
        subprocess.run(command, check=True, capture_output=True)
    key = AuditKey(BENCH_KEY.encode())
    with open_ledger(args.db) as ledger:
        events, bare = bare_read_rate(ledger)
        figures: dict[UUID, OrderFigures] = {}
        verified, verify_seconds = _timed(lambda: verify_ledger(ledger, key=key, figures=figures))
        replayed, replay_seconds = _timed(lambda: replay_ledger(ledger))
        _, bare_after = bare_read_rate(ledger)
        bare = max(bare, bare_after)
        store = open_projections(args.db)
        try:
            ProjectionRunner(ledger, store).catch_up()
            window = TimeWindow()
            _, report_seconds = _timed(
                lambda: best_execution_report(ledger, store, window, check_chains=False)
            )
            report, report_verified_seconds = _timed(
                lambda: best_execution_report(ledger, store, window, check_chains=True)
            )
        finally:
            store.close()
    verify_rate = events / verify_seconds
    replay_rate = events / replay_seconds
    print(
        json.dumps(
            {
                "backend": args.db.split(":", 1)[0],
                "events": events,
                "orders": len(replayed.orders),
                "bare_read_decode_events_per_second": round(bare),
                "verify_events_per_second": round(verify_rate),
                "verify_to_bare_ratio": round(verify_rate / bare, 3),
                "verify_ok": verified.ok and verified.keys_checked,
                "replay_events_per_second": round(replay_rate),
                "replay_to_bare_ratio": round(replay_rate / bare, 3),
                "replay_decisions": replayed.decisions_checked,
                "replay_mismatches": len(replayed.mismatches()),
                "report_best_execution_seconds": round(report_seconds, 3),
                "report_best_execution_with_verify_seconds": round(report_verified_seconds, 3),
                "report_orders": len(report["orders"]),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
