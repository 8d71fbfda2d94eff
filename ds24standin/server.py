"""A Digistore24 stand-in: a real HTTP server on 127.0.0.1 that speaks the API envelope
(shared/digistore24.md §5) for the functions this project uses, backed by a seeded account,
with read-only and full-access keys and injectable faults.

    standin = StandIn().start()          # a free port; standin.api_url is the API base
    standin.inject("status", status=503) # the next API request answers 503
    ...
    standin.stop()

Errors come as Digistore24's own connector reads them, in the envelope of an HTTP 200 answer
(`errors="envelope"`, the default); `StandIn(errors="status")` answers them with the 4xx
statuses Digistore24's OpenAPI files document instead, so clients are tested against both.
"""

import copy
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from ds24standin import data

READ_ONLY = "readonly"
FULL_ACCESS = "writable"
DEVELOPER = "developer"  # no account access at all (for interactive key requests only)
DEMO_KEYS = {
    "1001-ReadOnlyDemoKey0000000000000000000000000": READ_ONLY,
    "1002-FullAccessDemoKey000000000000000000000000": FULL_ACCESS,
    "1003-DeveloperDemoKey0000000000000000000000000": DEVELOPER,
}


ERROR_STYLES = ("envelope", "status")
LANGUAGES = ("en", "de")
FORMATS = ("json",)  # the legacy path form names a format; the stand-in speaks only JSON
# Parameters of the transport, not of a function (the official PHP connector sends all three).
TRANSPORT_PARAMS = ("language", "operator", "ds24ver")

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


@dataclass
class Account:
    """The mutable state behind the API: what writes change."""

    products: list = field(default_factory=lambda: copy.deepcopy(data.PRODUCTS))
    purchases: list = field(default_factory=lambda: copy.deepcopy(data.PURCHASES))
    transactions: list = field(default_factory=lambda: copy.deepcopy(data.TRANSACTIONS))
    etickets: list = field(default_factory=lambda: copy.deepcopy(data.ETICKETS))
    ipn_settings: dict = field(default_factory=dict)  # domain_id -> settings


def nested(flat: dict[str, str]) -> dict:
    """Bracket notation as PHP reads it: {"search[email]": "x"} -> {"search": {"email": "x"}}."""
    result: dict = {}
    for key, value in flat.items():
        parts = key.replace("]", "").split("[")
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                break
        else:
            target[parts[-1]] = value
    return result


