"""The one Digistore24 API client (shared/digistore24.md §5); every call to DS24 goes here.

    client = Ds24Client(api_key, language="en")
    data = client.call("getPurchase", {"purchase_id": "ABC12345"})
    raw = client.request("GET", "getPurchase", query=[("purchase_id", "ABC12345")])

`call()` POSTs form fields (nested values in bracket notation) and returns the envelope's
`data` or raises; `request()` sends what it is given and returns the answer as it came (the API
console's raw mode). Both share one exchange: the key in the X-DS-API-KEY header and nowhere
else, redirects not followed, the answer read as a stream into a byte cap, a timeout on every
call. Reads (by the function catalogue) are retried with exponential backoff and jitter on
connection errors, 429 (honouring Retry-After) and 502/503/504; writes and unknown functions
never are, because a write that timed out may have happened. A client made `interactive=True`
(a person is waiting) never retries and gives all its calls together one short budget
(DS24_API_INTERACTIVE_BUDGET), so a hanging Digistore24 cannot outlast a web worker.

Every failure is one Ds24Error subclass whose message a person can act on, and neither it,
nor any log line, nor a raw answer contains the key.
"""

import json
import logging
import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from urllib.parse import urljoin

import requests
import urllib3
from django.conf import settings

from connections import catalogue

logger = logging.getLogger(__name__)

FUNCTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
# A function URL relative to the API base for request(): `getPurchase`, `ping/format/json`.
# No scheme, host, `..`, query or fragment, so it cannot leave the API base.
FUNCTION_PATH = re.compile(r"^(?!.*(?:^|/)\.\.?(?:/|$))[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,255}$")
# A Digistore24 key as a path segment: the legacy key-in-URL form, refused by request().
KEY_SEGMENT = re.compile(r"(?:^|/)\d+-[A-Za-z0-9]{16,}(?:/|$)")
HTTP_METHOD = re.compile(r"^[A-Z]{1,16}$")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 60.0  # seconds; a longer wait is reported instead of slept
CHUNK_BYTES = 64 * 1024


class Ds24Error(Exception):
    """Something went wrong talking to Digistore24; str() says what, for a person."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.status, self.code = status, code


class InvalidKey(Ds24Error):
    """The key is missing, unknown, revoked, or not allowed from this IP."""


class PermissionDenied(Ds24Error):
    """The key works but may not do this (a read-only key writing, a developer key reading)."""


class NotFound(Ds24Error):
    pass


class UnknownFunction(Ds24Error):
    """Digistore24 has no API function of that name."""


class BadParameters(Ds24Error):
    """A parameter is missing or not acceptable."""


class RateLimited(Ds24Error):
    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ApiError(Ds24Error):
    """Any other error Digistore24 answered (its message and code are kept), or a 5xx."""


class Unreachable(Ds24Error):
    """No answer: connection refused or dropped, DNS, TLS, or a timeout."""


class MalformedResponse(Ds24Error):
    """An answer that is not Digistore24's JSON envelope."""


# How an error answer is classified, most telling signal first. Digistore24's codes are not
# documented, but a live bad key answered code 2, the number its PHP connector gives
# DS_ERR_BAD_API_KEY, so the connector's numbers are taken as the server's (§5.2).
ERROR_CODES = {
    2: InvalidKey,
    3: BadParameters,
    4: NotFound,
    8: PermissionDenied,
    9: UnknownFunction,
}
# The statuses Digistore24's OpenAPI files document, for when it answers with them.
ERROR_STATUSES = {400: BadParameters, 401: InvalidKey, 403: PermissionDenied, 404: NotFound}
# Last, the message (English or German, as `language` chose), for an error at HTTP 200 with a
# code not listed above. Permission first: "this API key is read-only" is not a bad key.
ERROR_MESSAGES = (
    (re.compile(r"access right|permission|not allowed|zugriffsrecht|berechtigung", re.I),
     PermissionDenied),
    (re.compile(r"(invalid|unknown) api function|api-funktion", re.I), UnknownFunction),
    (re.compile(r"api.?key|api-schlüssel", re.I), InvalidKey),
    (re.compile(r"not found|nicht gefunden", re.I), NotFound),
    (re.compile(r"parameter", re.I), BadParameters),
)  # fmt: skip


@dataclass(frozen=True)
class RawResponse:
    """An answer as it came: the status, the headers in order (repeats kept), and the body up to
    the byte cap. The key, should the answer echo it, is redacted in headers and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    truncated: bool
    duration_ms: int

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)


def parse_yn(value) -> bool | None:
    """Digistore24's "Y"/"N" strings (both truthy in Python) as booleans; None if neither."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().upper() if value is not None else ""
    return {"Y": True, "YES": True, "1": True, "N": False, "NO": False, "0": False}.get(text)


