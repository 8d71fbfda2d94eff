"""webhooks.php_html against PHP itself: every row of tests/payloads/php/html_entity_decode.json
is an input and what PHP 8.2's html_entity_decode() returned for it (regenerate with the script
next to it)."""

import json
from html.entities import name2codepoint
from pathlib import Path

import pytest

from webhooks.php_html import html_entity_decode

FIXTURE = json.loads(
    (Path(__file__).parent.parent / "payloads" / "php" / "html_entity_decode.json").read_text()
)
ROWS = FIXTURE["rows"]
CHUNK = 1000


def test_fixture_is_php_81_or_later_and_complete():
    major, minor = map(int, FIXTURE["php_version"].split(".")[:2])
    assert (major, minor) >= (8, 1)  # before 8.1 the default flags left &#39; alone
    assert len(ROWS) > 10_000
    assert len({row[0] for row in ROWS}) == len(ROWS)


def test_named_entities_are_exactly_phps_html401_table():
    php = {name: ord(char) for name, char in FIXTURE["html401_entities"].items()}
    assert php == name2codepoint


@pytest.mark.parametrize("start", range(0, len(ROWS), CHUNK))
def test_matches_php_on_every_fixture_row(start):
    mismatches = [
        f"{given!r}: PHP {php!r}, port {ours!r}"
        for given, php in ROWS[start : start + CHUNK]
        if (ours := html_entity_decode(given)) != php
    ]
    assert not mismatches, f"{len(mismatches)} rows differ:\n" + "\n".join(mismatches[:50])


@pytest.mark.parametrize(
    ("given", "php"),
    [
        ("&amp;lt;", "&lt;"),  # one pass
        ("&copy=2024", "&copy=2024"),  # no ';', no reference
        ("&notes", "&notes"),
        ("&apos;", "&apos;"),  # not HTML 4.01
        ("&check;", "&check;"),  # HTML5 only
        ("&#39;&quot;", "'\""),  # ENT_QUOTES
        ("&#128;", "&#128;"),  # C1 control
        ("&#xD800;", "&#xD800;"),  # surrogate
        ("&#xFFFE;", "\ufffe"),  # non-characters are allowed in HTML 4.01
        ("&#x0x41;", "A"),  # strtol's own 0x prefix
        ("&#x110000;", "&#x110000;"),
        ("&#" + "9" * 5000 + ";", "&#" + "9" * 5000 + ";"),  # html.unescape raises here
    ],
    ids=lambda value: value[:20],
)
def test_rules_php_follows(given, php):
    assert html_entity_decode(given) == php
