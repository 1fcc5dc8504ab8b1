"""Alpaca settings: exact variable names, paper/live defaults, the live gate, hidden keys, pace."""

from __future__ import annotations

from decimal import Decimal

import pytest
from execledger.infrastructure.alpaca import (
    AlpacaEnvironment,
    AlpacaSettings,
    AlpacaSettingsError,
    RequestPacer,
    check_settings,
    connect,
)
from execledger.infrastructure.errors import BrokerError

from tests.alpaca.adapters import adapters_for, run, settings_for
from tests.fake_alpaca import FakeAlpaca
from tests.fake_alpaca.server import SECRET


def test_the_environment_names_are_exactly_alpacas_and_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    """APCA_* keys and EXECLEDGER_ALPACA_* endpoints are read from the environment."""
    monkeypatch.setenv("APCA_API_KEY_ID", "key")
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    monkeypatch.setenv("EXECLEDGER_ALPACA_TRADING_URL", "http://127.0.0.1:1/")
    monkeypatch.setenv("EXECLEDGER_ALPACA_DATA_STREAM_URL", "ws://127.0.0.1:2/v2/iex")
    settings = AlpacaSettings()
    assert settings.trading_url_for(AlpacaEnvironment.LIVE) == "http://127.0.0.1:1"
    assert settings.data_stream_url_for() == "ws://127.0.0.1:2/v2/iex"
    assert settings.feed == "iex"
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())


def test_paper_and_live_default_to_alpacas_hosts() -> None:
    """Without URL settings, paper and live use Alpaca's own endpoints."""
    settings = AlpacaSettings.model_validate({})
    assert settings.trading_url_for(AlpacaEnvironment.PAPER) == "https://paper-api.alpaca.markets"
    assert settings.trading_url_for(AlpacaEnvironment.LIVE) == "https://api.alpaca.markets"
    assert settings.trading_stream_url_for(AlpacaEnvironment.LIVE) == "wss://api.alpaca.markets/stream"


@pytest.mark.parametrize(
    ("values", "environment", "named"),
    [
        ({"APCA_API_SECRET_KEY": "s"}, AlpacaEnvironment.PAPER, "APCA_API_KEY_ID"),
        ({"APCA_API_KEY_ID": "k"}, AlpacaEnvironment.PAPER, "APCA_API_SECRET_KEY"),
        (
            {"APCA_API_KEY_ID": "k", "APCA_API_SECRET_KEY": "s"},
            AlpacaEnvironment.LIVE,
            "EXECLEDGER_ALLOW_LIVE",
        ),
    ],
)
def test_missing_keys_and_ungated_live_are_refused_naming_the_variable(
    values: dict[str, str], environment: AlpacaEnvironment, named: str
) -> None:
    """Nothing is built (so nothing sent) without both keys, or for live without the opt-in."""
    with pytest.raises(AlpacaSettingsError, match=named):
        connect(AlpacaSettings.model_validate(values), environment, timeout_seconds=Decimal(1))


def test_live_runs_with_the_opt_in() -> None:
    """EXECLEDGER_ALLOW_LIVE=1 with both keys passes the gate."""
    values = {"APCA_API_KEY_ID": "k", "APCA_API_SECRET_KEY": "s", "EXECLEDGER_ALLOW_LIVE": "1"}
    check_settings(AlpacaSettings.model_validate(values), AlpacaEnvironment.LIVE)


def test_a_refused_request_names_no_secret(fake: FakeAlpaca) -> None:
    """A 401 (wrong key) surfaces without the secret in the error."""
    broker = adapters_for(fake, APCA_API_KEY_ID="wrong").broker
    with pytest.raises(BrokerError) as refused:
        run(broker.get_by_client_order_id("o-1"))
    assert "401" in str(refused.value) and SECRET not in str(refused.value)
    assert settings_for(fake).api_secret_key is not None


def test_the_pacer_lets_a_burst_through_then_spaces_requests() -> None:
    """At 600 a minute: a burst of 60 goes at once, the next waits about a tenth of a second."""
    pacer = RequestPacer(600)
    waits = [pacer.acquire() for _ in range(61)]
    assert waits[:60] == [0.0] * 60
    assert 0 < waits[60] <= 0.1 and pacer.waited_seconds == waits[60]
