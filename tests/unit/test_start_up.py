"""Commands that never talk to Alpaca do not pay for importing alpaca-py (and pandas)."""

from __future__ import annotations

import subprocess
import sys


def test_the_cli_loads_without_alpaca_py_until_an_alpaca_venue_is_used() -> None:
    probe = (
        "import sys, execledger.infrastructure.cli.app\n"
        "from execledger.infrastructure.bootstrap import venue_names\n"
        "assert 'alpaca-paper' in venue_names()\n"
        "print(sorted(m for m in ('alpaca', 'pandas') if m in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_every_alpaca_name_still_resolves_from_the_package() -> None:
    from execledger.infrastructure import alpaca

    assert {name: getattr(alpaca, name).__name__ for name in alpaca.__all__} == {
        name: name for name in alpaca.__all__
    }
