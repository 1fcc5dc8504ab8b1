"""What every command shares: the settings chosen by global options, and the output."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import typer
from execledger.infrastructure.database_url import DatabaseUrl, parse_database_url
from execledger.infrastructure.ledger import Ledger, open_ledger
from execledger.infrastructure.settings import Settings
from rich.console import Console

console = Console()
error_console = Console(stderr=True)


@dataclass(frozen=True)
class CliState:
    """Global options, resolved once in the app callback."""

    settings: Settings

    @property
    def database(self) -> DatabaseUrl:
        return parse_database_url(
            self.settings.database_url,
            connect_timeout_seconds=self.settings.database_connect_timeout_seconds,
        )

    def open_ledger(self, *, read_only: bool = False) -> Ledger:
        """The ledger of --db; ``read_only`` for commands that only read: they never
        create a ledger (a mistyped path is "no ledger at ...") and work on a read-only
        file or mount."""
        return open_ledger(self.database, read_only=read_only)


def state_of(ctx: typer.Context) -> CliState:
    """The CliState the app callback stored on the context."""
    state = ctx.find_root().obj
    assert isinstance(state, CliState)
    return state


def print_json(data: Any) -> None:
    """Machine output: JSON on stdout, Decimals and times as strings."""
    sys.stdout.write(json.dumps(data, default=str, indent=2) + "\n")
