"""Running the CLI in a subprocess against a fake Alpaca, with fast execution settings."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.fake_alpaca import FakeAlpaca

FAST = {
    "fill_wait_seconds": "0.3",
    "repeg_check_interval_seconds": "0.1",
    "max_repegs": 1,
    "broker_timeout_seconds": "2",
    "cancel_confirm_timeout_seconds": "2",
}


def environment_for(fake: FakeAlpaca, **env: str) -> dict[str, str]:
    """The process environment pointing the CLI at ``fake`` (no real keys inherited)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "EXECLEDGER_"))}
    environment.update(fake.environment())
    environment["EXECLEDGER_ALPACA_STREAM_RECONNECT_SECONDS"] = "0.1"
    environment.update(env)
    return {k: v for k, v in environment.items() if v != ""}


def execledger(fake: FakeAlpaca, db: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would, against ``fake`` (``env`` set to "" removes a variable)."""
    return subprocess.run(
        [sys.executable, "-m", "execledger.infrastructure.cli.app", "--db", db, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment_for(fake, **env),
    )
