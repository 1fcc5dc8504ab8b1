"""``execledger report``: reports on the read models (execution quality for now)."""

from __future__ import annotations

import typer
from execledger.infrastructure.cli.orders import quality

report_app = typer.Typer(
    name="report",
    help="Reports built from the read models.",
    no_args_is_help=True,
)
report_app.command("execution-quality")(quality)
report_app.command("quality", hidden=True)(quality)
