"""Process settings from the environment (EXECLEDGER_*), overridable by CLI options."""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

from execledger.domain.inputs import printable
from execledger.infrastructure.database_url import DEFAULT_DATABASE_URL, DatabaseUrl, parse_database_url
from execledger.infrastructure.errors import SettingsError
from pydantic import AfterValidator, BeforeValidator, Field, StrictStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "EXECLEDGER_"
#: Settings that a global option sets too, named by the option in messages.
OPTIONS = {"database_url": "--db", "log_format": "--log-format", "log_level": "--log-level"}


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    """Where the ledger lives and how the process logs."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    database_url: Annotated[StrictStr, Field(min_length=1, max_length=2048), AfterValidator(printable)] = (
        DEFAULT_DATABASE_URL
    )
    log_format: Literal["console", "json"] = "console"
    log_level: Annotated[
        Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"], BeforeValidator(_upper)
    ] = "WARNING"
    database_connect_timeout_seconds: int = Field(5, ge=1, le=300)
    projection_poll_interval_seconds: float = Field(0.05, ge=0.001, le=60)
    #: How long an engine's save waits for its follower's catch-up under way before it
    #: leaves its events to be applied after its commit instead of inside it.
    projection_fold_wait_seconds: float = Field(0.05, ge=0, le=60)
    #: How long an order's lease outlives its owner's last renewal (takeover after a crash).
    lease_ttl_seconds: float = Field(30.0, gt=0, le=3600)
    #: Orders one session works at once.
    max_active_orders: int = Field(500, ge=1, le=100_000)
    #: Processes a full rebuild of the read models splits its orders across (1: one process).
    rebuild_processes: int = Field(default_factory=lambda: min(os.cpu_count() or 1, 4), ge=1, le=64)

    @property
    def database(self) -> DatabaseUrl:
        """The ledger's database, parsed (the read models live in the same one)."""
        return parse_database_url(
            self.database_url, connect_timeout_seconds=self.database_connect_timeout_seconds
        )


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment and ``overrides`` (option values); a bad one
    raises SettingsError naming the option or the environment variable."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        variable = f"{ENV_PREFIX}{field.upper()}"
        name = f"{OPTIONS[field]} ({variable})" if field in OPTIONS else variable
        raise SettingsError(f"{name}: {first['msg']}") from None
