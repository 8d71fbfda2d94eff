"""What every CSV export of untrusted text shares: formula-safe cells, and files that
spreadsheets open as meant (UTF-8 with a BOM, `,` or `;` between cells)."""

import csv
import re
from collections.abc import Iterable
from decimal import Decimal

# Excel reads a file without a BOM in the locale's legacy code page (ü becomes Ã¼).
BOM = "\ufeff"
# `,` for most software; `;` for Excel in locales whose decimal separator is the comma (German),
# which then also expects amounts with a decimal comma.
SEPARATORS = {"comma": ",", "semicolon": ";"}
# A plain number (a negative amount) is no formula, though it starts with "-".
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A separator inside a cell followed by a formula's first character: where a spreadsheet splits
# at the other separator than the file's (a German Excel opening a `,` file splits at `;`), the
# text after it would start a cell of its own.
FORMULA_AFTER_SEPARATOR = re.compile(r"([,;]\s*)(?=[=+\-@])")


def spreadsheet_safe(value):
    """Untrusted text (payloads, Digistore24's answers): keep spreadsheets from running it as a
    formula, wherever they split it into cells: a `'` before a formula's first character."""
    if not isinstance(value, str) or NUMBER.fullmatch(value):
        return value
    value = FORMULA_AFTER_SEPARATOR.sub(r"\1'", value)
    if value[:1] in FORMULA_START:
        return "'" + value
    return value


def money(amount: Decimal | None, separator: str = ",") -> str:
    """An amount with two decimals (more only where they are used), in the separator's
    convention."""
    if amount is None:
        return ""
    shown = f"{amount:.2f}" if amount == round(amount, 2) else f"{amount.normalize():f}"
    return shown.replace(".", ",") if separator == ";" else shown


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value):
        return value


def csv_lines(header: list[str], rows: Iterable[list], separator: str = ","):
    """The lines of a CSV file, BOM first, for a StreamingHttpResponse. Every cell is quoted:
    a spreadsheet may split cells at `,` or at `;` whichever the file uses (by locale), and a
    quoted cell is never split, so text such as `x;=1+1` cannot start a cell of its own."""
    writer = csv.writer(_Echo(), delimiter=separator, quoting=csv.QUOTE_ALL)
    yield BOM + writer.writerow(header)
    for row in rows:
        yield writer.writerow([spreadsheet_safe(value) for value in row])