def form_fields(params: Mapping, prefix: str = "") -> list[tuple[str, str]]:
    """Nested parameters in PHP bracket notation: {"search": {"email": "x"}} ->
    [("search[email]", "x")]; lists get indexes; booleans are sent as Y/N."""
    fields = []
    items = params.items() if isinstance(params, Mapping) else enumerate(params)
    for key, value in items:
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping | list | tuple):
            fields.extend(form_fields(value, name))
        elif isinstance(value, bool):
            fields.append((name, "Y" if value else "N"))
        elif value is not None:
            fields.append((name, str(value)))
    return fields


def redact_key(api_key: str) -> str:
    """What may be shown of a key: its numeric id and last 4 characters ("123-…wxyz")."""
    key_id, _, secret = api_key.partition("-")
    if not secret or not (key_id.isascii() and key_id.isdigit()):
        return f"…{api_key[-4:]}" if len(api_key) > 8 else "…"
    return f"{key_id}-…{secret[-4:]}"


class Ds24Client:
    def __init__(
        self,
        api_key: str,
        *,
        language: str = "en",
        base_url: str | None = None,
        interactive: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._api_key = api_key
        self.language = language
        self.base_url = base_url or settings.DS24_API_URL
        self.timeout = (settings.DS24_API_CONNECT_TIMEOUT, settings.DS24_API_READ_TIMEOUT)
        self.max_bytes = settings.DS24_API_MAX_RESPONSE_BYTES
        # A person waiting gets one answer, soon: no retries, and one budget for every call
        # made through this client (verifying a connection makes two).
        self.retries = 0 if interactive else settings.DS24_API_RETRIES
        self.budget = settings.DS24_API_INTERACTIVE_BUDGET if interactive else None
        self._deadline = time.monotonic() + self.budget if interactive else None
        self.backoff = settings.DS24_API_BACKOFF
        self._sleep = sleep
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "ds24site"})

    def __repr__(self):
        return f"<Ds24Client {redact_key(self._api_key)} {self.base_url}>"

    def close(self) -> None:
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def ping(self) -> dict:
        return self.call("ping")

    def get_user_info(self) -> dict:
        return self.call("getUserInfo")

    def call(self, function: str, params: Mapping | None = None) -> dict:
        """Call an API function; returns its `data`, or raises a Ds24Error."""
        if not FUNCTION_NAME.fullmatch(function):
            raise ValueError(f"not a Digistore24 API function name: {function!r}")
        fields = [*form_fields(params or {}), ("language", self.language)]
        response = self._exchange("POST", function, data=fields)
        return self.data_of(function, response)

    def request(
        self,
        method: str,
        function: str,
        *,
        query: Iterable[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        body: bytes | Mapping | Iterable[tuple[str, str]] = b"",
        max_bytes: int | None = None,
    ) -> RawResponse:
        """Send one request to `function` (a URL relative to the API base) and return the answer
        as it came, whatever its status; raises only when there is no answer (Unreachable).
        `body` is bytes as given, or form fields (a mapping is bracket-encoded as in call()).
        The key header is always the client's own, whatever `headers` say."""
        if not FUNCTION_PATH.fullmatch(function):
            raise ValueError(f"not a function URL relative to the API base: {function!r}")
        if KEY_SEGMENT.search(function) or (self._api_key and self._api_key in function):
            # A key in the URL ends up in every proxy's and server's access log (§7.29).
            raise ValueError("the API key is sent in the X-DS-API-KEY header, never in the URL")
        method = method.upper()
        if not HTTP_METHOD.fullmatch(method):
            raise ValueError(f"not an HTTP method: {method!r}")
        headers = dict(headers or {})
        for name, value in headers.items():
            if not HEADER_NAME.fullmatch(name) or "\r" in value or "\n" in value:
                raise ValueError(f"not a valid HTTP header: {name!r}")
        if isinstance(body, Mapping):
            body = form_fields(body)
        elif not isinstance(body, bytes):
            body = list(body)
        sent = {
            name: value
            for name, value in headers.items()
            if name.lower() not in ("x-ds-api-key", "content-length")
        }
        return self._exchange(
            method, function, params=list(query), headers=sent, data=body,
            max_bytes=max_bytes,
        )  # fmt: skip

    # --- the exchange both share ---------------------------------------------------------------

    def _exchange(self, method, path, *, max_bytes=None, headers=None, **send) -> RawResponse:
        """One request with the retry, timeout and budget rules; the answer, whatever its status.
        Whether it may be repeated is the catalogue's word on the function the path names
        (`getPurchase/format/json` names getPurchase); an unknown one counts as a write."""
        url = urljoin(self.base_url, path)
        headers = {**(headers or {}), "X-DS-API-KEY": self._api_key}
        function = self._scrub(path.split("/", 1)[0])
        attempts = 1 + (self.retries if catalogue.is_read(function) else 0)
        for attempt in range(1, attempts + 1):
            try:
                response = self._send(method, url, headers, max_bytes or self.max_bytes, send)
            except requests.RequestException as exc:
                error = self._unreachable(exc)
                if attempt < attempts:
                    self._wait(function, attempt, error)
                    continue
                raise error from None
            logger.info(
                "DS24 %s %s -> HTTP %s in %d ms (attempt %d)",
                method, function, response.status, response.duration_ms, attempt,
            )  # fmt: skip
            if response.status in RETRY_STATUSES and attempt < attempts:
                retry_after = _retry_after(response)
                if retry_after is None or retry_after <= MAX_RETRY_AFTER:
                    self._wait(function, attempt, None, retry_after)
                    continue
            return response
        raise AssertionError("unreachable")

    def _send(self, method, url, headers, max_bytes, send) -> RawResponse:
        started = time.monotonic()
        with self.session.request(
            method,
            url,
            headers=headers,
            timeout=self._timeout(),
            allow_redirects=False,  # a redirect would carry the key header to wherever it points
            stream=True,
            **send,
        ) as response:
            # Read past the cap by a key's length, so a key cut in half at the cap is still
            # recognised and redacted.
            limit = max_bytes + len(self._api_key)
            body = bytearray()
            with self._cut_off_at_deadline(response):
                for chunk in response.iter_content(CHUNK_BYTES):
                    body += chunk
                    self._timeout()
                    if len(body) > limit:
                        break
                # A body delimited by the connection's end just stops when the watchdog cuts it.
                self._timeout()
            return RawResponse(
                status=response.status_code,
                headers=tuple(
                    (name, self._scrub(value)) for name, value in response.raw.headers.items()
                ),
                body=self._scrub_bytes(bytes(body))[:max_bytes],
                truncated=len(body) > max_bytes,
                duration_ms=round((time.monotonic() - started) * 1000),
            )

    @contextmanager
    def _cut_off_at_deadline(self, response: requests.Response):
        """Shut the answer's socket down when an interactive budget runs out while the body is
        read. A body that trickles in a byte at a time never lets a socket read time out, and
        one read of a chunk waits for all of it, so checking between chunks is not enough."""
        if self._deadline is None or response.raw.closed:  # closed: nothing more to read
            yield
            return
        # A socket of our own on the answer's connection (urllib3 hands a connection-delimited
        # body's socket over to http.client): shutdown through it reaches the shared socket,
        # and it cannot be closed and its number reused while the watchdog waits.
        sock = socket.socket(fileno=os.dup(response.raw.fileno()))
        watchdog = threading.Timer(self._deadline - time.monotonic(), _shut_down, [sock])
        watchdog.start()
        try:
            yield
        finally:
            watchdog.cancel()
            watchdog.join()
            sock.close()

    def _timeout(self) -> tuple[float, float]:
        """(connect, read) seconds for the next socket operation: the configured ones, cut to
        what is left of an interactive budget; once that is spent, a timeout without sending."""
        if self._deadline is None:
            return self.timeout
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise requests.Timeout("interactive budget spent")
        return (min(self.timeout[0], left), min(self.timeout[1], left))

    def _wait(self, function, attempt, error, retry_after=None):
        # Exponential backoff with full jitter, unless the server said how long to wait.
        delay = (
            retry_after
            if retry_after is not None
            else random.uniform(  # noqa: S311
                0, self.backoff * 2 ** (attempt - 1)
            )
        )
        logger.warning("DS24 %s: retrying in %.2f s (%s)", function, delay, error or "server busy")
        self._sleep(delay)

    def _unreachable(self, exc: requests.RequestException) -> Ds24Error:
        # requests reports a read timeout in the middle of a streamed body as a ConnectionError.
        # A budget that ran out while the body was read shows as a dropped connection (the
        # watchdog shut the socket down).
        timed_out = (
            isinstance(exc, requests.Timeout)
            or any(isinstance(arg, urllib3.exceptions.TimeoutError) for arg in exc.args)
            or (self._deadline is not None and time.monotonic() >= self._deadline)
        )
        if timed_out and self.budget is not None:
            return Unreachable(
                f"Digistore24 did not answer within {self.budget:g} seconds, the limit for a "
                "call made while someone waits; try again, or later if it keeps happening"
            )
        if timed_out:
            return Unreachable(f"Digistore24 did not answer within {self.timeout[1]:g} seconds")
        if isinstance(exc, requests.ConnectionError):
            return Unreachable("Digistore24 is unreachable (the connection failed or was dropped)")
        return Unreachable(f"Digistore24 request failed ({type(exc).__name__})")

    # --- reading an answer: call(), and the console for what request() returned ---------------

    def data_of(self, function: str, response: RawResponse) -> dict:
        """`data` of a success envelope at HTTP 200. Everything else raises: an error envelope
        (whatever the status), or an answer that is no envelope at all."""
        status = response.status
        try:
            envelope = json.loads(response.body) if not response.truncated else None
            # JSON's "\ud800" escapes decode to lone surrogates, which are no text: no page,
            # log or database could take the message or the data (UnicodeEncodeError).
            json.dumps(envelope, ensure_ascii=False).encode()
        except (ValueError, RecursionError):  # RecursionError: nested too deep to read
            envelope = None
        if not isinstance(envelope, dict) or "result" not in envelope:
            raise self._not_an_envelope(function, response)
        if envelope["result"] == "success" and status == 200:
            data = envelope.get("data")
            return data if isinstance(data, dict) else {"value": data}
        message = self._scrub(str(envelope.get("message") or "no message"))
        code = envelope.get("code") if isinstance(envelope.get("code"), int) else None
        if status == 429:
            raise RateLimited(_rate_limited(response), status=status, code=code,
                              retry_after=_retry_after(response))  # fmt: skip
        kind = error_class(status, code, message)
        prefix = {
            InvalidKey: "Digistore24 rejected the API key",
            PermissionDenied: f"The API key lacks permission for {function}",
            NotFound: "Not found",
            UnknownFunction: f"Digistore24 has no API function {function}",
            BadParameters: f"Digistore24 refused the parameters of {function}",
        }.get(kind, f"Digistore24 error in {function} (HTTP {status})")
        raise kind(f"{prefix}: {message}", status=status, code=code)

    def _not_an_envelope(self, function: str, response: RawResponse) -> Ds24Error:
        status = response.status
        if status == 429:
            return RateLimited(_rate_limited(response), status=status,
                               retry_after=_retry_after(response))  # fmt: skip
        if status >= 500:
            return ApiError(f"Digistore24 is unavailable (HTTP {status})", status=status)
        if 300 <= status < 400:
            return MalformedResponse(
                f"Digistore24 answered {function} with a redirect (HTTP {status}) to "
                f"{response.header('Location') or 'nowhere'}; check DS24_API_URL",
                status=status,
            )
        if response.truncated:
            return MalformedResponse(
                f"Digistore24's answer to {function} is larger than {len(response.body)} bytes",
                status=status,
            )
        return MalformedResponse(
            f"Digistore24 answered {function} with HTTP {status} and no API response",
            status=status,
        )

    def _scrub(self, text: str) -> str:
        # Digistore24's messages are shown and logged; never let them carry the key.
        return text.replace(self._api_key, redact_key(self._api_key)) if self._api_key else text

    def _scrub_bytes(self, data: bytes) -> bytes:
        if not self._api_key:
            return data
        return data.replace(self._api_key.encode(), redact_key(self._api_key).encode())


def error_class(status: int, code: int | None, message: str) -> type[Ds24Error]:
    """Which Ds24Error an error envelope is: by its code, else its HTTP status, else its text."""
    if code in ERROR_CODES:
        return ERROR_CODES[code]
    if status in ERROR_STATUSES:
        return ERROR_STATUSES[status]
    return next((kind for pattern, kind in ERROR_MESSAGES if pattern.search(message)), ApiError)


def _shut_down(sock: socket.socket) -> None:
    # shutdown, not close: it wakes a read blocked on the socket in another thread. An error
    # means the connection is gone already, and the read it was meant to end with it.
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _retry_after(response: RawResponse) -> float | None:
    try:
        return max(float(response.header("Retry-After") or ""), 0.0)
    except ValueError:
        return None


def _rate_limited(response: RawResponse) -> str:
    wait = _retry_after(response)
    later = f"in {wait:g} seconds" if wait is not None else "later"
    return f"Digistore24 is rate limiting this key; try again {later}"
