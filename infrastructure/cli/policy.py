"""`execledger policy`: what-if pricing and re-peg decisions for traders and auditors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import DomainError, InvalidConfig
from execledger.domain.pricing import price_order
from execledger.domain.quotes import assess_quote
from execledger.domain.repeg import decide_repeg
from execledger.domain.types import Quote, QuoteSource, Side
from execledger.infrastructure.cli.context import print_table
from execledger.infrastructure.config_file import load_execution_config
from rich.table import Table

policy_app = typer.Typer(
    help="What-if: the policy's decisions for a quote you type in.", no_args_is_help=True
)

WHAT_IF_SYMBOL = "WHATIF"
SOURCES = (QuoteSource.STREAM.value, QuoteSource.REST.value)
SIDES = (Side.BUY.value, Side.SELL.value)
ConfigOption = Annotated[Path | None, typer.Option("--config", help="ExecutionConfig file (.toml or .json).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _decimal(option: str, text: str, *, positive: bool = False, signed: bool = False) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        _fail(f"{option}: {text!r} is not a number")
    if not value.is_finite():
        _fail(f"{option}: {text!r} is not a finite number")
    if positive and value <= 0:
        _fail(f"{option}: {text!r} must be greater than zero")
    if value < 0 and not signed:
        _fail(f"{option}: {text!r} must not be negative")
    return value


def _choice(option: str, text: str, allowed: tuple[str, ...]) -> str:
    for value in allowed:
        if text.strip().lower() == value.lower():
            return value
    _fail(f"{option}: {text!r} is not one of {', '.join(allowed)}")


def _config(path: Path | None) -> ExecutionConfig:
    if path is None:
        return ExecutionConfig()
    try:
        return load_execution_config(path)
    except InvalidConfig as error:
        _fail(f"--config: {error}")


def _quote(bid: str, ask: str, bid_size: str, ask_size: str, source: str) -> Quote:
    return Quote(
        symbol=WHAT_IF_SYMBOL,
        bid=_decimal("--bid", bid, signed=True),
        ask=_decimal("--ask", ask, signed=True),
        bid_size=_decimal("--bid-size", bid_size),
        ask_size=_decimal("--ask-size", ask_size),
        quoted_at=datetime.now(UTC),
        source=QuoteSource(_choice("--source", source, SOURCES)),
    )


def _show(title: str, rows: dict[str, object], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(rows, default=str))
        return
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in rows.items():
        if isinstance(value, dict):
            for inner, text in value.items():
                table.add_row(f"{key}.{inner}", str(text))
        elif isinstance(value, list | tuple):
            table.add_row(key, "\n".join(str(item) for item in value) or "-")
        else:
            table.add_row(key, "-" if value is None else str(value))
    print_table(table)


def _warn_if_suspicious(quote: Quote, config: ExecutionConfig) -> None:
    assessment = assess_quote(quote, config, quote.quoted_at)
    for reason in assessment.suspicious_reasons:
        typer.echo(f"warning: suspicious quote: {reason}", err=True)


def _history(text: str) -> list[Decimal]:
    return [_decimal("--history", part, positive=True) for part in text.split(",") if part.strip()]


def _count(option: str, text: str) -> int:
    value = _decimal(option, text)
    if value != value.to_integral_value():
        _fail(f"{option}: {text!r} is not a whole number")
    return int(value)


@policy_app.command("price")
def price(
    bid: Annotated[str, typer.Option("--bid", help="Best bid.")],
    ask: Annotated[str, typer.Option("--ask", help="Best ask.")],
    side: Annotated[str, typer.Option("--side", help="BUY or SELL.")],
    quantity: Annotated[str, typer.Option("--quantity", help="Order quantity.")],
    bid_size: Annotated[str, typer.Option("--bid-size", help="Displayed bid size.")] = "0",
    ask_size: Annotated[str, typer.Option("--ask-size", help="Displayed ask size.")] = "0",
    source: Annotated[
        str, typer.Option("--source", help="stream (liquidity-aware) or rest (inside-spread).")
    ] = "stream",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Price a limit order on a quote (a stream quote is taken as quoted now)."""
    quote = _quote(bid, ask, bid_size, ask_size, source)
    order_side = Side(_choice("--side", side, SIDES))
    amount = _decimal("--quantity", quantity, positive=True)
    settings = _config(config)
    _warn_if_suspicious(quote, settings)
    try:
        decision = price_order(order_side, amount, quote, settings)
    except DomainError as error:
        _fail(f"cannot price: {error}", code=1)
    rows: dict[str, object] = {
        "limit_price": str(decision.limit_price),
        "method": decision.method,
        "tick": str(decision.tick),
        "metadata": decision.metadata,
    }
    _show(f"{order_side.value} {amount} on {quote.bid} / {quote.ask}", rows, as_json)


@policy_app.command("repeg")
def repeg(
    bid: Annotated[str, typer.Option("--bid", help="Best bid now.")],
    ask: Annotated[str, typer.Option("--ask", help="Best ask now.")],
    side: Annotated[str, typer.Option("--side", help="BUY or SELL.")],
    last_price: Annotated[str, typer.Option("--last-price", help="The working limit price.")],
    history: Annotated[str, typer.Option("--history", help="Prices this order already used: P1,P2,...")] = "",
    repegs_done: Annotated[str, typer.Option("--repegs-done", help="Limit re-pegs already made.")] = "0",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decide the next re-peg of an unfilled order, or its escalation to market."""
    quote = _quote(bid, ask, "0", "0", QuoteSource.STREAM.value)
    order_side = Side(_choice("--side", side, SIDES))
    last = _decimal("--last-price", last_price, positive=True)
    used = _history(history)
    done = _count("--repegs-done", repegs_done)
    settings = _config(config)
    try:
        decision = decide_repeg(
            side=order_side,
            quote=quote,
            last_price=last,
            price_history=used,
            repegs_done=done,
            config=settings,
        )
    except DomainError as error:
        _fail(f"cannot re-peg: {error}", code=1)
    rows: dict[str, object] = {
        "action": decision.action,
        "new_price": None if decision.new_price is None else str(decision.new_price),
        "reasons": list(decision.reasons),
        "repeg_number": decision.repeg_number,
    }
    _show(f"{order_side.value} re-peg from {last} on {quote.bid} / {quote.ask}", rows, as_json)
