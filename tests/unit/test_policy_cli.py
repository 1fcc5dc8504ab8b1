"""The what-if commands `policy price` and `policy repeg`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from execledger.infrastructure.cli.policy import policy_app
from typer.testing import CliRunner

RUNNER = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    """Invoke policy_app; return exit code, stdout and stderr."""
    result = RUNNER.invoke(policy_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> dict[str, object]:
    """Invoke with --json, expect success, and parse stdout."""
    code, out, err = run(*args, "--json")
    assert code == 0, err
    parsed: dict[str, object] = json.loads(out)
    return parsed


def test_price_rest_quote_gives_the_inside_spread_price() -> None:
    """price on a REST quote 100.00/100.50 BUY gives 100.01, with the four JSON keys."""
    data = run_json(
        "price",
        "--bid",
        "100.00",
        "--ask",
        "100.50",
        "--side",
        "BUY",
        "--quantity",
        "10",
        "--source",
        "rest",
    )
    assert set(data) == {"limit_price", "method", "tick", "metadata"}
    assert (data["limit_price"], data["method"], data["tick"]) == (
        "100.01",
        "inside_spread",
        "0.01",
    )


def test_price_stream_quote_is_fresh_and_liquidity_aware() -> None:
    """A stream quote is taken as quoted now, so it is priced liquidity-aware."""
    data = run_json(
        "price",
        "--bid",
        "0.5012",
        "--ask",
        "0.5050",
        "--bid-size",
        "1000",
        "--ask-size",
        "1000",
        "--side",
        "buy",
        "--quantity",
        "1000",
        "--source",
        "stream",
    )
    assert (data["limit_price"], data["method"], data["tick"]) == (
        "0.5014",
        "liquidity_aware",
        "0.0001",
    )
    metadata = data["metadata"]
    assert isinstance(metadata, dict) and metadata["recommendation"] == "split"


def test_price_human_output_is_a_table() -> None:
    """Without --json the decision is printed as a table."""
    code, out, _ = run(
        "price",
        "--bid",
        "100",
        "--ask",
        "200",
        "--side",
        "SELL",
        "--quantity",
        "1",
        "--source",
        "rest",
    )
    assert code == 0 and "199.99" in out and "inside_spread" in out


def test_price_warns_about_a_suspicious_quote_on_stderr() -> None:
    """A suspicious quote is still priced, with a warning line on stderr."""
    code, out, err = run(
        "price",
        "--bid",
        "100",
        "--ask",
        "115",
        "--side",
        "BUY",
        "--quantity",
        "1",
        "--source",
        "rest",
        "--json",
    )
    assert code == 0 and json.loads(out)["limit_price"] == "100.01"
    assert "wide spread" in err


def test_price_on_a_crossed_quote_exits_1_with_the_reason() -> None:
    """A crossed quote cannot be priced: exit 1 and the reason on stderr."""
    code, _, err = run("price", "--bid", "100", "--ask", "99", "--side", "BUY", "--quantity", "1")
    assert code == 1 and "crossed" in err


@pytest.mark.parametrize(
    ("option", "args"),
    [
        ("--bid", ["--bid", "abc", "--ask", "1", "--side", "BUY", "--quantity", "1"]),
        ("--ask", ["--bid", "1", "--ask", "1..2", "--side", "BUY", "--quantity", "1"]),
        ("--quantity", ["--bid", "1", "--ask", "2", "--side", "BUY", "--quantity", "0"]),
        ("--quantity", ["--bid", "1", "--ask", "2", "--side", "BUY", "--quantity", "NaN"]),
        (
            "--bid-size",
            ["--bid", "1", "--ask", "2", "--side", "BUY", "--quantity", "1", "--bid-size", "-5"],
        ),
        ("--side", ["--bid", "1", "--ask", "2", "--side", "HOLD", "--quantity", "1"]),
        (
            "--source",
            ["--bid", "1", "--ask", "2", "--side", "BUY", "--quantity", "1", "--source", "tape"],
        ),
    ],
)
def test_price_bad_input_exits_2_naming_the_option(option: str, args: list[str]) -> None:
    """A bad number or choice prints one line naming the option and exits 2."""
    code, _, err = run("price", *args)
    assert code == 2
    assert err.strip().startswith(option) and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--bid", "100", "--ask", "101", "--side", "BUY", "--last-price", "100.25"], "101.02"),
        (["--bid", "100", "--ask", "101", "--side", "SELL", "--last-price", "100.75"], "99.98"),
        (["--bid", "100", "--ask", "100.50", "--side", "BUY", "--last-price", "100.25"], "100.52"),
    ],
)
def test_repeg_acceptance_numbers_with_crossing(args: list[str], expected: str) -> None:
    """repeg prints action, new_price, reasons and repeg_number for the acceptance cases."""
    data = run_json("repeg", *args)
    assert data["action"] == "repeg" and data["new_price"] == expected
    assert data["repeg_number"] == 1 and data["reasons"]


def test_repeg_history_moves_a_used_price_one_step(tmp_path: Path) -> None:
    """--history 100.25,101.02 makes the BUY go to 101.04."""
    data = run_json(
        "repeg",
        "--bid",
        "100",
        "--ask",
        "101",
        "--side",
        "BUY",
        "--last-price",
        "101.02",
        "--history",
        "100.25,101.02",
        "--repegs-done",
        "1",
    )
    assert data["new_price"] == "101.04"


def test_repeg_escalates_when_repegs_are_exhausted() -> None:
    """--repegs-done 2 with the default max_repegs=2 escalates with no new price."""
    data = run_json(
        "repeg",
        "--bid",
        "100",
        "--ask",
        "101",
        "--side",
        "BUY",
        "--last-price",
        "101.04",
        "--repegs-done",
        "2",
    )
    assert (data["action"], data["new_price"], data["repeg_number"]) == ("escalate", None, None)


def test_repeg_reads_the_config_file(tmp_path: Path) -> None:
    """--config with crossing off gives the halfway prices 100.38 (BUY) and 100.12 (SELL)."""
    path = tmp_path / "policy.toml"
    path.write_text("allow_cross_spread_on_repeg = false\n", encoding="utf-8")
    common = ["--bid", "100", "--ask", "100.50", "--last-price", "100.25", "--config", str(path)]
    assert run_json("repeg", *common, "--side", "BUY")["new_price"] == "100.38"
    assert run_json("repeg", *common, "--side", "SELL")["new_price"] == "100.12"


def test_repeg_human_output_is_a_table() -> None:
    """Without --json the re-peg decision is printed as a table."""
    code, out, _ = run("repeg", "--bid", "100", "--ask", "101", "--side", "BUY", "--last-price", "100.25")
    assert code == 0 and "101.02" in out and "repeg" in out


@pytest.mark.parametrize(
    ("option", "extra"),
    [
        ("--history", ["--history", "100.25,abc"]),
        ("--repegs-done", ["--repegs-done", "1.5"]),
        ("--repegs-done", ["--repegs-done", "-1"]),
        ("--last-price", ["--last-price", "x"]),
    ],
)
def test_repeg_bad_input_exits_2_naming_the_option(option: str, extra: list[str]) -> None:
    """A bad number in the re-peg options prints one line naming the option and exits 2."""
    base = ["--bid", "100", "--ask", "101", "--side", "BUY"]
    if option != "--last-price":
        base += ["--last-price", "100.25"]
    code, _, err = run("repeg", *base, *extra)
    assert code == 2 and err.strip().startswith(option)


def test_bad_config_file_exits_2_naming_the_field(tmp_path: Path) -> None:
    """A config file with a bad value exits 2 and names the field."""
    path = tmp_path / "policy.json"
    path.write_text('{"max_repegs": -3}', encoding="utf-8")
    code, _, err = run(
        "repeg",
        "--bid",
        "100",
        "--ask",
        "101",
        "--side",
        "BUY",
        "--last-price",
        "100.25",
        "--config",
        str(path),
    )
    assert code == 2 and err.startswith("--config:") and "max_repegs" in err
