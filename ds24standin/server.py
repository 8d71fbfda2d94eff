"""A Digistore24 stand-in: a real HTTP server on 127.0.0.1 that speaks the API envelope
(shared/digistore24.md §5) for every catalogue function (the functions themselves are in
api.py), backed by a seeded account, with read-only, full-access and developer keys and
injectable faults. It posts signed IPNs to the connections registered with ipnSetup.

    standin = StandIn().start()          # a free port; standin.api_url is the API base
    standin.inject("status", status=503) # the next API request answers 503
    ...
    standin.stop()

Errors come as Digistore24's own connector reads them, in the envelope of an HTTP 200 answer
(`errors="envelope"`, the default); `StandIn(errors="status")` answers them with the 4xx
statuses Digistore24's OpenAPI files document instead, so clients are tested against both.
"""

import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from ds24standin.api import (
    DEMO_KEYS,
    DEVELOPER,
    FULL_ACCESS,
    READ_ONLY,
    Account,
    Api,
    ApiError,
)
from ds24standin.ipn import Delivery

ERROR_STYLES = ("envelope", "status")
LANGUAGES = ("en", "de")
FORMATS = ("json",)  # the legacy path form names a format; the stand-in speaks only JSON

__all__ = ["DEMO_KEYS", "DEVELOPER", "FULL_ACCESS", "READ_ONLY", "ApiError", "StandIn"]


@dataclass
class Fault:
    """What to do to the next matching API request(s) instead of answering normally."""

    kind: str  # "latency", "status", "malformed", "drop", "redirect"
    count: int = 1
    function: str | None = None  # only requests for this function; None: any
    seconds: float = 0.0  # latency
    status: int = 503  # status
    retry_after: str | None = None  # status 429
    location: str = ""  # redirect: where to (a 302)


@dataclass
class Request:
    function: str
    method: str
    params: dict
    key: str


class StandIn:
    """The server; start() binds 127.0.0.1 on `port` (0: a free one) and serves in a thread."""

    def __init__(
        self,
        *,
        keys: dict[str, str] | None = None,
        errors: str = "envelope",
        allow_local_ipn_urls: bool = False,
    ):
        """`allow_local_ipn_urls`: let ipnSetup register http:// and local URLs, which
        Digistore24 refuses - for the demo and the tests, whose receivers run on 127.0.0.1."""
        if errors not in ERROR_STYLES:
            raise ValueError(f"errors must be one of {ERROR_STYLES}, not {errors!r}")
        self.errors = errors  # may be switched on a running server (tests do)
        self.initial_keys = dict(DEMO_KEYS if keys is None else keys)
        self.allow_local_ipn_urls = allow_local_ipn_urls
        # The account is seeded as of this moment, and every reset restores that same account:
        # seeded "now" again, its dates (and so its answers) would move with the clock.
        self.seeded_at = datetime.now(UTC)
        self._new_account()
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> "StandIn":
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/call/"

    # --- test controls -----------------------------------------------------------------------

    def inject(self, kind: str, **options) -> None:
        with self._lock:
            self.faults.append(Fault(kind, **options))

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.requests.clear()
            self._new_account()

    def _new_account(self) -> None:
        self.keys = dict(self.initial_keys)  # retrieveApiKey adds keys; a reset forgets them
        self.account = Account(now=self.seeded_at)
        self.api = Api(self.account, keys=self.keys, allow_local_ipn_urls=self.allow_local_ipn_urls)

    @property
    def deliveries(self) -> list[Delivery]:
        """The IPNs posted since the last reset, finished or still in flight."""
        return list(self.api.notifier.deliveries)

    def wait_for_deliveries(self, timeout: float = 15) -> list[Delivery]:
        """The IPN deliveries once all posted so far have finished (or after `timeout`)."""
        return self.api.notifier.wait(timeout)

    def calls(self, function: str | None = None) -> list[Request]:
        return [r for r in self.requests if function is None or r.function == function]

    def _take_fault(self, function: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.function in (None, function):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None


class _Handler(BaseHTTPRequestHandler):
    owner: StandIn
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API
    server_version = "DS24StandIn/1.0"

    def log_message(self, format, *args):  # quiet: tests read `owner.requests` instead
        pass

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def _handle(self):
        parts = urlsplit(self.path)
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) < 3 or segments[:2] != ["api", "call"]:
            self._send(404, {"result": "error", "code": 0, "message": "Not found"})
            return
        function, path_key, response_format = _route(segments[2:])
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        flat = dict(parse_qsl(parts.query, keep_blank_values=True))
        flat.update(parse_qsl(body, keep_blank_values=True))
        # The header wins: the legacy key-in-path form is for old apps that send no header.
        key = self.headers.get("X-DS-API-KEY") or path_key
        language = flat.get("language") if flat.get("language") in LANGUAGES else "en"
        self.owner.requests.append(Request(function, self.command, flat, key))

        fault = self.owner._take_fault(function)
        if fault and fault.kind == "latency":
            time.sleep(fault.seconds)
        elif fault and fault.kind == "drop":
            self.close_connection = True
            self.connection.close()  # no answer at all: the client sees a dropped connection
            return
        elif fault and fault.kind == "malformed":
            self._send_raw(200, b"<html>Service temporarily unavailable</html>", "text/html")
            return
        elif fault and fault.kind == "redirect":
            self._send_raw(302, b"", "text/html", {"Location": fault.location})
            return
        elif fault and fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            message = "Too many requests" if fault.status == 429 else "Server error"
            self._send(fault.status, _envelope_error(0, message), headers)
            return

        try:
            if response_format not in FORMATS:
                raise ApiError(400, 9, "bad_format", format=response_format)
            if not key:
                raise ApiError(401, 2, "no_key")
            permission = self.owner.keys.get(key)
            if permission is None:
                # Echoes the key, as error pages do: the client must not pass it on.
                raise ApiError(401, 2, "invalid_key", key=key)
            result = self.owner.api.call(function, flat, permission, key)
        except ApiError as exc:
            # Digistore24's own connector reads errors from HTTP 200 answers (§5.2).
            status = exc.status if self.owner.errors == "status" else 200
            self._send(status, _envelope_error(exc.code, exc.text(language)))
            return
        self._send(200, {**_envelope_base(), "result": "success", "data": result})

    def _send(self, status: int, payload: dict, headers: dict | None = None):
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._send_raw(status, body, "application/json; charset=utf-8", headers)

    def _send_raw(self, status, body, content_type, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (its timeout, under a latency fault): nothing to answer.
            self.close_connection = True


def _route(segments: list[str]) -> tuple[str, str, str]:
    """(function, key from the path, format) from the path after /api/call/, in the three forms
    clients use (§5.1): <function>, <function>/format/<format>, <key>/<format>/<function>."""
    match segments:
        case [function, "format", response_format]:
            return function, "", response_format
        case [key, response_format, function]:
            return function, key, response_format
        case [function]:
            return function, "", "json"
    # Not a form Digistore24 knows: answered as the unknown function it names.
    return "/".join(segments), "", "json"


def _envelope_base() -> dict:
    return {
        "api_version": "1.2",
        "current_time": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "timezone": "UTC",
        "utc_offset": "+00:00",
    }


def _envelope_error(code: int, message: str) -> dict:
    return {**_envelope_base(), "result": "error", "code": code, "message": message}
