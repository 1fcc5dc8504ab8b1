"""What every command shares: the settings chosen by global options, and the output."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import typer
from execledger.infrastructure.settings import Settings
from rich.console import Console
from rich.table import Table

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


#: Columns of a table printed with --wide or to a pipe: wide enough never to wrap a cell.
WIDE_COLUMNS = 10_000


def print_table(table: Table, *, wide: bool = False) -> None:
    """Every cell in full: folded onto more lines in a narrow terminal, never cut short;
    one line per row with ``--wide`` or when stdout is not a terminal."""
    for column in table.columns:
        column.overflow = "fold"
    if wide or not console.is_terminal:
        for column in table.columns:
            column.no_wrap = True
        Console(width=WIDE_COLUMNS, no_color=console.no_color).print(table)
    else:
        console.print(table)


def print_json(data: Any) -> None:
    """Machine output: JSON on stdout, Decimals and times as strings."""
    sys.stdout.write(json.dumps(data, default=str, indent=2) + "\n")
