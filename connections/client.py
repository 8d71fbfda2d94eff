"""The one Digistore24 API client (shared/digistore24.md §5); every call to DS24 goes here.

    client = Ds24Client(api_key, language="en")
    data = client.call("getPurchase", {"purchase_id": "ABC12345"})

POST, form-encoded (nested values in bracket notation), the key in the X-DS-API-KEY header
and nowhere else. Timeouts on every call. Reads are retried with exponential backoff and jitter
on connection errors, 429 (honouring Retry-After) and 502/503/504; writes never are, because a
write that timed out may have happened. Every failure is one Ds24Error subclass whose message a
person can act on, and neither it nor any log line contains the key.
"""

import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from urllib.parse import urljoin

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

FUNCTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
READ_PREFIXES = ("get", "list", "stats")
# Reads by name that the prefixes miss. Anything else counts as a write (never retried).
OTHER_READS = frozenset(
    {"ping", "ipnInfo", "validateCouponCode", "validateLicenseKey", "validateAffiliate",
     "renderJsTrackingCode"}
)  # fmt: skip
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 60.0  # seconds; a longer wait is reported instead of slept


class Ds24Error(Exception):
    """Something went wrong talking to Digistore24; str() says what, for a person."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.status, self.code = status, code


class InvalidKey(Ds24Error):
    pass


class PermissionDenied(Ds24Error):
    pass


class NotFound(Ds24Error):
    pass


class RateLimited(Ds24Error):
    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ApiError(Ds24Error):
    """Digistore24 answered with an error of its own (its message and code are kept)."""


class Unreachable(Ds24Error):
    """No answer: connection refused or dropped, DNS, TLS, or a timeout."""


class MalformedResponse(Ds24Error):
    """An answer that is not Digistore24's JSON envelope."""


def is_read(function: str) -> bool:
    return function.startswith(READ_PREFIXES) or function in OTHER_READS


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
    if not secret or not key_id.isdigit():
        return f"…{api_key[-4:]}" if len(api_key) > 8 else "…"
    return f"{key_id}-…{secret[-4:]}"


class Ds24Client:
    def __init__(
        self,
        api_key: str,
        *,
        language: str = "en",
        base_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._api_key = api_key
        self.language = language
        self.base_url = base_url or settings.DS24_API_URL
        self.timeout = (settings.DS24_API_CONNECT_TIMEOUT, settings.DS24_API_READ_TIMEOUT)
        self.retries = settings.DS24_API_RETRIES
        self.backoff = settings.DS24_API_BACKOFF
        self._sleep = sleep
        self.session = requests.Session()
        self.session.headers.update(
            {"X-DS-API-KEY": api_key, "Accept": "application/json", "User-Agent": "ds24site"}
        )

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
        if not FUNCTION_NAME.match(function):
            raise ValueError(f"not a Digistore24 API function name: {function!r}")
        url = urljoin(self.base_url, function)
        fields = [*form_fields(params or {}), ("language", self.language)]
        attempts = 1 + (self.retries if is_read(function) else 0)
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                response = self.session.post(url, data=fields, timeout=self.timeout)
            except requests.RequestException as exc:
                error = self._unreachable(exc)
                if attempt < attempts:
                    self._wait(function, attempt, error)
                    continue
                raise error from None
            logger.info(
                "DS24 %s -> HTTP %s in %.0f ms (attempt %d)",
                function, response.status_code, (time.monotonic() - started) * 1000, attempt,
            )  # fmt: skip
            if response.status_code in RETRY_STATUSES and attempt < attempts:
                retry_after = _retry_after(response)
                if retry_after is None or retry_after <= MAX_RETRY_AFTER:
                    self._wait(function, attempt, None, retry_after)
                    continue
            return self._result(function, response)
        raise AssertionError("unreachable")

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
        if isinstance(exc, requests.Timeout):
            return Unreachable(f"Digistore24 did not answer within {self.timeout[1]:g} seconds")
        if isinstance(exc, requests.ConnectionError):
            return Unreachable("Digistore24 is unreachable (the connection failed or was dropped)")
        return Unreachable(f"Digistore24 request failed ({type(exc).__name__})")

    def _result(self, function: str, response: requests.Response) -> dict:
        status = response.status_code
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict) or "result" not in envelope:
            if status == 429:
                raise RateLimited(_rate_limited(response), status=status,
                                  retry_after=_retry_after(response))  # fmt: skip
            if status >= 500:
                raise ApiError(f"Digistore24 is unavailable (HTTP {status})", status=status)
            raise MalformedResponse(
                f"Digistore24 answered {function} with HTTP {status} and no API response",
                status=status,
            )
        if envelope["result"] == "success" and status == 200:
            data = envelope.get("data")
            return data if isinstance(data, dict) else {"value": data}
        message = self._scrub(str(envelope.get("message") or "no message"))
        code = envelope.get("code") if isinstance(envelope.get("code"), int) else None
        kind = {401: InvalidKey, 403: PermissionDenied, 404: NotFound, 429: RateLimited}.get(
            status, ApiError
        )
        if kind is RateLimited:
            raise RateLimited(_rate_limited(response), status=status, code=code,
                              retry_after=_retry_after(response))  # fmt: skip
        prefix = {
            InvalidKey: "Digistore24 rejected the API key",
            PermissionDenied: "The API key lacks permission for " + function,
            NotFound: "Not found",
        }.get(kind, f"Digistore24 error in {function} (HTTP {status})")
        raise kind(f"{prefix}: {message}", status=status, code=code)

    def _scrub(self, text: str) -> str:
        # Digistore24's messages are shown and logged; never let them carry the key.
        return text.replace(self._api_key, redact_key(self._api_key)) if self._api_key else text


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(float(response.headers.get("Retry-After", "")), 0.0)
    except ValueError:
        return None


def _rate_limited(response: requests.Response) -> str:
    wait = _retry_after(response)
    later = f"in {wait:g} seconds" if wait is not None else "later"
    return f"Digistore24 is rate limiting this key; try again {later}"
