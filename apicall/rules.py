"""The one validation of an API-call console request: the browser form and the REST API both
turn what the user typed into a `CallSpec` here, or get a `CallRefused` naming the field.

Safety contract (the server must never become a proxy to anywhere else): the URL is accepted
only in the shape `<function>` or `<function>?<query>`, where the function is a Digistore24
function name (ASCII letters, digits, underscores). Nothing else about the target can be
chosen: the client joins the function to the configured API base, so no input reaches another
host, port or path. Everything that is not that shape is refused, with the reason, before any
request is made. Headers that carry credentials or steer the transport are refused too, because
the server sets them itself.

Pure: no models, so the console, the API and the tests share it without a database.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from django.conf import settings

from connections import catalogue
from connections.client import FUNCTION_NAME, form_fields

# Digistore24 is an RPC API: every function takes POST, and reads also answer GET (§5.1).
# Other verbs mean nothing to it, so offering them would only invite requests it rejects.
METHODS = ("POST", "GET")

# The path may carry the format suffix some connectors append (`getPurchase/format/json`,
# shared/digistore24.md §5.1) and a leading slash; the request always goes to the bare function.
PATH_SHAPE = re.compile(r"/?(?P<function>[^/]*)(?:/format/json)?")
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
IPV4 = re.compile(r"\d+(?:\.\d+){1,3}")
# RFC 7230 §3.2.6 token: what a header name may consist of.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Printable ASCII and tab: anything else in a header value (CR, LF, NUL, other controls,
# non-ASCII) is how header injection and encoding confusion start.
HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")

# The key header is the server's to set; the others would let a user impersonate, smuggle a
# second request, or steer the connection (RFC 7230 §6.1 hop-by-hop headers).
REFUSED_HEADERS = frozenset(
    {"x-ds-api-key", "authorization", "proxy-authorization", "cookie", "host", "content-length",
     "transfer-encoding", "connection", "keep-alive", "proxy-authenticate", "proxy-connection",
     "te", "trailer", "upgrade"}
)  # fmt: skip
MAX_HEADERS = 32
# Common servers refuse request lines and header blocks past 8 KiB; longer ones never arrive.
MAX_HEADER_BYTES = 8 * 1024
MAX_QUERY_BYTES = 8 * 1024
# Digistore24's objects are one level deep (buyer[email]); a little more is allowed, but not
# nesting deep enough to exhaust the stack while flattening.
MAX_NESTING = 5


class CallRefused(Exception):
    """A console request that is not sent: `field` names the input at fault (url, method,
    headers, query, body, confirm_write, or connection for a write on a read-only key)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CallSpec:
    """A console request that passed every rule: what the client sends, minus the key."""

    function: str
    method: str
    query: Pairs
    headers: Pairs
    body: Pairs  # form fields, objects already in bracket notation
    is_write: bool

    @property
    def url(self) -> str:
        """The URL relative to the API base, as the console shows it."""
        return f"{self.function}?{urlencode(self.query)}" if self.query else self.function


def call_spec(
    *,
    method,
    url,
    headers=None,
    query=None,
    body=None,
    confirm_write: bool = False,
    key_read_only: bool = False,
) -> CallSpec:
    """Validate a console request. `headers` are "Name: value" lines or a dict; `query` a query
    string (or one pair a line) or a dict; `body` "name=value" lines, a JSON object, or a dict.
    `key_read_only` is what is known of the connection's key: a write is refused for it."""
    method = _method(method)
    function, url_query = _url(url)
    header_pairs = _headers(headers)
    query_pairs = (*url_query, *_query(query))
    if len(urlencode(query_pairs)) > MAX_QUERY_BYTES:
        raise CallRefused("query", f"the query string is longer than {MAX_QUERY_BYTES} bytes")
    body_pairs = _body(body)
    if body_pairs and method == "GET":
        raise CallRefused("body", "a GET request has no body; use POST or put it in the query")

    is_write = not catalogue.is_read(function)
    if is_write:
        what = (
            "this changes data in Digistore24"
            if catalogue.get(function)
            else f"{function} is not a known read function, so it counts as a change to data "
            "in Digistore24"
        )
        if key_read_only:
            raise CallRefused("connection", f"{what}, and this connection's key is read-only")
        if confirm_write is not True:  # not merely truthy: "false" from a client is no yes
            raise CallRefused("confirm_write", f"{what}; confirm to run it")
    return CallSpec(function, method, query_pairs, header_pairs, body_pairs, is_write)


