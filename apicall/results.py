"""How the console shows a recorded answer: the body as indented, highlighted JSON with long
parts folded, and a list result (purchase_list, transaction_list, …) as a table and CSV.

Everything in an answer is untrusted text: each piece is HTML-escaped here before it is joined
into markup, and only this module's own tags surround it.
"""

import json
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

from connections import catalogue

# Folded (closed <details>) past these sizes, so a long answer stays scannable.
FOLD_MEMBERS = 20
FOLD_CHARS = 300
INDENT = "  "
# The page shows the first rows; the CSV has them all. Columns are the keys of the rows looked
# at, so one odd row far down cannot widen a table of thousands.
TABLE_ROWS = 100
COLUMN_ROWS = 1000


def loads(text: str):
    """The body as JSON to show (on a page, in the API). ValueError when it is not: nested
    beyond what can be read, NaN or Infinity (not JSON, and no strict JSON output can write
    them), or escapes that decode to lone surrogates ("\\ud800"), which are no text a page or
    JSON output could encode; such a body is shown as the text it is."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
        json.dumps(value, ensure_ascii=False).encode()
    except RecursionError:
        raise ValueError("nested too deep") from None
    return value


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parsed(text: str):
    """The body as JSON, or None when it is not JSON that can be shown (see loads)."""
    try:
        return loads(text)
    except ValueError:
        return None


def body_html(text: str) -> SafeString | None:
    """The body as highlighted, indented JSON; None when it is not JSON (shown as text)."""
    value = parsed(text) if text else None
    if value is None:
        return None
    parts: list[str] = []
    try:
        _value(parts, value, 0)
    except RecursionError:
        return None
    return mark_safe("".join(parts))  # noqa: S308 - every piece of the answer was escaped


def _value(out: list[str], value, level: int) -> None:
    if isinstance(value, dict):
        _container(out, list(value.items()), "{}", level, keyed=True)
    elif isinstance(value, list):
        _container(out, list(enumerate(value)), "[]", level, keyed=False)
    elif isinstance(value, str):
        _string(out, value)
    elif value is None or isinstance(value, bool):
        out.append(f'<span class="j-lit">{json.dumps(value)}</span>')
    else:
        out.append(f'<span class="j-num">{escape(json.dumps(value))}</span>')


def _container(out: list[str], items: list, brackets: str, level: int, *, keyed: bool) -> None:
    opening, closing = brackets
    if not items:
        out.append(brackets)
        return
    folded = len(items) > FOLD_MEMBERS
    if folded:
        # Inside the fold the indentation starts again, at the fold's left edge.
        what = "members" if keyed else "items"
        out.append(
            f'<details class="j-fold"><summary>{opening} {len(items)} {what} {closing}</summary>'
        )
        level = 0
    out.append(f"{opening}\n")
    for number, (key, member) in enumerate(items, 1):
        out.append(INDENT * (level + 1))
        if keyed:
            out.append(
                f'<span class="j-key">{escape(json.dumps(key, ensure_ascii=False))}</span>: '
            )
        _value(out, member, level + 1)
        out.append(",\n" if number < len(items) else "\n")
    out.append(INDENT * level + closing)
    if folded:
        out.append("</details>")


def _string(out: list[str], value: str) -> None:
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= FOLD_CHARS:
        out.append(f'<span class="j-str">{escape(text)}</span>')
        return
    head, rest = text[:FOLD_CHARS], text[FOLD_CHARS:]
    out.append(
        f'<span class="j-str">{escape(head)}</span><details class="j-fold j-more"><summary>'
        f'… {len(rest)} more characters</summary><span class="j-str">{escape(rest)}</span>'
        "</details>"
    )


def body_text(text: str) -> str:
    """The body to copy: indented when it is JSON, else as it came."""
    value = parsed(text) if text else None
    if value is None:
        return text
    try:
        return json.dumps(value, indent=2, ensure_ascii=False)
    except RecursionError:
        return text


@dataclass(frozen=True)
class Table:
    key: str  # where the list is in `data`: "purchase_list", or "." for data itself
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    total: int  # rows in the answer (the table may hold fewer)


def list_table(function: str, text: str, *, rows: int | None = TABLE_ROWS) -> Table | None:
    """The answer's list as a table: the list the catalogue names first among the function's
    response keys (for a function it does not describe, the first list of objects in `data`),
    when it is a list of objects. Nested values are compact JSON. None: no such list."""
    envelope = parsed(text) if text else None
    if not isinstance(envelope, dict) or envelope.get("result") != "success":
        return None
    data = envelope.get("data")
    key, items = _the_list(catalogue.get(function), data)
    if key is None:
        return None
    shown = items if rows is None else items[:rows]
    columns = tuple(dict.fromkeys(column for item in shown[:COLUMN_ROWS] for column in item))
    return Table(
        key=key,
        columns=columns,
        rows=tuple(tuple(cell(item.get(column)) for column in columns) for item in shown),
        total=len(items),
    )


def _the_list(function: catalogue.Function | None, data) -> tuple[str | None, list]:
    if function is not None and function.response:
        candidates = [function.response[0]]
    else:
        candidates = list(data) if isinstance(data, dict) else [catalogue.DATA_ITSELF]
    for key in candidates:
        value = data if key == catalogue.DATA_ITSELF else _member(data, key)
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            return key, value
    return None, []


def _member(data, key):
    return data.get(key) if isinstance(data, dict) else None


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
