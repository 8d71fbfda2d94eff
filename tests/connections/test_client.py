"""The Digistore24 client against the stand-in over real HTTP on 127.0.0.1."""

import json
import logging
import socket
import threading
import time

import pytest
import requests

from connections.client import (
    ApiError,
    BadParameters,
    Ds24Client,
    InvalidKey,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    UnknownFunction,
    Unreachable,
    error_class,
    form_fields,
    parse_yn,
)
from tests.conftest import DEVELOPER_KEY, FULL_KEY, READ_ONLY_KEY

UNKNOWN_KEY = "1999-UnknownKeyThatMustStaySecret00000"
IPN_SETUP = {"domain_id": "shop", "ipn_url": "https://shop.example.com/ipn/", "name": "Shop"}


class RecordedSleep:
    """Stands in for time.sleep (the backoff), recording the delays instead of waiting."""

    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


@pytest.fixture
def sleep():
    return RecordedSleep()


@pytest.fixture
def api(ds24, sleep):
    with ds24_client(READ_ONLY_KEY, sleep) as client:
        yield client


def ds24_client(key, sleep=None, **kwargs):
    return Ds24Client(key, sleep=sleep or RecordedSleep(), **kwargs)


def test_success_sends_the_key_as_header_and_form_parameters(ds24, api):
    purchases = api.call("listPurchases", {"search": {"email": "buyer3@example.com"}})
    assert isinstance(purchases["purchase_list"], list)
    [request] = ds24.calls("listPurchases")
    assert request.method == "POST"
    assert request.key == READ_ONLY_KEY
    assert request.params == {"search[email]": "buyer3@example.com", "language": "en"}


def test_ping_and_user_info(ds24, api):
    assert "server_time" in api.ping()
    assert api.get_user_info()["user_name"] == "demo-vendor"


def test_language_is_sent(ds24):
    ds24_client(READ_ONLY_KEY, language="de").ping()
    assert ds24.calls("ping")[0].params["language"] == "de"


# --- errors: read from the envelope whatever the status ----------------------------------------


@pytest.mark.parametrize(
    ("key", "function", "params", "error", "status", "message"),
    [
        (UNKNOWN_KEY, "ping", None, InvalidKey, 401,
         "Digistore24 rejected the API key: Invalid API key: 1999-…0000"),
        ("", "ping", None, InvalidKey, 401, "Digistore24 rejected the API key: No API key given"),
        (READ_ONLY_KEY, "ipnSetup", IPN_SETUP, PermissionDenied, 403,
         "The API key lacks permission for ipnSetup"),
        (DEVELOPER_KEY, "getUserInfo", None, PermissionDenied, 403,
         "The API key lacks permission for getUserInfo"),
        (READ_ONLY_KEY, "getPurchase", {"purchase_id": "NOPE9999"}, NotFound, 404, "Not found: "),
        (READ_ONLY_KEY, "getPurchase", None, BadParameters, 400,
         "Digistore24 refused the parameters of getPurchase"),
        (READ_ONLY_KEY, "noSuchFunction", None, UnknownFunction, 400,
         "Digistore24 has no API function noSuchFunction: "
         "Invalid API function called: noSuchFunction()"),
    ],
    ids=["invalid-key", "missing-key", "read-only", "developer", "not-found", "bad-params",
         "unknown-function"],
)  # fmt: skip
def test_each_error_class_in_both_styles(
    ds24, ds24_errors, key, function, params, error, status, message
):
    with pytest.raises(error) as raised:
        ds24_client(key).call(function, params)
    assert type(raised.value) is error
    assert str(raised.value).startswith(message)
    # Digistore24's own way: the error at HTTP 200, told only by the envelope.
    assert raised.value.status == (status if ds24_errors == "status" else 200)
    assert raised.value.code is not None


def test_an_error_envelope_at_http_200_is_never_success(ds24, api):
    ds24.errors = "envelope"
    with pytest.raises(NotFound) as raised:
        api.call("getPurchase", {"purchase_id": "NOPE9999"})
    assert raised.value.status == 200 and "NOPE9999" in str(raised.value)


@pytest.mark.parametrize(
    ("key", "function", "error", "message"),
    [
        (UNKNOWN_KEY, "ping", InvalidKey, "Ungültiger API-Schlüssel: 1999-…0000"),
        (READ_ONLY_KEY, "keineFunktion", UnknownFunction, "Ungültige API-Funktion aufgerufen"),
    ],
)
def test_german_messages_are_classified_too(ds24, ds24_errors, key, function, error, message):
    with pytest.raises(error, match=message):
        ds24_client(key, language="de").call(function)


