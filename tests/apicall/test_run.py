"""apicall_run: one console call against the Digistore24 stand-in over real HTTP, validated,
sent once and recorded, whatever Digistore24 answers."""

import json

import pytest

from apicall.models import ApiCall
from apicall.rules import CallRefused
from apicall.services import apicall_run
from connections.models import Connection
from tests.conftest import FULL_KEY, READ_ONLY_KEY

pytestmark = pytest.mark.django_db


def make_connection(key: str, name: str = "Shop") -> Connection:
    connection = Connection(name=name)
    connection.set_key(key)
    connection.save()
    return connection


def test_a_read_is_sent_and_recorded_with_the_answer(ds24):
    connection = make_connection(READ_ONLY_KEY)
    call = apicall_run(connection=connection, url="getUserInfo", headers="Accept: application/json")
    assert (call.status, call.error, call.function) == (200, "", "getUserInfo")
    assert json.loads(call.response_body)["data"]["user_name"] == "demo-vendor"
    assert ds24.calls("getUserInfo")[0].key == READ_ONLY_KEY  # the key went in the header…
    assert READ_ONLY_KEY not in json.dumps(
        list(ApiCall.objects.values().get().values()), default=str
    )


def test_a_write_needs_confirmation_and_nothing_is_sent_without_it(ds24):
    connection = make_connection(FULL_KEY)
    with pytest.raises(CallRefused) as refused:
        apicall_run(connection=connection, url="refundTransaction?transaction_id=900000")
    assert refused.value.field == "confirm_write"
    assert ds24.calls() == [] and not ApiCall.objects.exists()


def test_a_refused_write_is_recorded_and_teaches_that_the_key_is_read_only(ds24):
    connection = make_connection(READ_ONLY_KEY)
    call = apicall_run(
        connection=connection,
        url="refundTransaction",
        body="transaction_id=900000",
        confirm_write=True,
    )
    assert call.is_write and "lacks permission" in call.error
    connection.refresh_from_db()
    assert connection.access == Connection.Access.READ_ONLY
    # Now known to be read-only: the next write is refused before anything is sent.
    sent = len(ds24.calls())
    with pytest.raises(CallRefused) as refused:
        apicall_run(connection=connection, url="refundTransaction", confirm_write=True)
    assert refused.value.field == "connection"
    assert len(ds24.calls()) == sent


def test_an_unknown_function_counts_as_a_write_and_its_error_is_one_sentence(ds24):
    connection = make_connection(FULL_KEY)
    with pytest.raises(CallRefused):
        apicall_run(connection=connection, url="noSuchFunction")
    call = apicall_run(connection=connection, url="noSuchFunction", confirm_write=True)
    assert call.is_write
    assert call.error.startswith("Digistore24 has no API function noSuchFunction")


def test_a_hanging_digistore24_is_cut_off_by_the_budget_and_recorded(ds24, settings):
    settings.DS24_API_INTERACTIVE_BUDGET = 0.5
    ds24.inject("latency", seconds=2, function="getUserInfo")
    call = apicall_run(connection=make_connection(FULL_KEY), url="getUserInfo")
    assert call.status is None
    assert "did not answer within" in call.error
    assert len(ds24.calls("getUserInfo")) == 1  # not retried


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("query", {"url": f"getUserInfo?x={FULL_KEY}"}),
        ("headers", {"url": "getUserInfo", "headers": f"X-Note: {FULL_KEY}"}),
        ("body", {"url": "getUserInfo", "body": f"note={FULL_KEY}"}),
    ],
)
def test_the_key_typed_into_a_call_is_refused_before_sending(ds24, field, call):
    with pytest.raises(CallRefused) as refused:
        apicall_run(connection=make_connection(FULL_KEY), **call)
    assert refused.value.field == field
    assert FULL_KEY not in str(refused.value)
    assert ds24.calls() == []


@pytest.mark.parametrize(
    "body",
    [
        # JSON's \ud800 escape decodes to a lone surrogate: no text a page or database can take.
        b'{"result": "error", "message": "bad \\ud800"}',
        b'{"result": "success", "data": {"user_name": "\\udfff"}}',
        b'{"result": "success", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["surrogate-message", "surrogate-data", "deep"],
)
def test_an_answer_no_person_could_read_is_recorded_as_no_api_response(answering, body):
    answering.answer(body)
    call = apicall_run(connection=make_connection(FULL_KEY), url="getUserInfo")
    assert (call.status, call.response_body) == (200, body.decode())
    assert call.error == "Digistore24 answered getUserInfo with HTTP 200 and no API response"


def test_a_trickling_answer_is_cut_off_by_the_budget(answering, settings):
    settings.DS24_API_INTERACTIVE_BUDGET = 0.5
    # 600 bytes a byte every 20 ms take 12 s: many times the budget.
    answering.answer(b'{"result": "success", "data": {}}'.ljust(600), trickle=0.02)
    call = apicall_run(connection=make_connection(FULL_KEY), url="getUserInfo")
    assert "did not answer within 0.5 seconds" in call.error
    assert answering.sent < 600  # the client left before the answer was complete
