"""Reading a call's parameters as Digistore24 does: positional `argN` or named, bracket
notation for objects, its date forms, booleans, paging, sorting and `search[...]` filters.
Every bad value is an ApiError with a message, never an exception the server turns into a 500.
"""

import re
from datetime import datetime

from connections import catalogue
from ds24standin import dates

# Sent by the PHP connector with every call; not function parameters.
CONNECTOR_FIELDS = {"language", "operator", "ds24ver"}
POSITIONAL = re.compile(r"^arg(\d+)(\[.*)?$")
MAX_PAGE_SIZE = 1000


# Every message the stand-in writes itself, in the languages `language=` selects. Digistore24's
# numeric codes follow its PHP connector's constants (§5.2): 2 bad key, 3 bad parameters,
# 4 not found, 8 permission denied, 9 bad API call.
MESSAGES = {
    "no_key": {
        "en": "No API key given (use the X-DS-API-KEY header).",
        "de": "Kein API-Schlüssel angegeben (X-DS-API-KEY-Header verwenden).",
    },
    "invalid_key": {
        "en": "Invalid API key: {key}",
        "de": "Ungültiger API-Schlüssel: {key}",
    },
    "unknown_function": {
        "en": "Invalid API function called: {function}()",
        "de": "Ungültige API-Funktion aufgerufen: {function}()",
    },
    "bad_format": {
        "en": "Unsupported response format: {format}",
        "de": "Nicht unterstütztes Antwortformat: {format}",
    },
}


class ApiError(Exception):
    """An error answer. `status` is the 4xx used with `errors="status"`; `message` is either the
    text, or the name of one of MESSAGES, filled in with `fields` in the request's language."""

    def __init__(self, status: int, code: int, message: str, **fields):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def text(self, language: str) -> str:
        translations = MESSAGES.get(self.message)
        if translations is None:
            return self.message
        return translations.get(language, translations["en"]).format(**self.fields)


def bad_params(message: str) -> ApiError:
    return ApiError(400, 3, message)  # DS_ERR_BAD_FUNCTION_PARAMS in the PHP connector


def not_found(message: str) -> ApiError:
    return ApiError(404, 4, message)  # DS_ERR_NOT_FOUND


def nested(flat: dict[str, str]) -> dict:
    """Bracket notation as PHP reads it: {"search[email]": "x"} -> {"search": {"email": "x"}}."""
    result: dict = {}
    for key, value in flat.items():
        parts = key.replace("]", "").split("[")
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise bad_params(f"Parameter '{parts[0]}' is given both as a value and a list.")
        if isinstance(target.get(parts[-1]), dict):
            raise bad_params(f"Parameter '{parts[0]}' is given both as a value and a list.")
        target[parts[-1]] = value
    return result


def named_params(function: catalogue.Function, flat: dict[str, str]) -> dict:
    """The call's parameters by name: positional `argN` (and `argN[field]`) are the N-th
    parameter in the catalogue's documented order, as the PHP connector sends them."""
    by_name, positional_bases, named_bases = {}, set(), set()
    for key, value in flat.items():
        if key in CONNECTOR_FIELDS:
            continue
        match = POSITIONAL.match(key)
        if match:
            number = int(match[1])
            if not 1 <= number <= len(function.params):
                count = len(function.params)
                raise bad_params(
                    f"Invalid parameters for function call {function.name}(): it takes "
                    f"{count} argument{'' if count == 1 else 's'}, arg{number} was given."
                )
            base = function.params[number - 1].name
            key = base + (match[2] or "")
            positional_bases.add(base)
        else:
            named_bases.add(key.split("[", 1)[0])
        by_name[key] = value
    both = positional_bases & named_bases
    if both:
        raise bad_params(f"Parameter '{sorted(both)[0]}' is given both by position and by name.")
    return nested(by_name)


def yes(value) -> bool:
    """Digistore24's boolean inputs (§5.2): 1/Y/yes/T/true, anything else is false."""
    return str(value or "").strip().lower() in {"1", "y", "yes", "t", "true"}


class Params:
    """One call's parameters, with the reading Digistore24 does of them."""

    def __init__(self, values: dict, now: datetime):
        self.values, self.now = values, now

    def text(self, name: str, default: str = "") -> str:
        value = self.values.get(name, default)
        if isinstance(value, dict):
            raise bad_params(f"Parameter '{name}' must be a single value.")
        return str(value).strip()

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            raise bad_params(f"The parameter '{name}' is required.")
        return value

    def object(self, name: str) -> dict:
        value = self.values.get(name) or {}
        if not isinstance(value, dict):
            raise bad_params(f"Parameter '{name}' must be given in bracket notation: {name}[…].")
        return value

    def search(self) -> dict[str, str]:
        """The `search[...]` filters, each a single value."""
        search = self.object("search")
        for name, value in search.items():
            if isinstance(value, dict):
                raise bad_params(f"search[{name}] must be a single value.")
        return {name: str(value).strip() for name, value in search.items()}

    def number(self, name: str, default: int, low: int = 1, high: int = 10**9) -> int:
        text = self.text(name)
        try:
            return min(max(int(text), low), high) if text else default
        except ValueError:
            raise bad_params(f"Parameter '{name}' must be a whole number.") from None

    def moment(self, value: str, *, end_of_day: bool = False) -> datetime:
        try:
            return dates.parse(value, now=self.now, end_of_day=end_of_day)
        except ValueError as exc:
            raise bad_params(str(exc)) from None

    def period(self, source: dict | None = None) -> tuple[datetime | None, datetime | None]:
        """`from`/`to` (of the call, or of its `search`), either may be absent."""
        source = self.values if source is None else source
        start, end = str(source.get("from", "")).strip(), str(source.get("to", "")).strip()
        return (
            self.moment(start) if start else None,
            self.moment(end, end_of_day=True) if end else None,
        )


def within(rows, field, start, end):
    return [
        row
        for row in rows
        if (start is None or dates.read(row[field]) >= start)
        and (end is None or dates.read(row[field]) <= end)
    ]


def matching(rows, search: dict, fields: dict) -> list:
    """Rows whose `fields[name](row)` equals search[name] (a comma list matches any of them)."""
    unknown = sorted(set(search) - set(fields))
    if unknown:
        raise bad_params(
            f"Unknown search field '{unknown[0]}'; known: {', '.join(sorted(fields))}."
        )
    wanted = {
        name: {v.strip().lower() for v in str(value).split(",") if v.strip()}
        for name, value in search.items()
        if str(value).strip()
    }
    return [
        row
        for row in rows
        if all(str(fields[name](row)).lower() in values for name, values in wanted.items())
    ]


def page(rows: list, params: Params, key: str) -> dict:
    page_no = params.number("page_no", 1)
    page_size = params.number("page_size", 100, high=MAX_PAGE_SIZE)
    start = (page_no - 1) * page_size
    return {
        key: rows[start : start + page_size],
        "page_no": str(page_no),
        "page_size": str(page_size),
        "item_count": str(len(rows)),
        "page_count": str(max(1, -(-len(rows) // page_size))),
    }


def ordered(rows: list, params: Params, sorts: dict) -> list:
    sort_by = params.text("sort_by") or "date"
    if sort_by not in sorts:
        raise bad_params(f"sort_by must be one of: {', '.join(sorts)}.")
    order = params.text("sort_order") or "desc"
    if order not in ("asc", "desc"):
        raise bad_params("sort_order must be asc or desc.")
    return sorted(rows, key=sorts[sort_by], reverse=order == "desc")
