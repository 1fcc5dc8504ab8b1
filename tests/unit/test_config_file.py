"""Loading an ExecutionConfig from TOML and JSON files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import InvalidConfig
from execledger.infrastructure.config_file import load_execution_config

D = Decimal


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a config file and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_fields_are_loaded_and_the_rest_keep_defaults(tmp_path: Path) -> None:
    """A TOML file sets the fields it names; the others keep their defaults."""
    path = write(tmp_path, "policy.toml", "max_repegs = 3\nallow_cross_spread_on_repeg = false\n")
    config = load_execution_config(path)
    assert config.max_repegs == 3 and config.allow_cross_spread_on_repeg is False
    assert config.fill_wait_seconds == ExecutionConfig().fill_wait_seconds


def test_toml_floats_become_exact_decimals(tmp_path: Path) -> None:
    """0.1 in TOML is Decimal('0.1'), not the float nearest to it."""
    path = write(tmp_path, "policy.toml", "repeg_min_improvement = 0.1\nimbalance_threshold = 0.3\n")
    config = load_execution_config(path)
    assert config.repeg_min_improvement == D("0.1")
    assert config.imbalance_threshold == D("0.3")


def test_json_fields_are_loaded_as_exact_decimals(tmp_path: Path) -> None:
    """A JSON file works the same way, its numbers read as Decimal."""
    path = write(tmp_path, "policy.json", '{"fill_wait_seconds": 2.5, "min_fractional_notional": 0.1}')
    config = load_execution_config(path)
    assert config.fill_wait_seconds == D("2.5")
    assert config.min_fractional_notional == D("0.1")


def test_unknown_field_is_named(tmp_path: Path) -> None:
    """A misspelt field is an error that names it."""
    path = write(tmp_path, "policy.toml", "max_repeg = 3\n")
    with pytest.raises(InvalidConfig, match="max_repeg: unknown field"):
        load_execution_config(path)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("max_repegs = -1\n", "max_repegs"),
        ('fill_wait_seconds = "soon"\n', "fill_wait_seconds"),
        ("imbalance_threshold = 1.5\n", "imbalance_threshold"),
        ("repeg_min_improvement = 0\n", "repeg_min_improvement"),
    ],
)
def test_bad_value_names_the_field(tmp_path: Path, text: str, field: str) -> None:
    """A value out of range or of the wrong kind is an error naming its field."""
    path = write(tmp_path, "policy.toml", text)
    with pytest.raises(InvalidConfig, match=f"{field}: "):
        load_execution_config(path)


def test_malformed_toml_is_an_invalid_config(tmp_path: Path) -> None:
    """A file that is not TOML raises InvalidConfig naming the file."""
    path = write(tmp_path, "policy.toml", "max_repegs = = 2\n")
    with pytest.raises(InvalidConfig, match="not valid TOML"):
        load_execution_config(path)


def test_json_that_is_not_an_object_is_an_invalid_config(tmp_path: Path) -> None:
    """A JSON list is not a table of fields."""
    path = write(tmp_path, "policy.json", "[1, 2]")
    with pytest.raises(InvalidConfig, match="table of ExecutionConfig fields"):
        load_execution_config(path)


def test_unsupported_extension_is_an_invalid_config(tmp_path: Path) -> None:
    """Only .toml and .json are read."""
    path = write(tmp_path, "policy.yaml", "max_repegs: 2\n")
    with pytest.raises(InvalidConfig, match="unsupported config file type"):
        load_execution_config(path)


def test_missing_file_is_an_invalid_config(tmp_path: Path) -> None:
    """A path that does not exist raises InvalidConfig, not OSError."""
    with pytest.raises(InvalidConfig, match="cannot read config file"):
        load_execution_config(tmp_path / "absent.toml")
