"""Every value from outside is checked before anything is written (issue 8, section 4).

Each bad input, run through the real command line in a subprocess, ends with exit 2, one
line on stderr naming the row (or file, or option) and the field, no traceback, and the
ledger exactly as it was: the ledger here already holds one order, so "unchanged" means
something.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.scenario import TAPES

TAPE = str(TAPES / "escalation.csv")
HEADER = "symbol,side,quantity"


def run(*args: str, db: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, with extra environment variables."""
    return subprocess.run(
        [sys.executable, "-m", "execledger.infrastructure.cli.app", "--db", db, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def stored_events(db: str) -> int:
    """How many events the ledger holds."""
    from execledger.infrastructure.ledger import open_ledger

    with open_ledger(db) as ledger:
        return ledger.recorder.max_notification_id() or 0


@pytest.fixture(scope="module")
def seeded_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite ledger holding one finished order, copied by each test."""
    folder = tmp_path_factory.mktemp("seed")
    orders = folder / "seed.csv"
    orders.write_text(f"{HEADER},idempotency_key\nXYZ,BUY,5,seed-1\n")
    db = f"sqlite:///{folder / 'ledger.db'}"
    done = run("execute", str(orders), "--tape", TAPE, db=db)
    assert done.returncode == 0, done.stderr
    return folder / "ledger.db"


@pytest.fixture
def ledger_url(seeded_ledger: Path, tmp_path: Path) -> str:
    copy = tmp_path / "ledger.db"
    shutil.copyfile(seeded_ledger, copy)
    url = f"sqlite:///{copy}"
    assert stored_events(url) > 0, "the seeded ledger holds events"
    return url


def assert_refused(done: subprocess.CompletedProcess[str], *names: str) -> None:
    """Exit 2, one line on stderr naming each of ``names``, no traceback."""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])


# ---- orders files -----------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INTEGER = "1" + "0" * 5000

ORDERS_FILES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # case: (file name, file content, what the message names)
    "nul in account": (
        "o.csv",
        f"{HEADER},account\nXYZ,BUY,5,acc\x00t\n",
        ("row 1", "account"),
    ),
    "control char in idempotency key": (
        "o.csv",
        f"{HEADER},idempotency_key\nXYZ,BUY,5,key\x1b[31m\n",
        ("row 1", "idempotency_key"),
    ),
    "control char in correlation id": (
        "o.csv",
        f"{HEADER},correlation_id\nXYZ,BUY,5,batch\x07\n",
        ("row 1", "correlation_id"),
    ),
    "nul in symbol": ("o.csv", f"{HEADER}\nXY\x00Z,BUY,5\n", ("row 1", "symbol")),
    "quantity 1e30": ("o.csv", f"{HEADER}\nXYZ,BUY,1e30\n", ("row 1", "quantity")),
    "quantity with 13 integer digits": (
        "o.csv",
        f"{HEADER}\nXYZ,BUY,1234567890123\n",
        ("row 1", "quantity"),
    ),
    "quantity with 10 decimals": ("o.csv", f"{HEADER}\nXYZ,BUY,1.0000000001\n", ("row 1", "quantity")),
    "quantity 1_000": ("o.csv", f"{HEADER}\nXYZ,BUY,1_000\n", ("row 1", "quantity")),
    "more values than header": ("o.csv", f"{HEADER}\nXYZ,BUY,5,extra\n", ("row 1",)),
    "fewer values than header": ("o.csv", f"{HEADER},urgency\nXYZ,BUY,5,LOW\nXYZ,BUY\n", ("row 2",)),
    "duplicate header column": ("o.csv", "symbol,side,quantity,quantity\nXYZ,BUY,5,6\n", ("quantity",)),
    "quoted multi-line cell": ("o.csv", f'{HEADER}\nXYZ,BUY,5\n"XY\nZ",BUY,5\n', ("row 2", "symbol")),
    "not utf-8": ("o.csv", f"{HEADER},account\nXYZ,BUY,5,caf\udce9\n", ("UTF-8",)),
    "duplicate json key": (
        "o.json",
        '[{"symbol": "XYZ", "side": "BUY", "quantity": 5, "quantity": 6}]',
        ("row 1", "quantity"),
    ),
    "json integer of thousands of digits": (
        "o.json",
        f'[{{"symbol": "XYZ", "side": "BUY", "quantity": {HUGE_INTEGER}}}]',
        ("row 1", "quantity"),
    ),
    "deeply nested json": ("o.json", DEEP, ("o.json",)),
    "json lone surrogate": (
        "o.json",
        '[{"symbol": "XYZ", "side": "BUY", "quantity": 5, "account": "a\\ud800"}]',
        ("row 1", "account"),
    ),
    "json nested value": (
        "o.json",
        '[{"symbol": "XYZ", "side": "BUY", "quantity": 5, "account": ["a"]}]',
        ("row 1", "account"),
    ),
    "json float quantity with noise": (
        "o.json",
        '[{"symbol": "XYZ", "side": "BUY", "quantity": 1e30}]',
        ("row 1", "quantity"),
    ),
    "json bool complete_exit as text": (
        "o.json",
        '[{"symbol": "XYZ", "side": "BUY", "quantity": 5, "complete_exit": "maybe"}]',
        ("row 1", "complete_exit"),
    ),
}


@pytest.mark.parametrize("case", sorted(ORDERS_FILES))
def test_a_bad_orders_file_is_refused_and_nothing_is_written(
    case: str, tmp_path: Path, ledger_url: str
) -> None:
    """Exit 2, one line naming the row and field, the ledger unchanged."""
    name, text, names = ORDERS_FILES[case]
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    before = stored_events(ledger_url)
    done = run("execute", str(path), "--tape", TAPE, db=ledger_url)
    assert_refused(done, *names)
    assert stored_events(ledger_url) == before


# ---- config files -----------------------------------------------------------------------

CONFIGS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "int given a bool": ("c.toml", "max_repegs = true\n", ("max_repegs",)),
    "bool given text": ("c.json", '{"allow_cross_spread_on_repeg": "yes"}', ("allow_cross_spread_on_repeg",)),
    "bool given a number": ("c.json", '{"allow_cross_spread_on_repeg": 1}', ("allow_cross_spread_on_repeg",)),
    "small liquidity ratio above large": (
        "c.toml",
        "liquidity_small_ratio = 0.9\nliquidity_large_ratio = 0.5\n",
        ("liquidity_small_ratio",),
    ),
    "initial backoff above maximum": (
        "c.toml",
        "retry_initial_backoff_seconds = 10\nretry_max_backoff_seconds = 1\n",
        ("retry_initial_backoff_seconds",),
    ),
    "check interval that spins": (
        "c.toml",
        "repeg_check_interval_seconds = 0.000001\n",
        ("repeg_check_interval_seconds",),
    ),
    "duplicate json key": ("c.json", '{"max_repegs": 1, "max_repegs": 5}', ("max_repegs",)),
    "deeply nested json": ("c.json", DEEP, ("c.json",)),
    "json integer of thousands of digits": ("c.json", f'{{"max_repegs": {HUGE_INTEGER}}}', ("max_repegs",)),
    "huge wait": ("c.toml", "fill_wait_seconds = 1e30\n", ("fill_wait_seconds",)),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_a_bad_config_file_is_refused_and_nothing_is_written(
    case: str, tmp_path: Path, ledger_url: str
) -> None:
    """Exit 2, one line naming the field, the ledger unchanged."""
    name, text, names = CONFIGS[case]
    config = tmp_path / name
    config.write_text(text, encoding="utf-8")
    orders = tmp_path / "o.csv"
    orders.write_text(f"{HEADER}\nXYZ,BUY,5\n")
    before = stored_events(ledger_url)
    done = run("execute", str(orders), "--tape", TAPE, "--config", str(config), db=ledger_url)
    assert_refused(done, *names)
    assert stored_events(ledger_url) == before


@pytest.mark.parametrize("name", ["c.toml", "c.json"])
def test_a_config_file_with_a_byte_order_mark_is_read_like_an_orders_file(tmp_path: Path, name: str) -> None:
    """Orders files and tapes with a BOM are accepted; so are config files."""
    from execledger.infrastructure.config_file import load_execution_config

    text = "max_repegs = 3\n" if name.endswith(".toml") else '{"max_repegs": 3}'
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_execution_config(path).max_repegs == 3


# ---- tapes ------------------------------------------------------------------------------

TAPE_HEAD = "timestamp,symbol,bid,ask,bid_size,ask_size\n"
TAPES_BAD: dict[str, tuple[str, tuple[str, ...]]] = {
    "nul in symbol": (
        TAPE_HEAD + "2026-01-05T14:30:00+00:00,XY\x00Z,100.00,100.50,100,20\n",
        ("line 2", "symbol"),
    ),
    "size 1_000": (
        TAPE_HEAD + "2026-01-05T14:30:00+00:00,XYZ,100.00,100.50,1_000,20\n",
        ("line 2", "bid_size"),
    ),
    "price 1e30": (TAPE_HEAD + "2026-01-05T14:30:00+00:00,XYZ,1e30,100.50,100,20\n", ("line 2", "bid")),
    "multi-line cell": (
        TAPE_HEAD + '2026-01-05T14:30:00+00:00,"XY\nZ",100.00,100.50,100,20\n',
        ("line 2", "symbol"),
    ),
}


@pytest.mark.parametrize("case", sorted(TAPES_BAD))
def test_a_bad_tape_is_refused_and_nothing_is_written(case: str, tmp_path: Path, ledger_url: str) -> None:
    """A tape is outside input too: exit 2 naming the line and field."""
    text, names = TAPES_BAD[case]
    tape = tmp_path / "tape.csv"
    tape.write_text(text)
    orders = tmp_path / "o.csv"
    orders.write_text(f"{HEADER}\nXYZ,BUY,5\n")
    before = stored_events(ledger_url)
    done = run("execute", str(orders), "--tape", str(tape), db=ledger_url)
    assert_refused(done, *names)
    assert stored_events(ledger_url) == before


# ---- environment and options ------------------------------------------------------------

SETTINGS: dict[str, tuple[Callable[[str], list[str]], dict[str, str], tuple[str, ...]]] = {
    "non-numeric connect timeout": (
        lambda _: ["verify"],
        {"EXECLEDGER_DATABASE_CONNECT_TIMEOUT_SECONDS": "soon"},
        ("EXECLEDGER_DATABASE_CONNECT_TIMEOUT_SECONDS",),
    ),
    "negative poll interval": (
        lambda _: ["verify"],
        {"EXECLEDGER_PROJECTION_POLL_INTERVAL_SECONDS": "-1"},
        ("EXECLEDGER_PROJECTION_POLL_INTERVAL_SECONDS",),
    ),
    "negative fold wait": (
        lambda _: ["verify"],
        {"EXECLEDGER_PROJECTION_FOLD_WAIT_SECONDS": "-0.5"},
        ("EXECLEDGER_PROJECTION_FOLD_WAIT_SECONDS",),
    ),
    "bogus log level option": (lambda _: ["--log-level", "BOGUS", "verify"], {}, ("--log-level",)),
    "bogus log level variable": (lambda _: ["verify"], {"EXECLEDGER_LOG_LEVEL": "BOGUS"}, ("--log-level",)),
    "bogus log format": (lambda _: ["--log-format", "xml", "verify"], {}, ("--log-format",)),
    "demo with no orders": (lambda _: ["demo", "--orders", "0"], {}, ("--orders",)),
    "seed not a number": (lambda orders: ["execute", orders, "--seed", "x"], {}, ("--seed",)),
}


@pytest.mark.parametrize("case", sorted(SETTINGS))
def test_a_bad_setting_or_option_is_refused_and_nothing_is_written(
    case: str, tmp_path: Path, ledger_url: str
) -> None:
    """Environment settings and CLI numbers: exit 2 naming the variable or option."""
    arguments, env, names = SETTINGS[case]
    orders = tmp_path / "o.csv"
    orders.write_text(f"{HEADER}\nXYZ,BUY,5\n")
    before = stored_events(ledger_url)
    done = run(*arguments(str(orders)), db=ledger_url, env=env)
    assert_refused(done, *names)
    assert stored_events(ledger_url) == before


def test_no_command_shows_the_help_and_exits_2() -> None:
    """Usage errors are one line, but a bare ``execledger`` still shows the full help."""
    done = subprocess.run(
        [sys.executable, "-m", "execledger.infrastructure.cli.app"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Usage:" in done.stdout and "execute" in done.stdout