class Api:
    """The functions; each takes the nested parameters and returns `data` or raises ApiError."""

    WRITES = {"validateEticket", "ipnSetup", "ipnDelete", "updatePurchase", "refundPurchase"}

    def __init__(self, account: Account):
        self.account = account
        self.lock = threading.Lock()

    def call(self, function: str, params: dict, permission: str) -> dict:
        handler = getattr(self, f"fn_{function}", None)
        if handler is None:
            raise ApiError(400, 9, "unknown_function", function=function)
        if permission == DEVELOPER and function != "ping":
            raise ApiError(403, 8, "Insufficient access rights: a developer key has no account.")
        if function in self.WRITES and permission != FULL_ACCESS:
            raise ApiError(403, 8, "Insufficient access rights: this API key is read-only.")
        with self.lock:
            return handler(params)

    @staticmethod
    def _required(params, name):
        value = params.get(name)
        if not value:
            raise ApiError(400, 3, f"The parameter '{name}' is required.")
        return value

    @staticmethod
    def _page(rows, params):
        try:
            page_no = max(int(params.get("page_no", 1)), 1)
            page_size = min(max(int(params.get("page_size", 100)), 1), 1000)
        except ValueError:
            raise ApiError(400, 3, "page_no and page_size must be numbers.") from None
        start = (page_no - 1) * page_size
        return rows[start : start + page_size], page_no, page_size

    def fn_ping(self, params):
        return {"server_time": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")}

    def fn_getUserInfo(self, params):
        return dict(data.USER)

    def fn_listProducts(self, params):
        return {"products": self.account.products}

    def fn_getProduct(self, params):
        product_id = self._required(params, "product_id")
        for product in self.account.products:
            if product["id"] == product_id:
                return {"product": product}
        raise ApiError(404, 4, f"Product {product_id} not found.")

    def fn_listPurchases(self, params):
        search = params.get("search") if isinstance(params.get("search"), dict) else {}
        rows = [
            p
            for p in self.account.purchases
            if all(
                str(p.get(k) if k != "email" else p["buyer"]["email"]) == v
                for k, v in search.items()
            )
        ]
        page, page_no, page_size = self._page(rows, params)
        return {"purchase_list": page, "page_no": page_no, "page_size": page_size,
                "item_count": len(rows)}  # fmt: skip

    def fn_getPurchase(self, params):
        wanted = self._required(params, "purchase_id").split(",")
        found = [p for p in self.account.purchases if p["id"] in wanted]
        if not found:
            raise ApiError(404, 4, f"Purchase {','.join(wanted)} not found.")
        if len(wanted) == 1:
            purchase = dict(found[0])
            purchase["transaction_list"] = [
                t for t in self.account.transactions if t["purchase_id"] == purchase["id"]
            ]
            return purchase
        return {"purchases": found}

    def fn_listTransactions(self, params):
        page, page_no, page_size = self._page(self.account.transactions, params)
        return {"transaction_list": page, "page_no": page_no, "page_size": page_size}

    def fn_listEtickets(self, params):
        return {"etickets": self.account.etickets}

    def fn_getEticket(self, params):
        eticket_id = self._required(params, "eticket_id")
        for ticket in self.account.etickets:
            if ticket["id"] == eticket_id:
                return {"eticket": ticket}
        raise ApiError(404, 4, f"E-ticket {eticket_id} not found.")

    def fn_validateEticket(self, params):
        eticket_id = self._required(params, "eticket_id")
        for ticket in self.account.etickets:
            if ticket["id"] == eticket_id:
                if ticket["used_at"]:
                    return {"status": "error", "msg": "This e-ticket was already used."}
                ticket["used_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
                return {"status": "success", "msg": "The e-ticket is valid.",
                        "eticket_date": ticket["date"],
                        "eticket_location_id": ticket["location_id"]}  # fmt: skip
        return {"status": "error", "msg": "Unknown e-ticket."}

    def fn_ipnInfo(self, params):
        domain_id = params.get("domain_id", "")
        settings = self.account.ipn_settings.get(domain_id)
        return {"have_settings": "Y" if settings else "N", **(settings or {})}

    def fn_ipnSetup(self, params):
        domain_id = self._required(params, "domain_id")
        url = self._required(params, "ipn_url")
        if not url.startswith("https://"):
            raise ApiError(400, 3, "The IPN URL must be a public https URL.")
        existed = domain_id in self.account.ipn_settings
        passphrase = params.get("sha_passphrase") or "StandInPassphrase0123456789abc"
        self.account.ipn_settings[domain_id] = {
            "ipn_url": url,
            "name": params.get("name", ""),
            "sha_passphrase": passphrase,
        }
        return {"created": "N" if existed else "Y", "updated": "Y" if existed else "N",
                "deleted": "N", "sha_passphrase": passphrase, "ipn_id": "5150"}  # fmt: skip

    def fn_statsSales(self, params):
        total = sum(float(p["amount"]) for p in self.account.purchases)
        return {
            "amount": f"{total:.2f}",
            "currency": "EUR",
            "count": str(len(self.account.purchases)),
        }


class StandIn:
    """The server; start() binds 127.0.0.1 on `port` (0: a free one) and serves in a thread."""

    def __init__(self, *, keys: dict[str, str] | None = None, errors: str = "envelope"):
        if errors not in ERROR_STYLES:
            raise ValueError(f"errors must be one of {ERROR_STYLES}, not {errors!r}")
        self.keys = dict(DEMO_KEYS if keys is None else keys)
        self.errors = errors  # may be switched on a running server (tests do)
        self.account = Account()
        self.api = Api(self.account)
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
            self.account = Account()
            self.api = Api(self.account)

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

        params = nested({k: v for k, v in flat.items() if k not in TRANSPORT_PARAMS})
        try:
            if response_format not in FORMATS:
                raise ApiError(400, 9, "bad_format", format=response_format)
            if not key:
                raise ApiError(401, 2, "no_key")
            permission = self.owner.keys.get(key)
            if permission is None:
                # Echoes the key, as error pages do: the client must not pass it on.
                raise ApiError(401, 2, "invalid_key", key=key)
            result = self.owner.api.call(function, params, permission)
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
