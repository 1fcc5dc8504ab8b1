"""The shared rate limiter is visible: the progress display says when execute waits on it,
and the JSON summary and the log report it."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from execledger.infrastructure.alpaca.pacing import PacingState, shared_pacer
from execledger.infrastructure.cli.execute import PacingColumn, pacing_text

from tests.alpaca import forked_cli
from tests.alpaca.cli_runs import FAST, environment_for
from tests.fake_alpaca import FakeAlpaca


def test_the_progress_display_says_when_requests_wait_for_the_pace() -> None:
    """While a request waits for the pacer, the progress column names the limit; not before."""
    pacer = shared_pacer(61)  # a rate no other test uses: 6 requests at once, then 1 a second
    column = PacingColumn()  # it renders the same for every task: none is needed
    for _ in range(6):
        pacer.acquire()
    assert str(column.render(None)) == ""  # type: ignore[arg-type]
    waiter = threading.Thread(target=pacer.acquire)
    waiter.start()
    for _ in range(200):
        if pacer.state().waiting:
            break
        threading.Event().wait(0.005)
    shown = str(column.render(None))  # type: ignore[arg-type]
    waiter.join(5)
    assert shown == "waiting on Alpaca rate limit (61 requests/min)"
    assert str(column.render(None)) == ""  # type: ignore[arg-type]
    assert pacer.state().waits == 1 and pacer.state().waited_seconds > 0


def test_pacing_text_names_the_first_waiting_pacer() -> None:
    """No waiter: nothing; a waiter: its pace."""
    idle, busy = PacingState(150, 0, 3, 1.0), PacingState(60, 2, 5, 2.0)
    assert pacing_text([idle]) == "" and pacing_text([]) == ""
    assert pacing_text([idle, busy]) == "waiting on Alpaca rate limit (60 requests/min)"


def test_a_low_limit_makes_execute_wait_and_say_so(tmp_path: Path, ticking: FakeAlpaca) -> None:
    """At 60 requests a minute (6 at once, then one a second) a one-order batch waits on
    the pace: the JSON summary counts the waits, and the log says when waiting began."""
    orders, config = tmp_path / "orders.csv", tmp_path / "config.json"
    orders.write_text("symbol,side,quantity,idempotency_key\nAAPL,BUY,10,paced-1\n")
    config.write_text(json.dumps(FAST))
    argv = ["--db", f"sqlite:///{tmp_path / 'l.db'}", "--log-format", "json", "--log-level", "INFO"]
    argv += ["execute", str(orders), "--venue", "alpaca-paper", "--config", str(config), "--json"]
    env = environment_for(ticking, EXECLEDGER_ALPACA_REQUESTS_PER_MINUTE="60")
    done = forked_cli.run(argv, env, tmp_path / "run.log")
    assert done.exit_code == 0, done.stderr[-3000:]
    pace = json.loads(done.stdout)["rate_limit"]
    assert pace["requests_per_minute"] == 60 and pace["waits"] >= 1 and pace["waited_seconds"] > 0
    logged = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    waiting = [line for line in logged if line["event"] == "alpaca_rate_limit_waiting"]
    assert waiting and waiting[0]["requests_per_minute"] == 60 and waiting[0]["wait_seconds"] > 0
