"""The CLI in cheap child processes: forked from one process that imported execledger once.

A fresh ``python -m execledger...`` pays ~2 s of interpreter and import start-up; the
crash tests run the CLI some hundred times. multiprocessing's ``forkserver`` start
method keeps one single-threaded server process with the CLI pre-imported and forks each
child from it, so a child is still a real separate process (its own pid, killable with
SIGKILL, nothing shared with pytest) but starts in milliseconds.

``kill_after_events``: the child SIGKILLs itself right after the save that commits its
Nth ledger event (counted by the ledger's own after-commit hook), so a kill lands at an
exact point of the run instead of at a guessed time.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

_CONTEXT = multiprocessing.get_context("forkserver")
#: The CLI, and the Alpaca adapters it loads only when an Alpaca venue is used.
_PRELOAD = ["execledger.infrastructure.cli.app", "execledger.infrastructure.alpaca.venue", __name__]
_CONTEXT.set_forkserver_preload(_PRELOAD)
#: multiprocessing reads a child's exit status off a pipe, once, in whichever thread polls
#: first, and every ``start()`` polls all children: two threads polling at once leave one
#: with EOF and a false exit code 255. Starts and polls take turns.
_POLLING = threading.Lock()


@dataclass(frozen=True)
class Run:
    """A finished CLI child: its exit code (``-9`` when SIGKILLed), stdout and stderr."""

    exit_code: int | None
    stdout: str
    stderr: str


def start(
    argv: Sequence[str], env: Mapping[str, str], log: Path, *, kill_after_events: int = 0
) -> BaseProcess:
    """Start ``execledger ARGV`` in a forked child with exactly ``env``; its stderr goes to
    ``log``, its stdout to ``log`` with the suffix ``.out``."""
    process = _CONTEXT.Process(
        target=_child, args=(list(argv), dict(env), str(log), kill_after_events), daemon=True
    )
    with _POLLING:
        process.start()
    return process


def finish(process: BaseProcess, log: Path, timeout: float = 60) -> Run:
    """Wait for ``process`` (killing it past ``timeout``) and read its output."""
    wait([process.sentinel], timeout)
    with _POLLING:
        exit_code = process.exitcode
    if exit_code is None:
        process.kill()
        raise AssertionError(f"execledger child still running after {timeout}s:\n{_read(log)}")
    return Run(exit_code, _read(_stdout(log)), _read(log))


def _stdout(log: Path) -> Path:
    return log.with_suffix(".out")


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def run(argv: Sequence[str], env: Mapping[str, str], log: Path, *, kill_after_events: int = 0) -> Run:
    """``execledger ARGV`` in a forked child, to its end (or its self-inflicted SIGKILL)."""
    return finish(start(argv, env, log, kill_after_events=kill_after_events), log)


def _child(argv: list[str], env: dict[str, str], log: str, kill_after_events: int) -> None:
    """The child: the environment replaced, output to files, then the CLI's main()."""
    os.environ.clear()
    os.environ.update(env)
    for stream, path in ((1, _stdout(Path(log))), (2, Path(log))):
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), stream)
    if kill_after_events:
        _kill_after(kill_after_events)
    from execledger.infrastructure.cli.app import main

    sys.argv = ["execledger", *argv]
    main()


def _kill_after(events: int) -> None:
    """SIGKILL this process right after the commit that holds its ``events``-th event."""
    from execledger.infrastructure.ledger import Ledger

    committed = 0
    notify = Ledger._notify

    def counting(self: Ledger, recordings: Any) -> None:
        nonlocal committed
        committed += len(recordings)
        if committed >= events:
            os.kill(os.getpid(), signal.SIGKILL)
        notify(self, recordings)

    Ledger._notify = counting  # type: ignore[method-assign]
