"""Quote validation (invalid vs suspicious) and the choice between stream and REST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from execledger.domain.config import ExecutionConfig
from execledger.domain.quotes import assess_quote, choose_quote
from execledger.domain.types import Quote, QuoteSource

D = Decimal
NOW = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)
CONFIG = ExecutionConfig()


def quote(
    bid: str,
    ask: str,
    source: QuoteSource = QuoteSource.STREAM,
    age: timedelta = timedelta(0),
) -> Quote:
    """A quote with sizes 100/100, quoted ``age`` before NOW."""
    return Quote(
        symbol="ABC",
        bid=D(bid),
        ask=D(ask),
        bid_size=D(100),
        ask_size=D(100),
        quoted_at=NOW - age,
        source=source,
    )


def test_good_quote_is_valid_and_not_suspicious() -> None:
    """100/100.25, fresh, is neither invalid nor suspicious."""
    assessment = assess_quote(quote("100", "100.25"), CONFIG, NOW)
    assert assessment.is_valid and not assessment.is_suspicious


@pytest.mark.parametrize(("bid", "ask"), [("0", "0"), ("-1", "0"), ("-2", "-1")])
def test_both_prices_non_positive_is_invalid(bid: str, ask: str) -> None:
    """A quote with no positive price on either side is invalid."""
    assessment = assess_quote(quote(bid, ask), CONFIG, NOW)
    assert not assessment.is_valid
    assert any("non-positive" in reason for reason in assessment.invalid_reasons)


def test_crossed_quote_is_invalid() -> None:
    """bid above ask is invalid."""
    assessment = assess_quote(quote("100", "99"), CONFIG, NOW)
    assert any("crossed" in reason for reason in assessment.invalid_reasons)


def test_stale_streamed_quote_is_invalid() -> None:
    """A streamed quote older than quote_freshness_seconds (5 s) is invalid."""
    assessment = assess_quote(quote("100", "100.25", age=timedelta(seconds=5.001)), CONFIG, NOW)
    assert any("stale" in reason for reason in assessment.invalid_reasons)


def test_streamed_quote_exactly_at_the_freshness_limit_is_valid() -> None:
    """A quote exactly 5 s old is not older than the limit."""
    assert assess_quote(quote("100", "100.25", age=timedelta(seconds=5)), CONFIG, NOW).is_valid


def test_old_rest_quote_is_not_stale() -> None:
    """Staleness applies to streamed quotes only; a REST quote is a fresh snapshot."""
    old = quote("100", "100.25", QuoteSource.REST, age=timedelta(minutes=5))
    assert assess_quote(old, CONFIG, NOW).is_valid


def test_freshness_limit_comes_from_config() -> None:
    """With quote_freshness_seconds=30 a 10 s old streamed quote is fine."""
    config = ExecutionConfig(quote_freshness_seconds=D(30))
    assert assess_quote(quote("100", "100.25", age=timedelta(seconds=10)), config, NOW).is_valid


@pytest.mark.parametrize(
    ("bid", "ask", "needle"),
    [
        ("-1", "100", "negative bid"),
        ("100", "99", "inverted"),
        ("0.005", "0.008", "below 0.01"),
        ("100", "115", "wide spread"),
    ],
)
def test_acceptance_suspicious_quotes(bid: str, ask: str, needle: str) -> None:
    """-1/100, 100/99, 0.005/0.008 and 100/115 are suspicious, each with its reason."""
    assessment = assess_quote(quote(bid, ask), CONFIG, NOW)
    assert assessment.is_suspicious
    assert any(needle in reason for reason in assessment.suspicious_reasons)


def test_acceptance_tight_quote_is_not_suspicious() -> None:
    """100/100.25 is not suspicious."""
    assert not assess_quote(quote("100", "100.25"), CONFIG, NOW).is_suspicious


def test_spread_of_exactly_the_threshold_is_not_suspicious() -> None:
    """90/100 is a 10 % spread of the ask: not above the 10 % limit."""
    assert not assess_quote(quote("90", "100"), CONFIG, NOW).is_suspicious


def test_negative_bid_is_suspicious_but_not_invalid() -> None:
    """-1/100 still has a positive side and is not crossed, so it is only suspicious."""
    assert assess_quote(quote("-1", "100"), CONFIG, NOW).is_valid


def test_good_streamed_quote_wins() -> None:
    """A valid, unsuspicious streamed quote is chosen without the fallback."""
    streamed = quote("100", "100.25")
    choice = choose_quote(streamed, quote("100", "100.30", QuoteSource.REST), CONFIG, NOW)
    assert choice is not None
    assert (choice.quote, choice.fallback_used, choice.suspicion_reasons) == (streamed, False, ())


def test_suspicious_streamed_quote_loses_to_good_rest_quote() -> None:
    """A suspicious streamed quote is checked against REST; a good REST quote wins."""
    rest = quote("100", "100.30", QuoteSource.REST)
    choice = choose_quote(quote("100", "115"), rest, CONFIG, NOW)
    assert choice is not None
    assert choice.quote == rest and choice.fallback_used
    assert choice.suspicion_reasons[0].startswith("stream: wide spread")


def test_suspicious_streamed_quote_is_used_when_rest_is_missing() -> None:
    """No REST quote: the suspicious streamed quote is used and its reasons recorded."""
    streamed = quote("100", "115")
    choice = choose_quote(streamed, None, CONFIG, NOW)
    assert choice is not None
    assert choice.quote == streamed and not choice.fallback_used
    assert choice.suspicion_reasons


def test_suspicious_streamed_quote_is_used_when_rest_is_suspicious_too() -> None:
    """Both suspicious: the streamed quote is used, with both sets of reasons."""
    streamed = quote("100", "115")
    choice = choose_quote(streamed, quote("100", "120", QuoteSource.REST), CONFIG, NOW)
    assert choice is not None and choice.quote == streamed
    assert {reason.split(":")[0] for reason in choice.suspicion_reasons} == {"stream", "rest"}


def test_suspicious_streamed_quote_is_used_when_rest_is_invalid() -> None:
    """A crossed REST quote cannot replace a suspicious streamed one."""
    streamed = quote("100", "115")
    choice = choose_quote(streamed, quote("101", "100", QuoteSource.REST), CONFIG, NOW)
    assert choice is not None and choice.quote == streamed


def test_stale_streamed_quote_falls_back_to_rest() -> None:
    """An invalid (stale) streamed quote is replaced by a valid REST quote."""
    rest = quote("100", "100.30", QuoteSource.REST)
    stale = quote("100", "100.25", age=timedelta(seconds=6))
    choice = choose_quote(stale, rest, CONFIG, NOW)
    assert choice is not None and choice.quote == rest and choice.fallback_used
    assert any("stale" in reason for reason in choice.suspicion_reasons)


def test_suspicious_rest_quote_is_used_when_it_is_the_only_valid_one() -> None:
    """No streamed quote and a suspicious REST quote: REST is used with its reasons."""
    rest = quote("100", "115", QuoteSource.REST)
    choice = choose_quote(None, rest, CONFIG, NOW)
    assert choice is not None and choice.quote == rest and choice.suspicion_reasons


def test_no_valid_quote_gives_none() -> None:
    """Nothing, or nothing valid, to choose from: no choice."""
    assert choose_quote(None, None, CONFIG, NOW) is None
    crossed = quote("101", "100")
    assert choose_quote(crossed, quote("0", "0", QuoteSource.REST), CONFIG, NOW) is None
