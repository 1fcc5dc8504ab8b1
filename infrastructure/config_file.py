"""Load an ExecutionConfig from a TOML or JSON file; every error names the field."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from execledger.domain.config import ExecutionConfig
from execledger.domain.errors import InvalidConfig
from execledger.infrastructure.errors import InputFileError
from execledger.infrastructure.input_files import parse_json, read_text, repeated_keys
from pydantic import ValidationError


def _parse(path: Path, text: str) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            return tomllib.loads(text, parse_float=Decimal)
        except tomllib.TOMLDecodeError as error:
            raise InvalidConfig(f"{path}: not valid TOML: {error}") from None
    if suffix == ".json":
        return parse_json(text, path)
    raise InvalidConfig(f"{path}: unsupported config file type {suffix!r} (use .toml or .json)")


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(file)"
        if item["type"] == "extra_forbidden":
            problems.append(f"{field}: unknown field")
        elif not item["loc"]:
            problems.append(item["msg"].removeprefix("Value error, "))
        else:
            problems.append(f"{field}: {item['msg']} (got {_shown(item.get('input'))})")
    return "; ".join(problems)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def load_execution_config(path: Path) -> ExecutionConfig:
    """The ExecutionConfig in ``path`` (.toml or .json, fields at the top level).

    Fields left out keep their defaults. Numbers are read as Decimal straight from the
    file's text, so 0.1 stays 0.1. The file is UTF-8, a byte-order mark allowed (as in
    orders files and tapes). Raises InvalidConfig naming the file, or the field that is
    unknown, given twice or has a bad value.
    """
    try:
        raw = _parse(path, read_text(path, "config file"))
    except InputFileError as error:
        raise InvalidConfig(str(error)) from None
    if not isinstance(raw, dict):
        raise InvalidConfig(f"{path}: expected a table of ExecutionConfig fields")
    for name in repeated_keys(raw):
        raise InvalidConfig(f"{path}: {name}: given more than once")
    try:
        return ExecutionConfig.model_validate(raw)
    except ValidationError as error:
        raise InvalidConfig(f"{path}: {_describe(error)}") from None