def _method(method) -> str:
    if not isinstance(method, str) or method.strip().upper() not in METHODS:
        raise CallRefused(
            "method", "use POST (or GET for a read): Digistore24's API is RPC, it takes no other"
        )
    return method.strip().upper()


def _url(url) -> tuple[str, Pairs]:
    """The function and the query pairs of `<function>[?<query>]`; anything else is refused.
    The checks before the final shape only choose the message: the shape alone is the rule."""
    if not isinstance(url, str) or not url:
        raise CallRefused("url", "enter the function to call, e.g. getPurchase")
    path, _, query = url.partition("?")
    reason = (
        "spaces, line breaks and control characters are not allowed (also not at the start or "
        "end)" if any(char.isspace() or _is_control(char) for char in url) else
        "a #fragment is not allowed" if "#" in url else
        "scheme-relative URLs (//host) are not allowed" if path.startswith("//") else
        "IP addresses are not allowed" if IPV4.fullmatch(path) or path.startswith("[") else
        "absolute URLs are not allowed" if SCHEME.match(path) else
        "user names (user@host) are not allowed" if "@" in path else
        "backslashes are not allowed" if "\\" in path else
        "percent-encoded characters are not allowed in the function name" if "%" in path else
        "dot segments (. and ..) are not allowed" if {".", ".."} & set(path.split("/")) else
        "path parameters (;) are not allowed" if ";" in path else
        "only ASCII letters: look-alike characters (e.g. fullwidth) are not allowed"
        if not path.isascii() else None
    )  # fmt: skip
    shape = PATH_SHAPE.fullmatch(path)
    if reason is None and not (shape and FUNCTION_NAME.fullmatch(shape["function"])):
        reason = "that is not a Digistore24 function name (letters, digits and underscores)"
    if reason:
        raise CallRefused(
            "url", f"{reason}; give the function relative to the API base, e.g. getPurchase or "
            "getPurchase?purchase_id=…"
        )  # fmt: skip
    return shape["function"], _query_string(query, "url")


def _query(query) -> Pairs:
    if query is None or query == "":
        return ()
    if isinstance(query, str):
        # One pair a line is accepted too: that is how the form's text box is filled.
        text = query.removeprefix("?").replace("\r\n", "&").replace("\n", "&")
        return _query_string(text, "query")
    if isinstance(query, Mapping):
        return _flatten(query, "query")
    raise CallRefused("query", "give a query string or an object of parameters")


def _query_string(text: str, field: str) -> Pairs:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise CallRefused(
            field, "the query string has percent-encoded bytes that are not UTF-8"
        ) from None
    return _checked(pairs, field)


def _headers(headers) -> Pairs:
    if headers is None or headers == "":
        return ()
    if isinstance(headers, str):
        pairs = []
        for number, line in enumerate(headers.split("\n"), 1):
            line = line.removesuffix("\r")
            if not line.strip():
                continue
            name, colon, value = line.partition(":")
            if not colon:
                raise CallRefused("headers", f"line {number}: expected Name: value")
            pairs.append((name, value))
    elif isinstance(headers, Mapping):
        pairs = list(headers.items())
    else:
        raise CallRefused("headers", "give one Name: value a line, or an object")

    seen, checked = set(), []
    for name, value in pairs:
        if not isinstance(name, str) or not TOKEN.fullmatch(name):
            raise CallRefused("headers", f"{name!r} is not a valid header name")
        if name.lower() in REFUSED_HEADERS:
            raise CallRefused(
                "headers", f"{name} is set by the server (the API key is added to every call)"
                if name.lower() == "x-ds-api-key" else f"{name} may not be set"
            )  # fmt: skip
        if name.lower() in seen:
            raise CallRefused("headers", f"{name} is given twice")
        seen.add(name.lower())
        if not isinstance(value, str):
            raise CallRefused("headers", f"the value of {name} must be text")
        value = value.strip(" \t")
        if not HEADER_VALUE.fullmatch(value):
            raise CallRefused(
                "headers", f"the value of {name} must be printable ASCII, without line breaks "
                "or control characters"
            )  # fmt: skip
        checked.append((name, value))
    if len(checked) > MAX_HEADERS:
        raise CallRefused("headers", f"at most {MAX_HEADERS} headers")
    if sum(len(name) + len(value) + 4 for name, value in checked) > MAX_HEADER_BYTES:
        raise CallRefused("headers", f"the headers are longer than {MAX_HEADER_BYTES} bytes")
    return tuple(checked)


