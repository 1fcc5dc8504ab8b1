"""What every command shares: the settings chosen by global options, and the output."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import typer
from execledger.infrastructure.settings import Settings
from rich.console import Console

console = Console()
error_console = Console(stderr=True)


@dataclass(frozen=True)
class CliState:
    """Global options, resolved once in the app callback."""

    settings: Settings


def state_of(ctx: typer.Context) -> CliState:
    """The CliState the app callback stored on the context."""
    state = ctx.find_root().obj
    assert isinstance(state, CliState)
    return state


def print_json(data: Any) -> None:
    """Machine output: JSON on stdout, Decimals and times as strings."""
    sys.stdout.write(json.dumps(data, default=str, indent=2) + "\n")
