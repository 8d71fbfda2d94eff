from decimal import Decimal

import pytest

from ds24site import numbers
from tests.conftest import ARABIC_INDIC, FULLWIDTH, in_digits

# What int() and Decimal() read as 123 and 12.5.
NOT_ASCII = [
    *(in_digits(text, zero) for text in ("123", "12.5") for zero in (ARABIC_INDIC, FULLWIDTH)),
    "12" + in_digits("3", ARABIC_INDIC),
    "\N{SUPERSCRIPT TWO}",
]


@pytest.mark.parametrize("text", [*NOT_ASCII, "", " 1", "1 ", "+1", "1_000", "1.0", "0x1", None])
def test_parse_int_refuses_what_python_would_read(text):
    with pytest.raises(ValueError):
        numbers.parse_int(text)


def test_parse_int():
    assert numbers.parse_int("0") == 0
    assert numbers.parse_int("-1") == -1
    assert numbers.parse_int(str(2**63 - 1)) == 2**63 - 1
    with pytest.raises(ValueError):
        numbers.parse_int(str(2**63))
    with pytest.raises(ValueError):
        numbers.parse_int("5", minimum=6)
    with pytest.raises(ValueError):
        numbers.parse_int("1" * 10_000)


@pytest.mark.parametrize("text", [*NOT_ASCII, "", "1e2", "NaN", "Infinity", ".5", "5.", "1_0"])
def test_parse_decimal_refuses_what_python_would_read(text):
    with pytest.raises(ValueError):
        numbers.parse_decimal(text)


def test_parse_decimal():
    assert numbers.parse_decimal("-12.50") == Decimal("-12.50")
    assert numbers.parse_decimal("49") == Decimal(49)
