"""Crash recovery at Alpaca: ``execute --venue alpaca-paper`` SIGKILLed at 32 seeded points
of its run against the fake Alpaca, then run again to completion.

Kill points are exact, not timed: right after the commit of the run's Nth ledger event
(the child kills itself there), or while the fake holds the Nth POST or DELETE of the
run (before it acts on it: the broker never got it; after: the broker did it, the client
never hears), or right after the fake published the Nth fill of a burst. After every
run: exactly one broker order per placement intent (every broker order of the run is a
placement the ledger recorded, none shared and none still working), the ledger's filled
quantity equals the broker's per order, nothing overfilled, and ``verify`` and
``replay`` are clean.

Cost: one fake for every run; each run's orders trade their own symbol (so runs cannot
touch each other's orders and can go four at a time); the CLI runs in children forked
from one pre-imported process (``forked_cli``) instead of a fresh interpreter each.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from multiprocessing.process import BaseProcess
from pathlib import Path

import pytest
from execledger.domain.types import Quote

from tests.alpaca import forked_cli
from tests.alpaca.cli_runs import environment_for
from tests.alpaca.invariants import ledger_against_broker
from tests.builders import a_quote
from tests.fake_alpaca import FakeAlpaca
from tests.fake_alpaca.tripwires import Moment, Tripwire

SEED = 9
RUNS = 32
AT_ONCE = 4
LEASE_TTL_SECONDS = 1.5
#: Short waits, so that a restart settles a placement the broker never got within ~2 s.
CONFIG = {
    "fill_wait_seconds": "0.2",
    "repeg_check_interval_seconds": "0.05",
    "max_repegs": 1,
    "broker_timeout_seconds": "1",
    "cancel_confirm_timeout_seconds": "1",
    "retry_initial_backoff_seconds": "0.05",
    "retry_max_backoff_seconds": "0.2",
    "retry_max_attempts": 2,
}
#: BUY 150 against 60 shares offered per quote, two quotes a tick: a burst of fills.
ORDERS = "symbol,side,quantity,idempotency_key\n{s},BUY,10,{s}-1\n{s},SELL,7,{s}-2\n{s},BUY,150,{s}-3\n"


@dataclass(frozen=True)
class KillPoint:
    """Where a run is killed: after its Nth ledger event, or at the Nth POST/DELETE/fill."""

    route: str  # "event", "POST", "DELETE" or "fill"
    nth: int
    moment: Moment | None = None

    def __str__(self) -> str:
        return f"{self.route} #{self.nth}" + (f" ({self.moment.value})" if self.moment else "")


def kill_points(seed: int, runs: int) -> list[KillPoint]:
    """``runs`` different kill points drawn from ``seed``: one of every kind first."""
    kinds: list[list[KillPoint]] = [
        [KillPoint("event", n) for n in range(1, 35)],
        [KillPoint("POST", n, Moment.BEFORE_HANDLING) for n in range(1, 5)],
        [KillPoint("POST", n, Moment.AFTER_HANDLING) for n in range(1, 5)],
        [KillPoint("DELETE", n, Moment.BEFORE_HANDLING) for n in range(1, 3)],
        [KillPoint("DELETE", n, Moment.AFTER_HANDLING) for n in range(1, 3)],
        [KillPoint("fill", n, Moment.FILL_PUBLISHED) for n in range(1, 4)],
    ]
    rng = random.Random(seed)
    first = [rng.choice(points) for points in kinds]
    rest = [point for points in kinds for point in points if point not in first]
    return first + rng.sample(rest, runs - len(first))


class Market:
    """The fake's quotes for the symbols being traded, two per symbol every 0.1 s."""

    def __init__(self, fake: FakeAlpaca) -> None:
        self._fake = fake
        self._symbols: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="crash-market", daemon=True)

    def open(self, symbol: str) -> None:
        self._fake.quote(self._quote(symbol))
        with self._lock:
            self._symbols.add(symbol)

    def close(self, symbol: str) -> None:
        with self._lock:
            self._symbols.discard(symbol)

    def _quote(self, symbol: str) -> Quote:
        return a_quote(symbol=symbol, ask_size=Decimal("60"), quoted_at=datetime.now(UTC))

    def _tick(self) -> None:
        while not self._stop.wait(0.1):
            with self._lock:
                symbols = sorted(self._symbols)
            for symbol in symbols:
                for _ in range(2):
                    self._fake.quote(self._quote(symbol))

    def __enter__(self) -> Market:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture(scope="module")
def market() -> Iterator[tuple[FakeAlpaca, Market]]:
    with FakeAlpaca() as fake, Market(fake) as quotes:
        yield fake, quotes


