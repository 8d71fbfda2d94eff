"""PHP's `html_entity_decode()` with its PHP 8.1+ default flags, for UTF-8 text.

Digistore24's official signature function can run every value through
`html_entity_decode($value)` before hashing, so a signature only verifies when we decode exactly
as PHP does. Python's `html.unescape` follows HTML5 and decodes far more: HTML5-only names,
names without `;` (`&copy=2024`), `&apos;`, C1 and invalid numeric references (to U+FFFD or
cp1252). This is a port of ext/standard/html.c (`traverse_for_entities`) for the flags
`ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML401`; tests/payloads/php/html_entity_decode.json holds
PHP's own output for every case that matters, and tests/webhooks/test_php_html.py checks this
function against each row.

PHP's rules, each confirmed with `php -r`:
- One left-to-right pass: `&amp;lt;` becomes `&lt;`, never `<`.
- Every reference ends in `;`. Names are ASCII letters and digits, matched case-sensitively
  against the HTML 4.01 set (stdlib `name2codepoint` is exactly that set; the fixture test
  proves it equals PHP's table). `&apos;` is not HTML 4.01 and stays.
- Numbers are read by C `strtol`: decimal after `&#`, hexadecimal after `&#x`/`&#X`, where
  strtol also accepts its own `0x` prefix, so `&#x0x41;` is `A`. Above U+10FFFF (including
  overflow) the reference stays as it is.
- A number must name a character HTML 4.01 allows: tab, LF, CR, U+0020-007E, U+00A0-D7FF and
  U+E000-10FFFF. C0/C1 controls, DEL and surrogates stay encoded; non-characters such as U+FFFE
  and U+FDD0 are decoded (only PHP's HTML5 mode refuses those).
- `ENT_QUOTES` decodes `&quot;` and `&#39;`; `ENT_SUBSTITUTE` only affects encoding.
"""

import re
from html.entities import name2codepoint

_REFERENCE = re.compile(
    r"&(?:"
    r"#([0-9]+)"  # decimal
    r"|#[xX](?:0[xX])?([0-9A-Fa-f]+)"  # hexadecimal; strtol skips one "0x" of its own
    r"|([A-Za-z0-9]+)"  # named
    r");"
)
_NAMED = {name: chr(code) for name, code in name2codepoint.items()}
# Longest digit run, after leading zeros, that can still be <= 0x10FFFF; longer ones are
# refused without int(), which Python limits to 4300 digits.
_MAX_DIGITS = {10: len(str(0x10FFFF)), 16: len(f"{0x10FFFF:x}")}


def _allowed_in_html401(code: int) -> bool:
    return (
        code in (0x09, 0x0A, 0x0D)
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or 0xE000 <= code <= 0x10FFFF
    )


def _number(digits: str, base: int) -> int | None:
    significant = digits.lstrip("0") or "0"
    if len(significant) > _MAX_DIGITS[base]:
        return None
    code = int(significant, base)
    return code if _allowed_in_html401(code) else None


def _decode(match: re.Match) -> str:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return _NAMED.get(name, match[0])
    code = _number(decimal, 10) if decimal is not None else _number(hexadecimal, 16)
    return match[0] if code is None else chr(code)


def html_entity_decode(text: str) -> str:
    """`html_entity_decode($text)` as PHP 8.1+ computes it for UTF-8 input."""
    if "&" not in text:
        return text
    return _REFERENCE.sub(_decode, text)
