"""OrderRequest validation: bad input names the field, and nothing reaches the ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from execledger.domain.requests import OrderRequest
from execledger.domain.types import Side, Urgency
from pydantic import ValidationError

from tests.builders import a_request


def _error_fields(error: ValidationError) -> set[str]:
    return {str(detail["loc"][0]) for detail in error.errors()}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("symbol", ""),
        ("symbol", "aapl$"),
        ("symbol", "1ABC"),
        ("symbol", "TOO-LONG-SYMBOL-XYZ"),
        ("symbol", 42),
        ("quantity", Decimal("0")),
        ("quantity", "0"),
        ("quantity", Decimal("-1")),
        ("quantity", "-0.5"),
        ("quantity", "NaN"),
        ("quantity", Decimal("NaN")),
        ("quantity", float("nan")),
        ("quantity", "inf"),
        ("quantity", Decimal("-Infinity")),
        ("quantity", "ten"),
        ("quantity", ""),
        ("quantity", None),
        ("quantity", True),
        ("quantity", "0.0000000001"),
        ("quantity", "1.1234567891"),
        ("side", "HOLD"),
        ("side", "short"),
        ("side", None),
        ("urgency", "URGENT"),
        ("urgency", 3),
        ("correlation_id", "  "),
        ("account", ""),
    ],
)
def test_bad_input_raises_a_validation_error_naming_the_field(field: str, value: Any) -> None:
    """Each kind of bad input is refused with a pydantic ValidationError on that field alone."""
    with pytest.raises(ValidationError) as caught:
        a_request(**{field: value})
    assert _error_fields(caught.value) == {field}


def test_a_bad_request_never_reaches_submit() -> None:
    """Validation fails while the request is built, so submit is never reached: nothing stored."""
    submitted: list[OrderRequest] = []

    def submit(request: OrderRequest) -> None:
        submitted.append(request)

    with pytest.raises(ValidationError):
        submit(a_request(quantity="-3"))
    assert submitted == []


def test_unknown_fields_are_refused() -> None:
    """A typo'd field is an error, not silently ignored."""
    with pytest.raises(ValidationError) as caught:
        a_request(quantiy="5")
    assert _error_fields(caught.value) == {"quantiy"}


@pytest.mark.parametrize("quantity", ["1", "0.000000001", "123.123456789", "1.100000000000"])
def test_valid_quantities_keep_their_exact_digits(quantity: str) -> None:
    """Up to 9 significant decimals pass, and the Decimal keeps its digits and exponent."""
    request = a_request(quantity=quantity)
    assert request.quantity.as_tuple() == Decimal(quantity).as_tuple()


def test_text_is_normalised_to_the_enum_members() -> None:
    """Symbol, side and urgency are trimmed and upper-cased into the enums."""
    request = a_request(symbol=" brk.b ", side=" sell", urgency="high")
    assert request.symbol == "BRK.B"
    assert request.side is Side.SELL
    assert request.urgency is Urgency.HIGH


def test_the_request_is_frozen() -> None:
    """A request cannot change after validation."""
    request = a_request()
    with pytest.raises(ValidationError):
        request.quantity = Decimal("99")  # type: ignore[misc]


def test_default_idempotency_key_is_correlation_id_plus_request_digest() -> None:
    """Without a key, equal requests share one key and any changed field gives another."""
    key = a_request().effective_idempotency_key()
    assert key.startswith("corr-1:")
    assert a_request(quantity="10.000").effective_idempotency_key() == key
    assert a_request(quantity="11").effective_idempotency_key() != key
    assert a_request(idempotency_key="mine").effective_idempotency_key() == "mine"