def test_kill_points_cover_every_window() -> None:
    """The seeded points include each window the crash test must hit, at least 30 in all."""
    points = kill_points(SEED, RUNS)
    assert len(set(points)) >= 30
    assert {(p.route, p.moment) for p in points} == {
        ("event", None),
        ("POST", Moment.BEFORE_HANDLING),  # between PlacementRequested and the broker's answer
        ("POST", Moment.AFTER_HANDLING),
        ("DELETE", Moment.BEFORE_HANDLING),  # between a cancel request and its confirmation
        ("DELETE", Moment.AFTER_HANDLING),
        ("fill", Moment.FILL_PUBLISHED),  # during a fill burst
    }


def test_execute_killed_at_32_points_restarts_to_the_brokers_truth(
    tmp_path: Path, market: tuple[FakeAlpaca, Market]
) -> None:
    """Each run: SIGKILL at its point, restart to completion, then the invariants hold."""
    fake, quotes = market
    forked_cli.run(["--help"], {}, tmp_path / "warm-up.log")  # the fork server, once
    points = kill_points(SEED, RUNS)
    with ThreadPoolExecutor(AT_ONCE) as pool:
        outcomes = list(
            pool.map(lambda item: _crash_and_recover(fake, quotes, tmp_path, *item), enumerate(points))
        )
    failures = [outcome for outcome in outcomes if outcome]
    assert not failures, "\n\n".join(failures)


def _crash_and_recover(
    fake: FakeAlpaca, quotes: Market, tmp_path: Path, number: int, point: KillPoint
) -> str:
    """One run; returns what went wrong ('' when every invariant held)."""
    symbol = f"CR{number:02d}"
    folder = tmp_path / symbol
    folder.mkdir()
    orders, config = folder / "orders.csv", folder / "config.json"
    orders.write_text(ORDERS.format(s=symbol))
    config.write_text(json.dumps(CONFIG))
    db = f"sqlite:///{folder / 'ledger.db'}"
    env = environment_for(
        fake,
        EXECLEDGER_LEASE_TTL_SECONDS=str(LEASE_TTL_SECONDS),
        EXECLEDGER_ALPACA_REQUESTS_PER_MINUTE="100000",
    )
    execute = ["--db", db, "execute", str(orders), "--venue", "alpaca-paper", "--config", str(config)]
    quotes.open(symbol)
    try:
        killed = _killed_run(fake, symbol, point, [*execute, "--json"], env, folder)
        if killed.exit_code != -signal.SIGKILL:
            return f"{symbol} at {point}: not killed (exit {killed.exit_code}):\n{killed.stderr[-3000:]}"
        time.sleep(LEASE_TTL_SECONDS)  # the dead process's leases expire
        done = forked_cli.run([*execute, "--json"], env, folder / "restart.log")
        if done.exit_code != 0:
            return f"{symbol} at {point}: restart exit {done.exit_code}:\n{done.stderr[-3000:]}"
        summary = json.loads(done.stdout)
        if summary["skipped"]:
            return f"{symbol} at {point}: restart skipped {summary['skipped']}"
        problems = ledger_against_broker(fake, symbol, db)
        for command in ("verify", "replay"):
            checked = forked_cli.run(["--db", db, command], env, folder / f"{command}.log")
            if checked.exit_code != 0:
                problems.append(
                    f"{command} exit {checked.exit_code}: {checked.stdout[-1000:] + checked.stderr[-1000:]}"
                )
        return "\n".join(f"{symbol} at {point}: {problem}" for problem in problems)
    finally:
        quotes.close(symbol)


def _killed_run(
    fake: FakeAlpaca, symbol: str, point: KillPoint, argv: list[str], env: dict[str, str], folder: Path
) -> forked_cli.Run:
    """``execute`` killed with SIGKILL at ``point``."""
    log = folder / "killed.log"
    if point.route == "event":
        return forked_cli.run(argv, env, log, kill_after_events=point.nth)
    child: list[BaseProcess] = []
    assert point.moment is not None
    wire = fake.tripwires.arm(Tripwire(point.route, symbol, point.nth, point.moment, lambda: _kill(child[0])))
    try:
        child.append(forked_cli.start(argv, env, log))
        return forked_cli.finish(child[0], log)
    finally:
        fake.tripwires.disarm(wire)


def _kill(process: BaseProcess) -> None:
    """SIGKILL ``process`` and wait (briefly) until it is gone, so nothing it does follows."""
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{process.pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return
        except FileNotFoundError:
            return
        time.sleep(0.001)
