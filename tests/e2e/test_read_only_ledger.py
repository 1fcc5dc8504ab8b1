"""Read-only commands open the ledger read-only and never create one (issue 8, section 4).

A mistyped SQLite path or an empty PostgreSQL schema is "no ledger at ...", exit 2, and
nothing is created; a ledger on a read-only file in a read-only folder can be audited.
Root ignores file permissions, so as root the command runs as ``nobody`` (the process
imports everything first, then drops its privileges).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.e2e.test_execute_cli import ESCALATION_TAPE, execledger

READ_COMMANDS = [
    ["verify"],
    ["orders"],
    ["timeline", "ro-batch"],
    ["replay"],
    ["quality"],
    ["report", "execution-quality"],
]

AS_NOBODY = """
import os, sys
import eventsourcing.sqlite, execledger.projections.store_sqlite
import execledger.infrastructure.cli.app as app
if os.getuid() == 0:
    os.setgid(65534)
    os.setuid(65534)
sys.argv = ["execledger", *sys.argv[1:]]
app.main()
"""


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_a_read_command_on_a_missing_sqlite_file_creates_nothing(command: list[str], tmp_path: Path) -> None:
    """A mistyped path: exit 2, one line "no ledger at ...", neither file nor folder made."""
    missing = tmp_path / "typo" / "ledgr.db"
    done = execledger(*command, db=f"sqlite:///{missing}")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no ledger at" in lines[0], done.stderr
    assert not missing.parent.exists()


@pytest.mark.postgres
@pytest.mark.parametrize("command", [["verify"], ["orders"], ["replay"]], ids=" ".join)
def test_a_read_command_on_an_empty_postgres_schema_creates_no_table(
    command: list[str], postgres_url: str
) -> None:
    """A schema without the ledger's tables: "no ledger at ...", and still no table there."""
    done = execledger(*command, db=postgres_url)
    assert done.returncode == 2, done.stderr
    assert "no ledger at" in done.stderr
    schema = postgres_url.rsplit("schema=", 1)[1]
    dsn = postgres_url.split("?")[0]
    with psycopg.connect(dsn, autocommit=True) as connection:
        tables = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchone()
    assert tables == (0,)


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    return database_url


@pytest.fixture
def read_only_ledger(tmp_path: Path) -> Iterator[Path]:
    """A ledger with one order, on a read-only file in a read-only folder that ``nobody``
    can read (outside pytest's private temporary folder)."""
    orders = tmp_path / "orders.csv"
    orders.write_text("symbol,side,quantity,correlation_id\nXYZ,BUY,5,ro-batch\n")
    source = tmp_path / "ledger.db"
    done = execledger("execute", str(orders), "--tape", ESCALATION_TAPE, db=f"sqlite:///{source}")
    assert done.returncode == 0, done.stderr
    folder = Path(tempfile.mkdtemp(prefix="execledger-read-only-"))
    ledger = folder / "ledger.db"
    shutil.copyfile(source, ledger)
    ledger.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    yield ledger
    folder.chmod(stat.S_IRWXU)
    shutil.rmtree(folder)


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_a_ledger_on_a_read_only_file_and_folder_can_be_audited(
    command: list[str], read_only_ledger: Path
) -> None:
    """Every read command works on it, exit 0, and leaves it byte for byte as it was."""
    before = read_only_ledger.read_bytes()
    done = subprocess.run(
        [sys.executable, "-c", AS_NOBODY, "--db", f"sqlite:///{read_only_ledger}", *command],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert read_only_ledger.read_bytes() == before
    assert os.listdir(read_only_ledger.parent) == ["ledger.db"]
