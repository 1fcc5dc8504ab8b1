"""Process settings from the environment (EXECLEDGER_*), overridable by CLI options."""

from __future__ import annotations

from typing import Literal

from execledger.infrastructure.database_url import DEFAULT_DATABASE_URL
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the ledger lives and how the process logs."""

    model_config = SettingsConfigDict(env_prefix="EXECLEDGER_", frozen=True, extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    log_format: Literal["console", "json"] = "console"
    log_level: str = "WARNING"
    database_connect_timeout_seconds: int = 5
    projection_poll_interval_seconds: float = 0.05
