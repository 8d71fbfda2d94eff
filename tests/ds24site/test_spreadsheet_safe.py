"""No cell of an exported CSV becomes a formula, whichever separator the spreadsheet splits at:
the file's own, the other one of `,` and `;` (Excel picks by locale), tab, `|` or space (the
import dialogs offer them), with or without respect for the quotes, trimming spaces or not."""

import csv
import io

import pytest

from ds24site.csv_export import csv_lines, spreadsheet_safe

TRIGGERS = ("=", "+", "-", "@")
READERS_SPLIT_AT = [",", ";", "\t", "|", " "]

HOSTILE = [
    "x;=1+1;",
    "a,=cmd|' /C calc'!A0",
    "x\t=1+1",
    "x|@SUM(A1:A9)",
    "  =1+1",
    "\t=1+1",
    "\0=1+1",
    "x,\N{NO-BREAK SPACE}=1+1",
    "x\n=1+1",
    "x\r\n-2+3",
    "Kurs -2+3+cmd|' /C calc'!A0",
    "x, +1",
    'say "=1+1"',
    '=HYPERLINK("http://evil")',
]


def formulas(text: str, delimiter: str) -> list[str]:
    """Cells that a spreadsheet splitting `text` at `delimiter` would evaluate: starting, once
    trimmed of white space and NULs, with a formula's first character and more than it (a lone
    "-" is text)."""
    quote_aware = [cell for row in csv.reader(io.StringIO(text), delimiter=delimiter)
                   for cell in row]  # fmt: skip
    naive = [cell for line in text.splitlines() for cell in line.split(delimiter)]
    trimmed = (cell.replace("\0", "").strip() for cell in quote_aware + naive)
    return [cell for cell in trimmed if cell.startswith(TRIGGERS) and len(cell) > 1]


@pytest.mark.parametrize("separator", [",", ";"])
@pytest.mark.parametrize("value", HOSTILE)
def test_no_reader_finds_a_formula(value, separator):
    text = "".join(csv_lines(["a", "b"], [["before", value]], separator))
    for delimiter in READERS_SPLIT_AT:
        assert formulas(text, delimiter) == [], delimiter


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("x;=1+1;", "x;'=1+1;"),
        ("a,=cmd|' /C calc'!A0", "a,'=cmd|' /C calc'!A0"),
        ("x\t=1+1", "x\t'=1+1"),
        ("  =1+1", "  '=1+1"),
        ("Kurs -2+3", "Kurs '-2+3"),
        ("-49.00", "-49.00"),  # a number is no formula
        ("-49,00", "-49,00"),
    ],
)
def test_a_quote_goes_before_the_formula(value, safe):
    assert spreadsheet_safe(value) == safe


@pytest.mark.parametrize(
    "text",
    ["Online-Kurs - Teil 2", "kunde-1@example.com", "2026-01-05 12:00", "A+B", "x @ y", "49.-"],
)
def test_ordinary_text_is_left_alone(text):
    assert spreadsheet_safe(text) == text
