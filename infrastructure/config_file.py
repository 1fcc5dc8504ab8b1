"""Load an ExecutionConfig from a TOML or JSON file; every error names the field."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import InvalidConfig
from pydantic import ValidationError


def _parse(path: Path, text: str) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return tomllib.loads(text, parse_float=Decimal)
    if suffix == ".json":
        return json.loads(text, parse_float=Decimal)
    raise InvalidConfig(f"{path}: unsupported config file type {suffix!r} (use .toml or .json)")


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(file)"
        if item["type"] == "extra_forbidden":
            problems.append(f"{field}: unknown field")
        else:
            problems.append(f"{field}: {item['msg']} (got {item.get('input')!r})")
    return "; ".join(problems)


def load_execution_config(path: Path) -> ExecutionConfig:
    """The ExecutionConfig in ``path`` (.toml or .json, fields at the top level).

    Fields left out keep their defaults. Numbers are read as Decimal straight from the
    file's text, so 0.1 stays 0.1. Raises InvalidConfig naming the file, or the field
    that is unknown or has a bad value.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidConfig(f"{path}: cannot read config file: {error}") from error
    try:
        raw = _parse(path, text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise InvalidConfig(f"{path}: not valid {path.suffix[1:].upper()}: {error}") from error
    if not isinstance(raw, dict):
        raise InvalidConfig(f"{path}: expected a table of ExecutionConfig fields")
    try:
        return ExecutionConfig.model_validate(raw)
    except ValidationError as error:
        raise InvalidConfig(f"{path}: {_describe(error)}") from error