@pytest.mark.parametrize(
    ("status", "code", "message", "error"),
    [
        # An unknown code at HTTP 200: the message decides.
        (200, 0, "Insufficient access rights: this API key is read-only.", PermissionDenied),
        (200, 0, "Invalid API function called: foo()", UnknownFunction),
        (200, 0, "Invalid API key", InvalidKey),
        (200, None, "Produkt 7 nicht gefunden.", NotFound),
        (200, None, "The parameter 'purchase_id' is required.", BadParameters),
        (200, None, "Something else went wrong", ApiError),
        # A known code wins over the status, a documented status over the text.
        (400, 9, "Whatever", UnknownFunction),
        (403, None, "Whatever", PermissionDenied),
        (500, 77, "Whatever", ApiError),
    ],
)
def test_error_class_by_code_status_and_message(status, code, message, error):
    assert error_class(status, code, message) is error


# --- retries: reads only, by the catalogue; none while someone waits -----------------------------


@pytest.mark.parametrize(
    ("function", "params", "retried"),
    [
        ("ping", None, True),
        ("listTransactions", None, True),
        ("ipnSetup", IPN_SETUP, False),
        # Not in the catalogue, so a write, whatever its name suggests.
        ("getSomethingUnknown", None, False),
    ],
)
def test_the_catalogue_decides_what_is_retried(ds24, sleep, function, params, retried):
    ds24.inject("status", status=503)
    client = ds24_client(FULL_KEY, sleep)
    if retried:
        client.call(function, params)
    else:
        with pytest.raises(ApiError, match="HTTP 503"):
            client.call(function, params)
    assert len(ds24.calls(function)) == (2 if retried else 1)
    assert len(sleep.delays) == (1 if retried else 0)


def test_rate_limit_on_a_read_is_retried_after_retry_after(ds24, api, sleep):
    ds24.inject("status", status=429, retry_after="2")
    assert api.ping()["server_time"]
    assert len(ds24.calls("ping")) == 2
    assert sleep.delays == [2.0]


def test_rate_limit_with_a_long_retry_after_is_reported_not_slept(ds24, api, sleep):
    ds24.inject("status", status=429, retry_after="3600")
    with pytest.raises(RateLimited) as raised:
        api.ping()
    assert raised.value.retry_after == 3600
    assert "try again in 3600 seconds" in str(raised.value)
    assert sleep.delays == [] and len(ds24.calls("ping")) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_server_errors_on_reads_are_retried_with_growing_backoff(ds24, api, sleep, status):
    ds24.inject("status", status=status, count=2)
    assert "purchase_list" in api.call("listPurchases")
    assert len(ds24.calls("listPurchases")) == 3
    assert len(sleep.delays) == 2
    assert 0 <= sleep.delays[0] <= 0.01 and 0 <= sleep.delays[1] <= 0.02  # full jitter


def test_retries_run_out(ds24, api, settings):
    ds24.inject("status", status=503, count=10)
    with pytest.raises(ApiError, match=r"HTTP 503"):
        api.ping()
    assert len(ds24.calls("ping")) == 1 + settings.DS24_API_RETRIES


def test_a_dropped_connection_on_a_read_is_retried(ds24, api):
    ds24.inject("drop")
    assert api.ping()
    assert len(ds24.calls("ping")) == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "status", "status": 503}, ApiError),
        ({"kind": "status", "status": 429, "retry_after": "1"}, RateLimited),
        ({"kind": "drop"}, Unreachable),
    ],
)
def test_writes_are_never_repeated(ds24, sleep, fault, error):
    ds24.inject(**fault)
    with pytest.raises(error):
        ds24_client(FULL_KEY, sleep).call("ipnSetup", IPN_SETUP)
    assert len(ds24.calls("ipnSetup")) == 1
    assert sleep.delays == []


def test_interactive_reads_are_not_retried(ds24, sleep):
    ds24.inject("status", status=503)
    with pytest.raises(ApiError, match="HTTP 503"):
        ds24_client(READ_ONLY_KEY, sleep, interactive=True).ping()
    assert len(ds24.calls("ping")) == 1 and sleep.delays == []


def test_a_hanging_digistore24_is_given_up_within_the_interactive_budget(ds24, sleep, settings):
    settings.DS24_API_INTERACTIVE_BUDGET = 0.3
    ds24.inject("latency", seconds=2)  # once: a retry would have been answered at once
    client = ds24_client(READ_ONLY_KEY, sleep, interactive=True)
    with pytest.raises(Unreachable) as raised:
        client.ping()
    assert str(raised.value).startswith(
        "Digistore24 did not answer within 0.3 seconds, the limit for a call made while someone"
    )
    assert len(ds24.calls("ping")) == 1 and sleep.delays == []


def test_a_spent_budget_sends_nothing(ds24, settings):
    settings.DS24_API_INTERACTIVE_BUDGET = 0
    with pytest.raises(Unreachable, match="did not answer within 0 seconds"):
        ds24_client(READ_ONLY_KEY, interactive=True).ping()
    assert ds24.calls() == []


