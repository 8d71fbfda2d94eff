"""Numbers from outside (Digistore24's IPNs, the API's parameters, forms), in ASCII digits only.

Python reads far more as a number than any of the parties around it: int() and Decimal() take
every Unicode decimal digit (Arabic-Indic or fullwidth 123 is 123), spaces around and '_'
between digits; str.isdigit() and the regex `\\d` say yes to those digits too. A value that is
a number to Python but not to Digistore24's PHP, a spreadsheet or a client would be stored or
passed on as something it is not, so what is not plainly `-?[0-9]+` is no number here.
"""

import re
from decimal import Decimal

INTEGER = re.compile(r"-?[0-9]+")
DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# Longer text is refused before int() or Decimal() spends time on it: a 64-bit integer has 19
# digits; an amount column 18.
MAX_LENGTH = 40


def parse_int(text, *, minimum: int = -(2**63), maximum: int = 2**63 - 1) -> int:
    """An integer in ASCII digits with an optional leading '-' (no spaces, '+' or '_'),
    between minimum and maximum; ValueError for anything else."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH or not INTEGER.fullmatch(text):
        raise ValueError("not a whole number in ASCII digits")
    number = int(text)
    if not minimum <= number <= maximum:
        raise ValueError(f"not between {minimum} and {maximum}")
    return number


def parse_decimal(text) -> Decimal:
    """A decimal number in ASCII digits, `-12.50` (no exponent, spaces, '+' or '_');
    ValueError for anything else."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH or not DECIMAL.fullmatch(text):
        raise ValueError("not a decimal number in ASCII digits")
    return Decimal(text)
