"""Process settings from the environment (EXECLEDGER_*), overridable by CLI options."""

from __future__ import annotations

from typing import Literal

from execledger.infrastructure.database_url import DEFAULT_DATABASE_URL, DatabaseUrl, parse_database_url
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the ledger lives and how the process logs."""

    model_config = SettingsConfigDict(env_prefix="EXECLEDGER_", frozen=True, extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    log_format: Literal["console", "json"] = "console"
    log_level: str = "WARNING"
    database_connect_timeout_seconds: int = 5
    projection_poll_interval_seconds: float = 0.05
    #: How long an order's lease outlives its owner's last renewal (takeover after a crash).
    lease_ttl_seconds: float = Field(30.0, gt=0)
    #: Orders one session works at once.
    max_active_orders: int = Field(500, ge=1)

    @property
    def database(self) -> DatabaseUrl:
        """The ledger's database, parsed (the read models live in the same one)."""
        return parse_database_url(
            self.database_url, connect_timeout_seconds=self.database_connect_timeout_seconds
        )