def _body(body) -> Pairs:
    limit = settings.APICALL_MAX_REQUEST_BYTES
    if body is None or body == "":
        return ()
    if isinstance(body, str):
        if len(body.encode(errors="surrogatepass")) > limit:  # _checked names a surrogate
            raise CallRefused("body", f"the body is longer than {limit} bytes")
        text = body.strip()
        if text.startswith(("{", "[")):
            pairs = _flatten(_json_object(text), "body")
        else:
            pairs = _checked(_lines(body), "body")
    elif isinstance(body, Mapping):
        pairs = _flatten(body, "body")
    else:
        raise CallRefused("body", "give name=value lines, a JSON object, or an object")
    size = len(urlencode(pairs))
    if size > limit:
        raise CallRefused("body", f"the body is {size} bytes when encoded; at most {limit}")
    return pairs


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CallRefused(
            "body", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise CallRefused("body", f"nested more than {MAX_NESTING} levels deep") from None
    if not isinstance(value, dict):
        raise CallRefused("body", 'a JSON body must be an object: {"name": value, …}')
    return value


def _lines(text: str) -> list[tuple[str, str]]:
    pairs = []
    for number, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        if not equals:
            raise CallRefused("body", f"line {number}: expected name=value (or a JSON object)")
        pairs.append((name.strip(), value.strip()))
    return pairs


def _flatten(params: Mapping, field: str) -> Pairs:
    """An object of parameters as form fields, nested ones in bracket notation."""
    if _depth(params) > MAX_NESTING:
        raise CallRefused(field, f"nested more than {MAX_NESTING} levels deep")
    return _checked(form_fields(params), field)


def _depth(value, level: int = 0) -> int:
    if level > MAX_NESTING or not isinstance(value, Mapping | list | tuple):
        return level
    items = value.values() if isinstance(value, Mapping) else value
    return max((_depth(item, level + 1) for item in items), default=level + 1)


def _checked(pairs, field: str) -> Pairs:
    for name, value in pairs:
        if not name:
            raise CallRefused(field, "every parameter needs a name")
        if "\x00" in name or "\x00" in value:
            raise CallRefused(field, f"{name!r}: NUL characters are not allowed")
        if not (_is_unicode(name) and _is_unicode(value)):
            # A lone surrogate (a JSON "\ud800" escape) cannot be encoded to send or to store.
            raise CallRefused(field, f"{name!r}: not Unicode text (a lone surrogate)")
    return tuple(pairs)


def _is_unicode(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code < 0xA0


# --- The same request as the form's text boxes (to fill the form again) -------------------------


def headers_text(headers: Pairs) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers)


def body_text(body: Pairs) -> str:
    """name=value lines, which `call_spec` reads back to the same pairs; a JSON object where
    lines cannot carry a value (line breaks, surrounding spaces) or a name (an "=")."""
    if all(_line_safe(name, value) for name, value in body):
        return "\n".join(f"{name}={value}" for name, value in body)
    return json.dumps(dict(body), ensure_ascii=False, indent=2)


def _line_safe(name: str, value: str) -> bool:
    return (
        "=" not in name
        and name == name.strip()
        and value == value.strip()
        and not any(char in text for text in (name, value) for char in "\r\n")
        and not name.lstrip().startswith(("{", "["))
    )