def test_timeout(ds24, settings):
    settings.DS24_API_READ_TIMEOUT = 0.2
    settings.DS24_API_RETRIES = 0
    ds24.inject("latency", seconds=1)
    with pytest.raises(Unreachable, match=r"did not answer within 0\.2 seconds$"):
        ds24_client(READ_ONLY_KEY).ping()


def test_unreachable(settings):
    settings.DS24_API_URL = "http://127.0.0.1:9/api/call/"  # discard port: nothing listens
    settings.DS24_API_RETRIES = 0
    with pytest.raises(Unreachable, match="unreachable"):
        ds24_client(READ_ONLY_KEY).ping()


def test_malformed_response(ds24):
    ds24.inject("malformed")
    with pytest.raises(MalformedResponse, match="no API response"):
        ds24_client(FULL_KEY).call("ipnSetup", IPN_SETUP)


def test_an_answer_over_the_cap_is_not_parsed(ds24, api, settings):
    settings.DS24_API_MAX_RESPONSE_BYTES = 50
    with pytest.raises(MalformedResponse, match="larger than 50 bytes"):
        ds24_client(READ_ONLY_KEY).ping()


def test_a_redirect_is_reported_not_followed(ds24, api):
    ds24.inject("redirect", location=ds24.api_url + "getUserInfo")
    with pytest.raises(MalformedResponse, match=r"redirect \(HTTP 302\) to http://.*getUserInfo"):
        api.ping()
    assert ds24.calls("getUserInfo") == []


def test_bad_function_names_methods_and_headers_are_refused(ds24, api):
    # A trailing newline slips past `re.match` with `$`; the checks match the whole string.
    for name in ("../admin", "ping?x=1", "http://evil.example/", "", "ping\n"):
        with pytest.raises(ValueError, match="not a Digistore24 API function name"):
            api.call(name)
    for path in (
        "../admin",
        "ping/../../admin",
        "/ping",
        "http://evil.example/",
        "ping?x",
        "",
        "ping\n",
    ):
        with pytest.raises(ValueError, match="not a function URL"):
            api.request("GET", path)
    for method in ("GET / HTTP/1.1\r\n", "GET\n"):
        with pytest.raises(ValueError, match="not an HTTP method"):
            api.request(method, "ping")
    for headers in ({"X-A": "1\r\nX-DS-API-KEY: other"}, {"Bad Name": "1"}):
        with pytest.raises(ValueError, match="not a valid HTTP header"):
            api.request("GET", "ping", headers=headers)
    assert ds24.calls() == []


# --- request(): the raw exchange for the API console --------------------------------------------


def test_request_returns_any_answer_as_it_came(ds24, api):
    ds24.errors = "status"
    response = api.request("POST", "getPurchase", body={"purchase_id": "NOPE9999"})
    assert response.status == 404 and not response.truncated
    assert response.header("content-type").startswith("application/json")
    envelope = json.loads(response.body)
    assert envelope["result"] == "error" and "NOPE9999" in envelope["message"]
    assert response.duration_ms >= 0
    assert ds24.calls("getPurchase")[0].params == {"purchase_id": "NOPE9999"}


