"""The ``execledger`` command: one entry point, a database URL option, tables or --json."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from execledger.domain.errors import DomainError
from execledger.infrastructure.cli import alpaca as alpaca_command
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
from execledger.infrastructure.settings import load_settings
from execledger.projections import ProjectionError

#: The exit code of a run stopped by Ctrl-C (128 + SIGINT).
INTERRUPTED = 130

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
    overrides = {"log_level": log_level, "log_format": log_format}
    if db is not None:
        overrides["database_url"] = db
    settings = load_settings(**overrides)
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
app.command("reconcile")(alpaca_command.reconcile_command)
app.add_typer(projections_app, name="projections", help="Read models: run, rebuild, status.")
app.add_typer(report_app, name="report", help="Reports: execution-quality, best-execution, order-events.")
app.add_typer(policy_app, name="policy", help="What-if: the policy's price and re-peg decisions.")


def main() -> None:
    """Console-script entry: known errors and bad options become one line on stderr and
    exit code 2 (no usage box, no traceback); Ctrl-C exits 130."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as error:
        if _is_help_for_no_arguments(error):
            app(args=[*sys.argv[1:], "--help"], standalone_mode=False)  # the (rich) help itself
            sys.exit(error.exit_code)
        _fail(error.format_message())
    except (InfrastructureError, DomainError, ProjectionError) as error:
        _fail(str(error))
    except (KeyboardInterrupt, typer.Abort):
        code = INTERRUPTED
    if code == INTERRUPTED:
        sys.stderr.write("execledger: interrupted; orders stay as recorded\n")
    sys.exit(code if isinstance(code, int) else 0)


def _is_help_for_no_arguments(error: typer.TyperException) -> bool:
    """Whether a group was called with nothing after it (``no_args_is_help``).

    Typer exports no name for that error (its click is vendored as the private
    ``typer._click``), so it is told by class name, as typer's own rich error
    formatter does."""
    return type(error).__name__ == "NoArgsIsHelpError"


def _fail(message: str) -> NoReturn:
    """One line on stderr (the first line of ``message``), exit code 2."""
    line = message.strip().splitlines()[0] if message.strip() else "error"
    sys.stderr.write(f"execledger: error: {line}\n")
    sys.exit(2)


if __name__ == "__main__":
    main()
