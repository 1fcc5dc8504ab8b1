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
- ``report``: ``report best-execution`` (read models caught up first, not timed): without
  the chains' check, on top of the seal ``verify`` just made (the default: the
  ``--after-seal`` events recorded since are verified by the report), and with a full
  verify; and the JSON encoding of the report.

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from execledger.infrastructure.auditing import replay_ledger
from execledger.infrastructure.ledger import open_ledger
from execledger.infrastructure.read_model_check import OrderFigures
from execledger.infrastructure.read_models import open_projections
from execledger.infrastructure.report_use_cases import best_execution_report
from execledger.infrastructure.sealing import AuditKey, SealTable
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
    parser.add_argument(
        "--after-seal", type=int, default=0, help="Events to record after the seal (the report checks them)."
    )
    parser.add_argument("--skip-full-report", action="store_true", help="Skip the report with a full verify.")
    args = parser.parse_args()
    os.environ["EXECLEDGER_AUDIT_KEY"] = BENCH_KEY  # the generator (a child) seals with it too
    with open_ledger(args.db) as ledger:
        have = ledger.recorder.max_notification_id() or 0
    if have < args.events:
        _generate(args.db, args.events - have)
    key = AuditKey(BENCH_KEY.encode())
    with open_ledger(args.db) as ledger:
        events, bare = bare_read_rate(ledger)
        figures: dict[UUID, OrderFigures] = {}
        verified, verify_seconds = _timed(lambda: verify_ledger(ledger, key=key, figures=figures))
        replayed, replay_seconds = _timed(lambda: replay_ledger(ledger))
        _, bare_after = bare_read_rate(ledger)
        bare = max(bare, bare_after)
        seals = SealTable(ledger.recorder.datastore)  # type: ignore[attr-defined]
        if verified.ok:  # as `verify --seal` does (untimed): the report builds on it
            seals.add(verified.head.signed(key, sealed_at=datetime.now(UTC).isoformat(timespec="seconds")))
    if args.after_seal:  # events recorded since the seal, which the report verifies itself
        _generate(args.db, args.after_seal)
    with open_ledger(args.db) as ledger:
        store = open_projections(args.db)
        try:
            ProjectionRunner(ledger, store).catch_up()
            window = TimeWindow()
            _, report_seconds = _timed(lambda: best_execution_report(ledger, store, window, chains="none"))
            report, report_sealed_seconds = _timed(
                lambda: best_execution_report(ledger, store, window, chains="since-seal")
            )
            _, json_seconds = _timed(lambda: json.dumps(report))
            _, report_full_seconds = (
                (None, None)
                if args.skip_full_report
                else _timed(lambda: best_execution_report(ledger, store, window, chains="full"))
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
                "load_average": os.getloadavg(),
                "bare_read_decode_events_per_second": round(bare),
                "verify_events_per_second": round(verify_rate),
                "verify_to_bare_ratio": round(verify_rate / bare, 3),
                "verify_ok": verified.ok and verified.keys_checked,
                "replay_events_per_second": round(replay_rate),
                "replay_to_bare_ratio": round(replay_rate / bare, 3),
                "replay_decisions": replayed.decisions_checked,
                # generate_ledger's orders are built by hand (projection_scenarios), not decided
                # by the engine: replay disagrees with many of their decisions, as it should;
                # written by an older policy version, they count as other versions.
                "replay_mismatches": len(replayed.mismatches()),
                "replay_other_version_orders": len(replayed.other_versions()),
                "report_orders": len(report["orders"]),
                "report_best_execution_seconds_without_chains": round(report_seconds, 3),
                "report_best_execution_seconds": round(report_sealed_seconds, 3),
                "report_chains": {
                    k: report["chains"].get(k) for k in ("verified", "method", "events_checked")
                },
                "report_json_dump_seconds": round(json_seconds, 3),
                "report_best_execution_full_verify_seconds": None
                if report_full_seconds is None
                else round(report_full_seconds, 3),
            },
            indent=2,
        )
    )


def _generate(db: str, events: int) -> None:
    generator = Path(__file__).with_name("generate_ledger.py")
    command = [sys.executable, str(generator), "--db", db, "--events", str(events)]
    subprocess.run(command, check=True, capture_output=True)


if __name__ == "__main__":
    main()
