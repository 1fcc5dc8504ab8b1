"""A ledger written by version 0.1 (top-level ``domain`` topics) still reads, verifies and replays."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).parent.parent / "fixtures" / "ledgers" / "v0_1_pre_package.db"


def run_cli(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "execledger.infrastructure.cli.app", "--db", f"sqlite:///{database}"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)


def legacy_copy(tmp_path: Path) -> Path:
    database = tmp_path / "legacy.db"
    shutil.copyfile(FIXTURE, database)
    return database


def test_a_ledger_of_version_0_1_verifies_with_its_stored_topics(tmp_path: Path) -> None:
    """verify hashes the stored (old) topics, so every chain of the old ledger still holds."""
    result = run_cli(legacy_copy(tmp_path), "verify", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["orders_checked"] == 7
    assert report["events_checked"] == 117


def test_a_ledger_of_version_0_1_replays_every_decision(tmp_path: Path) -> None:
    """The old events resolve to today's classes, so replay re-checks their decisions; the
    orders predate recorded policy versions, so they are reported as of another version."""
    result = run_cli(legacy_copy(tmp_path), "replay", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["orders_checked"] == 7 and report["decisions_checked"] > 23
    assert report["mismatches"] == []
    assert {o["policy_version"] for o in report["other_versions"]} == {"unrecorded"}
    assert [o["differing_decisions"] for o in report["other_versions"]] == [[]] * 7


def test_a_ledger_of_version_0_1_rebuilds_its_read_models(tmp_path: Path) -> None:
    """The read models decode old topics and old enum transcoding names."""
    database = legacy_copy(tmp_path)
    rebuilt = run_cli(database, "projections", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    orders = run_cli(database, "orders", "--json")
    rows = json.loads(orders.stdout)
    assert len(rows) == 7
    assert {row["side"] for row in rows} == {"BUY", "SELL"}


def test_the_packages_install_only_under_execledger(tmp_path: Path) -> None:
    """A bare ``import domain`` finds nothing: the folders install as ``execledger.*``."""
    probe = (
        "import importlib.util as u; "
        "print([n for n in ('domain', 'infrastructure', 'projections') if u.find_spec(n)]); "
        "print(u.find_spec('execledger.domain.order') is not None)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.split() == ["[]", "True"]
