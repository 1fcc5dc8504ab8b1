"""The ``execledger`` command: one entry point, a database URL option, tables or --json."""

from __future__ import annotations

import sys
from typing import Literal

import typer
from execledger.domain.errors import DomainError
from execledger.infrastructure.cli import audit as audit_command
from execledger.infrastructure.cli import execute as execute_command
from execledger.infrastructure.cli import orders as orders_command
from execledger.infrastructure.cli import replay as replay_command
from execledger.infrastructure.cli import verify as verify_command
from execledger.infrastructure.cli.context import CliState
from execledger.infrastructure.cli.policy import policy_app
from execledger.infrastructure.cli.projections import projections_app
from execledger.infrastructure.cli.report import report_app
from execledger.infrastructure.errors import InfrastructureError
from execledger.infrastructure.logging import configure_logging
from execledger.infrastructure.settings import Settings
from execledger.projections import ProjectionError

app = typer.Typer(
    name="execledger",
    help="Event-sourced execution ledger for smart limit orders.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main_options(
    ctx: typer.Context,
    db: str | None = typer.Option(
        None,
        "--db",
        envvar="EXECLEDGER_DATABASE_URL",
        help="sqlite:///path.db (default sqlite:///execledger.db) or postgresql://user:pass@host/db",
    ),
    log_format: str = typer.Option(
        "console", "--log-format", envvar="EXECLEDGER_LOG_FORMAT", help="console or json"
    ),
    log_level: str = typer.Option("WARNING", "--log-level", envvar="EXECLEDGER_LOG_LEVEL"),
) -> None:
    """Event-sourced execution ledger for smart limit orders."""
    overrides: dict[str, str] = {"log_level": log_level}
    if db:
        overrides["database_url"] = db
    if log_format not in ("console", "json"):
        raise typer.BadParameter("must be console or json", param_hint="--log-format")
    fmt: Literal["console", "json"] = "json" if log_format == "json" else "console"
    settings = Settings(**overrides, log_format=fmt)  # type: ignore[arg-type]
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    ctx.obj = CliState(settings)


app.command("demo")(execute_command.demo)
app.command("execute")(execute_command.execute)
app.command("orders")(orders_command.orders)
app.command("timeline")(orders_command.timeline)
app.command("quality")(orders_command.quality)
app.command("replay")(replay_command.replay)
app.command("verify")(verify_command.verify)
app.command("audit")(audit_command.audit)
app.add_typer(projections_app, name="projections", help="Read models: run, rebuild, status.")
app.add_typer(report_app, name="report", help="Reports: execution-quality, best-execution, order-events.")
app.add_typer(policy_app, name="policy", help="What-if: the policy's price and re-peg decisions.")


def main() -> None:
    """Console-script entry: known errors become one line on stderr and exit code 2."""
    try:
        app()
    except (InfrastructureError, DomainError, ProjectionError) as error:
        sys.stderr.write(f"execledger: error: {error}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write("execledger: interrupted; orders stay as recorded\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
