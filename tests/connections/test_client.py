"""The Digistore24 client against the stand-in over real HTTP on 127.0.0.1."""

import logging

import pytest

from connections.client import (
    ApiError,
    Ds24Client,
    InvalidKey,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unreachable,
    form_fields,
    is_read,
    parse_yn,
)
from tests.conftest import FULL_KEY, READ_ONLY_KEY


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
    products = api.call("listProducts")["products"]
    assert products[0]["name"] == "Online-Kurs: Masterclass"
    purchases = api.call("listPurchases", {"search": {"email": "buyer3@example.com"}})
    assert [p["id"] for p in purchases["purchase_list"]] == ["DEMO0003"]
    [request] = ds24.calls("listPurchases")
    assert request.method == "POST"
    assert request.key == READ_ONLY_KEY
    assert request.params == {"search[email]": "buyer3@example.com", "language": "en"}
    assert READ_ONLY_KEY not in str(request.params)


def test_ping_and_user_info(ds24, api):
    assert "server_time" in api.ping()
    assert api.get_user_info()["user_name"] == "demo-vendor"


def test_language_is_sent(ds24):
    ds24_client(READ_ONLY_KEY, language="de").ping()
    assert ds24.calls("ping")[0].params["language"] == "de"


@pytest.mark.parametrize(
    ("key", "function", "params", "error", "message"),
    [
        (
            "1999-UnknownKey000000000000",
            "ping",
            None,
            InvalidKey,
            "Digistore24 rejected the API key: Invalid API key: 1999-…0000",
        ),
        (
            READ_ONLY_KEY,
            "validateEticket",
            {"eticket_id": "1"},
            PermissionDenied,
            "The API key lacks permission for validateEticket",
        ),
        (
            READ_ONLY_KEY,
            "getProduct",
            {"product_id": "999"},
            NotFound,
            "Not found: Product 999 not found.",
        ),
        (
            READ_ONLY_KEY,
            "noSuchFunction",
            None,
            ApiError,
            "Invalid API function called: noSuchFunction()",
        ),
    ],
    ids=["invalid-key", "permission", "not-found", "ds24-error"],
)
def test_each_error_class(ds24, key, function, params, error, message):
    with pytest.raises(error) as raised:
        ds24_client(key).call(function, params)
    assert message in str(raised.value)
    assert type(raised.value) is error


def test_ds24_error_keeps_its_code(ds24, api):
    with pytest.raises(ApiError) as raised:
        api.call("noSuchFunction")
    assert raised.value.code == 9


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
    assert api.call("listProducts")["products"]
    assert len(ds24.calls("listProducts")) == 3
    assert len(sleep.delays) == 2
    assert 0 <= sleep.delays[0] <= 0.01 and 0 <= sleep.delays[1] <= 0.02  # full jitter


def test_retries_run_out(ds24, api, sleep, settings):
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
        ds24_client(FULL_KEY, sleep).call("validateEticket", {"eticket_id": "1"})
    assert len(ds24.calls("validateEticket")) == 1
    assert sleep.delays == []


def test_timeout(ds24, settings):
    settings.DS24_API_READ_TIMEOUT = 0.2
    settings.DS24_API_RETRIES = 0
    ds24.inject("latency", seconds=1)
    with pytest.raises(Unreachable, match=r"did not answer within 0\.2 seconds"):
        ds24_client(READ_ONLY_KEY).ping()


def test_unreachable(settings):
    settings.DS24_API_URL = "http://127.0.0.1:9/api/call/"  # discard port: nothing listens
    settings.DS24_API_RETRIES = 0
    with pytest.raises(Unreachable, match="unreachable"):
        ds24_client(READ_ONLY_KEY).ping()


def test_malformed_response(ds24):
    ds24.inject("malformed")
    with pytest.raises(MalformedResponse, match="no API response"):
        ds24_client(FULL_KEY).call("ipnSetup", {"domain_id": "x", "ipn_url": "https://x"})


def test_function_names_cannot_leave_the_api_path(ds24, api):
    for name in ("../admin", "ping?x=1", "http://evil.example/", ""):
        with pytest.raises(ValueError, match="not a Digistore24 API function name"):
            api.call(name)
    assert ds24.calls() == []


def test_the_key_never_reaches_logs_or_errors(ds24, caplog, sleep):
    caplog.set_level(logging.DEBUG)  # urllib3 and requests too
    unknown = "1999-UnknownKeyThatMustStaySecret00000"
    client = ds24_client(unknown, sleep)
    ds24.inject("status", status=503)
    with pytest.raises(InvalidKey) as raised:
        client.ping()
    assert unknown not in str(raised.value) and "1999-…0000" in str(raised.value)
    assert unknown not in repr(client)
    assert caplog.records  # something was logged, and none of it is the key
    assert unknown not in caplog.text


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


def test_read_or_write():
    assert all(map(is_read, ["ping", "getPurchase", "listProducts", "statsSales", "ipnInfo"]))
    assert not any(map(is_read, ["validateEticket", "ipnSetup", "refundPurchase", "createBuyUrl"]))