def test_request_sends_method_query_headers_and_body_as_given(ds24, api):
    response = api.request(
        "get",
        "ping/format/json",
        query=[("language", "de")],
        headers={"X-Trace": "console", "X-DS-API-KEY": "someone-else", "x-ds-api-key": "x"},
    )
    assert response.status == 200 and json.loads(response.body)["result"] == "success"
    [request] = ds24.calls("ping")
    assert (request.method, request.params, request.key) == ("GET", {"language": "de"},
                                                             READ_ONLY_KEY)  # fmt: skip
    api.request("POST", "getPurchase", body=b"purchase_id=X1", headers={
        "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert ds24.calls("getPurchase")[0].params == {"purchase_id": "X1"}


def test_request_caps_the_body(ds24, api):
    response = api.request("POST", "getUserInfo", max_bytes=10)
    assert response.truncated and len(response.body) == 10
    assert response.body == b'{"api_vers'


def test_request_does_not_follow_redirects(ds24, api):
    ds24.inject("redirect", location=ds24.api_url + "getUserInfo")
    response = api.request("POST", "ping")
    assert response.status == 302 and response.header("Location").endswith("getUserInfo")
    assert ds24.calls("getUserInfo") == []


def test_request_is_not_retried_while_someone_waits(ds24, sleep):
    ds24.inject("status", status=503)
    response = ds24_client(READ_ONLY_KEY, sleep, interactive=True).request("POST", "ping")
    assert response.status == 503 and len(ds24.calls("ping")) == 1


def test_request_refuses_a_key_in_the_url(ds24, api):
    for path in (f"{READ_ONLY_KEY}/json/ping", f"{UNKNOWN_KEY}/json/ping"):
        with pytest.raises(ValueError, match="never in the URL"):
            api.request("POST", path)
    assert ds24.calls() == []


# --- the key stays secret -----------------------------------------------------------------------


def test_the_key_never_reaches_logs_or_errors(ds24, caplog, sleep):
    caplog.set_level(logging.DEBUG)  # urllib3 and requests too
    client = ds24_client(UNKNOWN_KEY, sleep)
    ds24.inject("status", status=503)
    with pytest.raises(InvalidKey) as raised:
        client.ping()
    assert UNKNOWN_KEY not in str(raised.value) and "1999-…0000" in str(raised.value)
    assert UNKNOWN_KEY not in repr(client)
    assert caplog.records  # something was logged, and none of it is the key
    assert UNKNOWN_KEY not in caplog.text


def test_a_raw_answer_echoing_the_key_is_redacted_even_when_cut(ds24):
    client = ds24_client(UNKNOWN_KEY)
    whole = client.request("POST", "ping").body
    assert UNKNOWN_KEY.encode() not in whole and "1999-…0000".encode() in whole
    # Cut in the middle of where the key was: no half of it either.
    at = whole.index("1999-…".encode())
    cut = client.request("POST", "ping", max_bytes=at + 10)
    assert cut.truncated and UNKNOWN_KEY[:10].encode() not in cut.body


# --- the stand-in speaks every URL form Digistore24 does -----------------------------------------


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("getUserInfo", {"X-DS-API-KEY": READ_ONLY_KEY}),
        ("getUserInfo/format/json", {"X-DS-API-KEY": READ_ONLY_KEY}),
        (f"{READ_ONLY_KEY}/json/getUserInfo", {}),  # the legacy key-in-path form
    ],
)
def test_standin_url_forms(ds24, path, headers):
    envelope = requests.post(ds24.api_url + path, headers=headers, timeout=5).json()
    assert envelope["result"] == "success" and envelope["data"]["user_name"] == "demo-vendor"
    assert ds24.calls("getUserInfo")[0].key == READ_ONLY_KEY


def test_standin_refuses_other_formats(ds24):
    envelope = requests.post(ds24.api_url + f"{READ_ONLY_KEY}/xml/ping", timeout=5).json()
    assert envelope["result"] == "error" and "format: xml" in envelope["message"]


def test_standin_refuses_an_unknown_error_style():
    from ds24standin.server import StandIn

    with pytest.raises(ValueError, match="errors must be one of"):
        StandIn(errors="exceptions")


# --- pure helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Y", True),
        ("N", False),
        ("y", True),
        ("yes", True),
        ("0", False),
        (True, True),
        ("", None),
        (None, None),
        ("maybe", None),
    ],
)
def test_parse_yn(value, expected):
    assert parse_yn(value) is expected


def test_form_fields_bracket_notation():
    fields = form_fields(
        {
            "product_id": 7,
            "buyer": {"email": "a@b.c", "readonly_keys": ["email", "name"]},
            "urls": {"thankyou_url": "https://x"},
            "test": True,
            "skip": None,
        }
    )
    assert fields == [
        ("product_id", "7"),
        ("buyer[email]", "a@b.c"),
        ("buyer[readonly_keys][0]", "email"),
        ("buyer[readonly_keys][1]", "name"),
        ("urls[thankyou_url]", "https://x"),
        ("test", "Y"),
    ]


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "until-close"])
def test_a_trickling_answer_is_cut_off_at_the_interactive_budget(settings, length):
    """A server that sends its headers at once and then its body a byte at a time never lets a
    socket read time out; the budget must still end the call while the body is coming, not
    once all of it has arrived (the server is still sending when the client gives up)."""
    settings.DS24_API_INTERACTIVE_BUDGET = 0.3
    body = b'{"result":"success","data":{}}' + b" " * 170  # 200 bytes, 4 s at 50 a second
    client_done, server_done = threading.Event(), threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def trickle():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            framing = b"Content-Length: %d" % len(body) if length else b"Connection: close"
            conn.sendall(b"HTTP/1.1 200 OK\r\n%s\r\n\r\n" % framing)
            try:
                for byte in body[:-1]:
                    if client_done.is_set():
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(0.02)
                server_done.set()  # no client can have the whole answer before this
                conn.sendall(body[-1:])
            except OSError:
                pass  # the client hung up

    server = threading.Thread(target=trickle)
    server.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/api/call/"
    try:
        with pytest.raises(Unreachable, match=r"did not answer within 0\.3 seconds"):
            ds24_client(READ_ONLY_KEY, base_url=url, interactive=True).ping()
        assert not server_done.is_set()
    finally:
        client_done.set()
        server.join()
        listener.close()
