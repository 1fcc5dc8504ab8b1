"""The execledger command at its edges: bad or unreachable databases give one line and exit 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from execledger.infrastructure.ledger import open_ledger


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "execledger.infrastructure.cli.app", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "EXECLEDGER_DATABASE_CONNECT_TIMEOUT_SECONDS": "1", **(env or {})},
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _assert_one_line_error(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("execledger: error: ")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "url",
    [
        "foo://x",
        "sqlite://host/x.db",
        "sqlite:///",
        "postgresql://127.0.0.1/db",
        "postgresql://u@127.0.0.1:99999/db",
        "postgresql://u@h/db?schema=bad-name",
    ],
)
def test_a_malformed_database_url_exits_2_with_one_line(url: str) -> None:
    """An unsupported scheme or a malformed URL: one 'execledger: error:' line, exit 2."""
    _assert_one_line_error(_run("--db", url, "verify"))


def test_the_url_can_come_from_the_environment() -> None:
    """EXECLEDGER_DATABASE_URL is read when --db is absent."""
    done = _run("verify", env={"EXECLEDGER_DATABASE_URL": "foo://x"})
    _assert_one_line_error(done)
    assert "foo://x" in done.stderr


def test_an_unreachable_postgresql_exits_2_with_one_line_and_no_password() -> None:
    """A closed port: one line naming the redacted URL, exit 2, no traceback."""
    url = f"postgresql://postgres:s3cret@127.0.0.1:{_closed_port()}/execledger"
    done = _run("--db", url, "verify")
    _assert_one_line_error(done)
    assert "s3cret" not in done.stderr
    assert "cannot open the ledger" in done.stderr


def test_verify_of_an_empty_sqlite_ledger_exits_0(tmp_path: Path) -> None:
    """A ledger with no order yet verifies with zero orders."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    open_ledger(url).close()
    done = _run("--db", url, "verify")
    assert done.returncode == 0, done.stderr
    assert "0 orders" in done.stdout


def test_verify_of_a_missing_sqlite_file_is_no_ledger(tmp_path: Path) -> None:
    """verify never creates the ledger it was asked to check (see test_read_only_ledger)."""
    done = _run("--db", f"sqlite:///{tmp_path / 'new.db'}", "verify")
    _assert_one_line_error(done)
    assert "no ledger at" in done.stderr and not (tmp_path / "new.db").exists()


def test_verify_json_on_both_backends(database_url: str) -> None:
    """`verify --json` prints the machine report on both backends."""
    open_ledger(database_url).close()
    done = _run("--db", database_url, "verify", "--json")
    assert done.returncode == 0, done.stderr
    assert '"ok": true' in done.stdout


@pytest.mark.parametrize("group", [[], ["report"]])
def test_a_group_called_with_nothing_after_it_shows_its_help_and_exits_2(group: list[str]) -> None:
    """No subcommand: the group's help on stdout, nothing on stderr, exit 2."""
    done = _run(*group)
    assert done.returncode == 2, done.stderr
    assert "Usage: " in done.stdout
    assert "Commands" in done.stdout
    assert done.stderr == ""


def test_an_unknown_option_exits_2_with_one_line() -> None:
    """A bad option is a usage error: one line naming it, no usage box."""
    done = _run("orders", "--bogus")
    _assert_one_line_error(done)
    assert "--bogus" in done.stderr
