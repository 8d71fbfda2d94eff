"""The call history: what a row keeps, what it never keeps (the key, other secrets), the caps,
and "Run again"'s form data."""

import json

import pytest
from django.contrib.auth.models import User

from apicall.models import ApiCall
from apicall.rules import call_spec
from apicall.services import is_secret_name
from tests.apicall.conftest import Answer
from tests.conftest import FULL_KEY

pytestmark = pytest.mark.django_db


def stored_row(call) -> str:
    """The row as the database holds it, every column as text."""
    return json.dumps(list(ApiCall.objects.filter(pk=call.pk).values().get().values()), default=str)


def test_a_call_is_stored_with_its_request_and_answer(record, connection):
    user = User.objects.create_user("anna")
    call = record(
        url="listPurchases?from=-7d",
        headers="Accept: application/json",
        body='{"search": {"email": "a@b.de"}}',
        user=user,
        answer=Answer(status=200, headers={"X-Request-Id": "r1"}, body=b'{"a": 1}'),
    )
    call.refresh_from_db()
    assert (call.user, call.token, call.connection, call.connection_name) == (
        user, None, connection, "Shop"
    )  # fmt: skip
    assert (call.function, call.method, call.path) == (
        "listPurchases",
        "POST",
        "/api/call/listPurchases",
    )
    assert call.query == [["from", "-7d"]]
    assert call.request_headers == [["Accept", "application/json"]]
    assert call.request_body == "search[email]=a@b.de"
    assert call.is_write is False
    assert (call.status, call.duration_ms, call.error) == (200, 42, "")
    assert call.response_headers == [["X-Request-Id", "r1"]]
    assert (call.response_body, call.response_truncated) == ('{"a": 1}', False)
    assert ApiCall.objects.first() == call  # newest first


def test_path_follows_the_base_the_client_used(record):
    call = record(url="ping", base_url="http://127.0.0.1:8765/api/call/")
    assert call.path == "/api/call/ping"


def test_a_call_without_answer_keeps_the_error(record):
    call = record(
        answer=None, error="Digistore24 did not answer within 5 seconds", duration_ms=5000.4
    )
    call.refresh_from_db()
    assert (call.status, call.duration_ms) == (None, 5000)
    assert call.error == "Digistore24 did not answer within 5 seconds"
    assert (call.response_headers, call.response_body) == ([], "")
    assert str(call) == "POST getPurchase (no answer)"


def test_a_token_call_is_attributed_to_the_token_and_its_user(record, api_token):
    token, _secret = api_token
    call = record(token=token)
    assert (call.token, call.user) == (token, token.user)


def test_the_key_is_never_stored(record):
    call = record(
        url=f"refundTransaction?note={FULL_KEY}",
        headers=f"X-Trace: {FULL_KEY}",
        body=f"transaction_id=1\nreason=key {FULL_KEY} leaked",
        answer=Answer(
            status=401,
            headers={"X-Echo": FULL_KEY},
            body=json.dumps({"result": "error", "message": f"bad key {FULL_KEY}"}).encode(),
        ),
        error=f"Digistore24 rejected {FULL_KEY}",
    )
    row = stored_row(call)
    assert FULL_KEY not in row
    assert row.count("[redacted]") == 6  # query, header, body, answer header and body, error
    call.refresh_from_db()
    assert call.request_body == "transaction_id=1\nreason=key [redacted] leaked"


def test_secret_looking_headers_and_parameters_are_redacted(record):
    call = record(
        url="ipnSetup?token=t0k3n",
        headers="X-Auth-Token: abc\nX-Api-Secret: s\nAccept: text/plain",
        body="ipn_url=https://x.example/ipn\nsha_passphrase=hunter2\nname=Shop",
        answer=Answer(headers={"Set-Cookie": "session=abc", "Content-Type": "text/plain"}),
    )
    assert call.query == [["token", "[redacted]"]]
    assert call.request_headers == [
        ["X-Auth-Token", "[redacted]"], ["X-Api-Secret", "[redacted]"], ["Accept", "text/plain"]
    ]  # fmt: skip
    assert (
        call.request_body == "ipn_url=https://x.example/ipn\nsha_passphrase=[redacted]\nname=Shop"
    )
    assert call.response_headers == [["Set-Cookie", "[redacted]"], ["Content-Type", "text/plain"]]
    assert "hunter2" not in stored_row(call) and "t0k3n" not in stored_row(call)


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("X-DS-API-KEY", True), ("Authorization", True), ("X-Auth-Token", True),
        ("Cookie", True), ("Set-Cookie", True), ("X-Secret", True), ("password", True),
        ("sha_passphrase", True), ("api_key", True), ("apikey", True), ("data[license_key]", True),
        ("Accept", False), ("search[keyword]", False), ("purchase_id", False),
        ("X-Request-Id", False), ("author", False),
    ],
)  # fmt: skip
def test_what_counts_as_a_secret_name(name, secret):
    assert is_secret_name(name) is secret


def test_the_answer_is_capped(record, settings):
    settings.APICALL_MAX_RESPONSE_BYTES = 10
    call = record(answer=Answer(body="0123456789ä-more".encode()))
    assert (call.response_body, call.response_truncated) == ("0123456789", True)
    call = record(answer=Answer(body=b"cut by the client", truncated=True))
    assert call.response_truncated is True


def test_undecodable_and_nul_bytes_are_stored_as_replacement_characters(record):
    # PostgreSQL refuses NUL in text; an answer is not trusted to be clean.
    call = record(answer=Answer(body=b"a\x00b\xffc", headers={"X-Odd": "x\x00y"}))
    call.refresh_from_db()
    assert call.response_body == "a\ufffdb\ufffdc"
    assert call.response_headers == [["X-Odd", "x\ufffdy"]]


def test_long_errors_are_cut(record):
    call = record(answer=None, error="e" * 5000)
    assert len(call.error) == 2000


def test_run_again_fills_the_form_with_the_same_request(record, connection):
    call = record(
        url="listPurchases?from=-7d&search[email]=a@b.de",
        headers="Accept: application/json",
        body="note=two\nsort_by=date",
    )
    initial = call.rerun_initial()
    assert initial == {
        "connection": connection,
        "method": "POST",
        "url": "listPurchases?from=-7d&search%5Bemail%5D=a%40b.de",
        "headers": "Accept: application/json",
        "body": "note=two\nsort_by=date",
    }
    again = call_spec(**{k: v for k, v in initial.items() if k != "connection"})
    original = call_spec(
        method="POST",
        url="listPurchases?from=-7d&search[email]=a@b.de",
        headers="Accept: application/json",
        body="note=two\nsort_by=date",
    )
    assert again == original


def test_run_again_after_the_connection_is_gone(record, connection):
    call = record(method="GET", url="ping")
    connection.delete()
    call.refresh_from_db()
    assert call.connection_name == "Shop"
    assert call.rerun_initial() == {
        "connection": None, "method": "GET", "url": "ping", "headers": "", "body": ""
    }  # fmt: skip
