"""The API-call console in the admin: calls against the Digistore24 stand-in over real HTTP in
function and raw mode, the write confirmation, every error as one readable message, the result
panel (JSON, table, CSV), Run again, permissions, CSRF, and the key on no page."""

import csv
import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apicall.forms import is_ds24_date
from apicall.models import ApiCall
from apicall.results import FOLD_CHARS, FOLD_MEMBERS, body_html, list_table
from connections import catalogue
from connections.models import Connection
from tests.apicall.conftest import Answer
from tests.conftest import ARABIC_INDIC, FULL_KEY, FULLWIDTH, READ_ONLY_KEY, in_digits

pytestmark = pytest.mark.django_db

CONSOLE = "admin:apicall_apiconsole_changelist"
BOGUS_KEY = "1999-NoSuchKeyAtDigistore24000000000000000"


def staff(username: str, *codenames: str) -> User:
    user = User.objects.create_user(username, password="pw-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def make_connection(key: str, name: str, access: str = Connection.Access.UNKNOWN) -> Connection:
    connection = Connection(name=name, ds24_user_name="demo-vendor")
    connection.set_key(key)
    connection.access = access
    connection.save()
    return connection


@pytest.fixture
def operator(client):
    """Staff who may run calls (and see only their own, not the whole history)."""
    client.force_login(staff("operator", "use_console"))
    return client


@pytest.fixture
def shop(connection):
    """The full-access connection that tests/apicall/conftest.py's `record` uses too."""
    connection.ds24_user_name, connection.access = "demo-vendor", Connection.Access.FULL
    connection.save()
    return connection


@pytest.fixture
def ticket(ds24) -> dict:
    """A seeded e-ticket that has not been scanned yet."""
    return next(ticket for ticket in ds24.account.etickets if not ticket["used_at"])


def console(**params) -> str:
    query = "&".join(f"{name}={value}" for name, value in params.items())
    return f"{reverse(CONSOLE)}?{query}" if query else reverse(CONSOLE)


def run(client, connection, *, function=None, **fields):
    """POST the console's form (function mode with `function`, else raw mode); returns the
    response, and follows the redirect to the result when the call was made."""
    url = console(function=function) if function else console(mode="raw")
    if not function:
        fields.setdefault("method", "POST")
    response = client.post(url, {"connection": str(connection.public_id), **fields})
    if response.status_code == 302:
        return client.get(response["Location"])
    return response


def shown_call(response) -> ApiCall:
    return response.context["result"]["call"]


def field_errors(response) -> dict:
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


def page(response) -> str:
    html = response.content.decode()
    assert "Traceback" not in html
    return html


# --- Reads, in both modes --------------------------------------------------------------------


def test_function_mode_reads_and_redirects_to_the_result(operator, shop, ds24):
    form = operator.get(console(function="getPurchase"))
    html = page(form)
    assert '<label for="id_purchase_id" class="required">purchase_id</label>' in html

    response = operator.post(
        console(function="getPurchase"),
        {"connection": str(shop.public_id), "purchase_id": "DEMO0001"},
    )
    assert response.status_code == 302
    call = ApiCall.objects.get()
    assert parse_qs(urlsplit(response["Location"]).query) == {
        "call": [str(call.public_id)], "function": ["getPurchase"]
    }  # fmt: skip
    sent = ds24.calls("getPurchase")
    assert [(r.method, r.params) for r in sent] == [("POST", {"purchase_id": "DEMO0001"})]
    assert (call.user.username, call.connection, call.status, call.error) == (
        "operator", shop, 200, ""
    )  # fmt: skip

    result = operator.get(response["Location"])  # a reload sends nothing
    html = page(result)
    assert "HTTP 200" in html and f"{call.duration_ms} ms" in html
    assert '<span class="j-key">&quot;purchase_id&quot;</span>' in html
    assert "Content-Type: application/json" in html  # the response headers
    # The form shows what was sent, ready to change and send again.
    assert result.context["form"]["purchase_id"].value() == "DEMO0001"
    assert len(ds24.calls()) == 1


def test_raw_mode_reads_with_get_headers_and_query(operator, shop, ds24):
    form = operator.get(console(mode="raw"))
    assert form.context["form"]["method"].value() == "POST"  # preselected: an RPC API

    response = run(
        operator, shop, method="GET", url="getPurchase?purchase_id=DEMO0002",
        headers="Accept: application/json\nX-Request-Id: console-test", query="page_no=1",
    )  # fmt: skip
    assert response.status_code == 200
    (sent,) = ds24.calls("getPurchase")
    assert (sent.method, sent.params) == ("GET", {"purchase_id": "DEMO0002", "page_no": "1"})
    call = shown_call(response)
    assert (call.method, call.url, call.status) == (
        "GET",
        "getPurchase?purchase_id=DEMO0002&page_no=1",
        200,
    )
    assert "DEMO0002" in page(response)


def test_raw_mode_takes_a_json_body_with_objects(operator, shop, ds24):
    run(operator, shop, url="listPurchases", body='{"search": {"email": "buyer3@example.com"}}')
    (sent,) = ds24.calls("listPurchases")
    assert sent.params == {"search[email]": "buyer3@example.com"}


# --- Function mode's form ---------------------------------------------------------------------


def test_the_picker_lists_every_function_by_group_with_read_or_write(operator):
    html = page(operator.get(console()))
    assert '<optgroup label="E-tickets">' in html
    assert "validateEticket · write · Checks an e-ticket" in html
    assert "getEticket · read · One e-ticket" in html
    assert html.count("<option value=") == len(catalogue.FUNCTIONS)  # no form until one is chosen


def test_an_unknown_function_in_the_picker_points_to_raw_mode(operator):
    html = page(operator.get(console(function="noSuchFunction")))
    assert "The catalogue has no function “noSuchFunction”" in html


def test_objects_are_field_groups_named_as_sent(operator, shop, ds24):
    html = page(operator.get(console(function="listPurchases")))
    assert "search[…]" in html and 'name="search[email]"' in html
    run(
        operator, shop, function="listPurchases",
        **{"from": "-7d", "to": "now", "search[email]": "buyer1@example.com",
           "load_transactions": "Y", "page_size": "5"},
    )  # fmt: skip
    (sent,) = ds24.calls("listPurchases")
    assert sent.params == {
        "from": "-7d", "to": "now", "search[email]": "buyer1@example.com",
        "load_transactions": "Y", "page_size": "5",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"from": "yesterday"}, "from", "Not a date Digistore24 reads"),
        ({"to": "2026-02-30"}, "to", "Not a date Digistore24 reads"),
        ({"page_no": "two"}, "page_no", "Enter a whole number."),
        # Digits int() reads and PHP's is_numeric() does not.
        ({"page_no": in_digits("2", ARABIC_INDIC)}, "page_no", "Enter a whole number."),
        ({"page_size": in_digits("50", FULLWIDTH)}, "page_size", "Enter a whole number."),
        ({"from": in_digits("-7d", ARABIC_INDIC)}, "from", "Not a date Digistore24 reads"),
        ({"load_transactions": "maybe"}, "load_transactions", "Select a valid choice."),
        ({"search[order_type]": "demo"}, "search[order_type]", "Select a valid choice."),
    ],
)
def test_bad_values_are_field_errors_and_nothing_is_sent(
    operator, shop, ds24, fields, field, message
):
    response = run(operator, shop, function="listPurchases", **fields)
    assert response.status_code == 400
    assert any(message in error for error in field_errors(response)[field])
    assert ds24.calls() == [] and not ApiCall.objects.exists()


@pytest.mark.parametrize("zero", [ARABIC_INDIC, FULLWIDTH])
def test_amounts_in_other_digits_are_field_errors(operator, shop, ds24, zero):
    field = "payment_plan[first_amount]"
    fields = {"product_id": "1", field: in_digits("49.00", zero), "confirm_write": "on"}
    response = run(operator, shop, function="createBuyUrl", **fields)
    assert field_errors(response)[field] == ["Enter a number such as 49.00."]
    assert ds24.calls() == []


@pytest.mark.parametrize(
    "value",
    ["2026-02-28", "2026-02-28 23:11:24", "2026-02-28T23:11:24+01:00", "now", "today", "-7d",
     "24h", "-30m", "-30s", "6M", "+2Y"],
)  # fmt: skip
def test_digistore24_date_forms_are_accepted(value):
    assert is_ds24_date(value)


@pytest.mark.parametrize("value", ["yesterday", "7 days", "-7w", "20260228", "2026-13-01", "-d"])
def test_other_dates_are_not(value):
    assert not is_ds24_date(value)


def test_a_required_object_and_its_required_members(operator, shop, ds24):
    # createEticket: buyer is required; updateServiceProofRequest: data[request_status] is a
    # required member of a required object.
    response = run(operator, shop, function="createEticket", product_id="103", location_id="77",
                   template_id="5", date="2026-12-12", confirm_write="on")  # fmt: skip
    assert field_errors(response)["buyer[email]"] == ["buyer is required: fill in its fields."]
    response = run(operator, shop, function="updateServiceProofRequest", service_proof_id="1",
                   **{"data[message]": "sent by post"}, confirm_write="on")  # fmt: skip
    assert field_errors(response)["data[request_status]"] == ["Required when data is sent."]
    assert ds24.calls() == []


def test_free_form_objects_and_other_parameters(operator, shop, ds24):
    html = page(operator.get(console(function="createBuyUrl")))
    assert 'name="addons[0][product_id]"' in html and 'name="placeholders"' in html
    run(
        operator, shop, function="createBuyUrl", product_id="101",
        **{"buyer[email]": "jo@example.com", "addons[0][product_id]": "102"},
        placeholders="course=Köln\nseat=12", extra="addons[1][product_id]=103",
        confirm_write="on",
    )  # fmt: skip
    (sent,) = ds24.calls("createBuyUrl")
    assert sent.params == {
        "product_id": "101", "buyer[email]": "jo@example.com", "addons[0][product_id]": "102",
        "placeholders[course]": "Köln", "placeholders[seat]": "12",
        "addons[1][product_id]": "103",
    }  # fmt: skip


def test_a_free_form_object_takes_json_too(operator, shop, ds24):
    run(operator, shop, function="createBuyUrl", product_id="101",
        placeholders='{"seat": {"row": "B", "no": 12}}', confirm_write="on")  # fmt: skip
    (sent,) = ds24.calls("createBuyUrl")
    assert sent.params == {
        "product_id": "101", "placeholders[seat][row]": "B", "placeholders[seat][no]": "12"
    }  # fmt: skip


def test_a_broken_free_form_line_is_its_fields_error(operator, shop, ds24):
    response = run(operator, shop, function="createBuyUrl", product_id="101",
                   placeholders="no equals sign", confirm_write="on")  # fmt: skip
    assert field_errors(response)["placeholders"] == [
        "line 1: expected name=value (or a JSON object)"
    ]
    assert ds24.calls() == []


# --- Writes -----------------------------------------------------------------------------------


def test_a_confirmed_write_is_sent(operator, shop, ds24, ticket):
    html = page(operator.get(console(function="validateEticket")))
    assert "this changes data in Digistore24" in html
    response = run(
        operator, shop, function="validateEticket", eticket_id=ticket["id"],
        template_id=ticket["template_id"], location_id=ticket["location_id"], confirm_write="on",
    )  # fmt: skip
    call = shown_call(response)
    assert call.is_write and call.status == 200 and call.error == ""
    assert json.loads(call.response_body)["data"]["status"] == "success"
    assert len(ds24.calls("validateEticket")) == 1


@pytest.mark.parametrize("mode", ["function", "raw"])
def test_an_unconfirmed_write_is_refused_and_nothing_is_sent(operator, shop, ds24, ticket, mode):
    if mode == "function":
        response = run(operator, shop, function="validateEticket", eticket_id=ticket["id"],
                       template_id="5", location_id="77")  # fmt: skip
    else:
        response = run(operator, shop, url="validateEticket", body=f"eticket_id={ticket['id']}")
    assert response.status_code == 400
    assert field_errors(response)["confirm_write"] == [
        "this changes data in Digistore24; confirm to run it"
    ]
    assert ds24.calls() == [] and not ApiCall.objects.exists()


def test_an_unknown_raw_function_counts_as_a_write(operator, shop, ds24):
    response = run(operator, shop, url="noSuchFunction")
    assert (
        "noSuchFunction is not a known read function" in field_errors(response)["confirm_write"][0]
    )
    assert ds24.calls() == []


def test_a_write_on_a_known_read_only_key_is_refused_with_the_reason(operator, ds24):
    read_only = make_connection(READ_ONLY_KEY, "Reader", Connection.Access.READ_ONLY)
    html = page(operator.get(console(mode="raw")))
    assert "Reader — demo-vendor — read-only key" in html  # the picker says so up front
    response = run(operator, read_only, url="refundTransaction",
                   body="transaction_id=900000", confirm_write="on")  # fmt: skip
    assert field_errors(response)["connection"] == [
        "this changes data in Digistore24, and this connection's key is read-only"
    ]
    assert ds24.calls() == []


def test_a_write_digistore24_refuses_is_shown_and_teaches_the_key_is_read_only(
    operator, ds24, ds24_errors, ticket
):
    read_only = make_connection(READ_ONLY_KEY, "Reader")  # access not known yet: it is sent
    response = run(operator, read_only, function="validateEticket", eticket_id=ticket["id"],
                   template_id="5", location_id="77", confirm_write="on")  # fmt: skip
    assert "The API key lacks permission for validateEticket" in page(response)
    read_only.refresh_from_db()
    assert read_only.access == Connection.Access.READ_ONLY


# --- Errors as one readable message -----------------------------------------------------------


def error_shown(response) -> str:
    html = page(response)
    assert response.status_code == 200
    start = html.index('<p class="errornote ds24-call-error">')
    return html[start : html.index("</p>", start)].split(">", 1)[1]


def test_an_unknown_function(operator, shop, ds24, ds24_errors):
    response = run(operator, shop, url="noSuchFunction", confirm_write="on")
    assert error_shown(response).startswith("Digistore24 has no API function noSuchFunction")


def test_not_found(operator, shop, ds24, ds24_errors):
    response = run(operator, shop, function="getPurchase", purchase_id="NOPE")
    assert error_shown(response).startswith("Not found: ") and "NOPE" in error_shown(response)


def test_an_invalid_key_is_shown_without_the_key(operator, ds24, ds24_errors):
    bogus = make_connection(BOGUS_KEY, "Old key")
    response = run(operator, bogus, function="ping")
    assert error_shown(response).startswith("Digistore24 rejected the API key")
    assert BOGUS_KEY not in page(response)  # the stand-in echoes it, as error pages do


def test_a_timeout(operator, shop, ds24, settings):
    settings.DS24_API_INTERACTIVE_BUDGET = 0.5
    ds24.inject("latency", seconds=2, function="getUserInfo")
    response = run(operator, shop, url="getUserInfo")
    assert "did not answer within 0.5 seconds" in error_shown(response)
    assert "no answer" in page(response)


def test_refused_input_is_the_fields_error(operator, shop, ds24):
    response = run(operator, shop, url="https://evil.example/getPurchase")
    assert field_errors(response)["url"][0].startswith("absolute URLs are not allowed")
    response = run(operator, shop, url="ping", headers="X-DS-API-KEY: mine")
    assert "set by the server" in field_errors(response)["headers"][0]
    response = run(operator, shop, url="ping", method="DELETE")
    assert "method" in field_errors(response)
    assert ds24.calls() == []


def test_without_a_connection_nothing_is_sent(operator, ds24):
    response = operator.post(console(mode="raw"), {"method": "POST", "url": "ping"})
    assert response.status_code == 400 and "connection" in field_errors(response)
    assert ds24.calls() == []


# --- The result panel -------------------------------------------------------------------------


def test_a_list_result_is_a_table_with_a_csv_download(operator, shop, ds24):
    response = run(operator, shop, function="listPurchases")
    table = response.context["result"]["table"]
    answered = json.loads(shown_call(response).response_body)["data"]["purchase_list"]
    assert len(answered) > 1
    assert table.key == "purchase_list" and table.total == len(table.rows) == len(answered)
    assert table.columns[0] == "id" and "buyer" in table.columns
    html = page(response)
    assert '<th scope="col">buyer</th>' in html
    # Nested values are compact JSON, escaped.
    email = answered[0]["buyer"]["email"]
    assert f"&quot;email&quot;:&quot;{email}&quot;" in html

    download = operator.get(response.context["result"]["csv_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"].startswith('attachment; filename="listpurchases-')
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0] == list(table.columns)
    assert [row[0] for row in rows[1:]] == [purchase["id"] for purchase in answered]


def test_the_csv_keeps_spreadsheets_from_running_formulas(operator, record):
    body = {
        "result": "success",
        "data": {
            "purchase_list": [
                {"id": "A1", "product_name": '=HYPERLINK("http://x")', "@cmd": "+1", "n": 5}
            ]
        },
    }
    call = record(url="listPurchases", answer=Answer(body=json.dumps(body).encode()),
                  user=User.objects.get(username="operator"))  # fmt: skip
    download = operator.get(reverse("admin:apicall_apicall_csv", args=[call.public_id]))
    assert list(csv.reader(io.StringIO(download.content.decode()))) == [
        ["id", "product_name", "'@cmd", "n"],
        ["A1", '\'=HYPERLINK("http://x")', "'+1", "5"],
    ]


def test_an_answer_without_a_list_has_no_table_and_no_csv(operator, shop, ds24):
    response = run(operator, shop, url="getUserInfo")
    assert response.context["result"]["table"] is None
    call = shown_call(response)
    assert (
        operator.get(reverse("admin:apicall_apicall_csv", args=[call.public_id])).status_code == 404
    )


def test_untrusted_answers_are_escaped_and_text_is_shown_as_text(operator, record):
    user = User.objects.get(username="operator")
    script = {"result": "success", "data": {"<b>k</b>": "<script>alert(1)</script>"}}
    call = record(answer=Answer(body=json.dumps(script).encode()), user=user)
    html = page(operator.get(console(call=call.public_id)))
    assert "<script>alert(1)" not in html and "<b>k</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    call = record(answer=Answer(body=b"<html>Service <i>down</i></html>", status=503), user=user)
    html = page(operator.get(console(call=call.public_id)))
    assert '<pre class="ds24-json">&lt;html&gt;Service &lt;i&gt;down' in html


# A "\udfff" escape decodes to a lone surrogate, which no page can encode: shown as text.
SURROGATE_LIST = b'{"result": "success", "data": {"purchase_list": [{"id": "\\udfff"}]}}'


def test_json_that_decodes_to_no_text_is_shown_as_the_text_it_is(operator, record):
    call = record(answer=Answer(body=SURROGATE_LIST), user=User.objects.get(username="operator"))
    html = page(operator.get(console(call=call.public_id)))
    assert '<pre class="ds24-json">{&quot;result&quot;: &quot;success&quot;' in html
    csv_url = reverse("admin:apicall_apicall_csv", args=[call.public_id])
    assert operator.get(csv_url).status_code == 404  # no list that can be shown


def test_long_parts_are_folded():
    long_list = list(range(FOLD_MEMBERS + 1))
    html = body_html(
        json.dumps({"short": [1, 2], "long": long_list, "text": "x" * (FOLD_CHARS * 2)})
    )
    assert html.count('<details class="j-fold">') == 1
    assert f"[ {FOLD_MEMBERS + 1} items ]" in html
    assert f"… {FOLD_CHARS + 2} more characters" in html  # the rest, and the closing quote
    assert body_html("not json") is None


def test_a_list_that_is_data_itself_is_a_table():
    body = json.dumps({"result": "success", "data": [{"code": "DE"}, {"code": "AT", "eu": "Y"}]})
    table = list_table("getGlobalSettings", body)
    assert (table.key, table.columns, table.rows) == (
        ".",
        ("code", "eu"),
        (("DE", ""), ("AT", "Y")),
    )
    assert list_table("getGlobalSettings", body.replace("success", "error")) is None


# --- Run again --------------------------------------------------------------------------------


def test_run_again_prefills_the_form_and_sends_nothing(client, shop, ds24):
    user = staff("lead", "use_console", "view_apicall")
    client.force_login(user)
    run(client, shop, url="getPurchase?purchase_id=DEMO0003", headers="X-Trace: 7",
        body="page_no=1")  # fmt: skip
    call = ApiCall.objects.get()
    sent = len(ds24.calls())

    detail = page(client.get(reverse("admin:apicall_apicall_change", args=[call.pk])))
    rerun = f"{reverse(CONSOLE)}?rerun={call.public_id}"
    assert f'href="{rerun}">Run again</a>' in detail

    response = client.get(rerun)
    form = response.context["form"]
    names = ("connection", "method", "url", "headers", "body")
    assert {name: form[name].value() for name in names} == {
        "connection": shop.public_id, "method": "POST", "url": "getPurchase?purchase_id=DEMO0003",
        "headers": "X-Trace: 7", "body": "page_no=1",
    }  # fmt: skip
    assert "Nothing has been sent" in page(response)
    assert response.context["result"] is None
    assert len(ds24.calls()) == sent and ApiCall.objects.count() == 1


def test_run_again_in_function_mode(operator, shop, ds24):
    run(operator, shop, function="listPurchases", **{"search[email]": "a@example.com"},
        extra="custom=1")  # fmt: skip
    call = ApiCall.objects.get()
    form = operator.get(console(rerun=call.public_id, mode="function", function="listPurchases"))
    form = form.context["form"]
    assert form["search[email]"].value() == "a@example.com"
    assert form["extra"].value() == "custom=1"
    assert len(ds24.calls()) == 1


def test_the_history_shows_run_again_only_to_console_users(client, record):
    call = record()
    client.force_login(staff("viewer", "view_apicall"))
    html = page(client.get(reverse("admin:apicall_apicall_change", args=[call.pk])))
    assert "Run again" not in html and "/apiconsole/" not in html


# --- Who may do what --------------------------------------------------------------------------


def test_without_use_console_the_console_is_forbidden_and_the_history_still_viewable(
    client, shop, record, ds24
):
    call = record()
    client.force_login(staff("viewer", "view_apicall"))
    assert client.get(console()).status_code == 403
    response = client.post(console(mode="raw"), {"connection": str(shop.public_id),
                                                  "method": "POST", "url": "ping"})  # fmt: skip
    assert response.status_code == 403 and ds24.calls() == []
    assert client.get(console(rerun=call.public_id)).status_code == 403
    assert client.get(reverse("admin:apicall_apicall_changelist")).status_code == 200
    assert client.get(reverse("admin:apicall_apicall_change", args=[call.pk])).status_code == 200
    index = page(client.get(reverse("admin:index")))
    assert "API calls" in index and "API console" not in index


def test_the_index_lists_the_console_for_console_users(operator):
    index = page(operator.get(reverse("admin:index")))
    assert f'href="{reverse(CONSOLE)}"' in index and "API console" in index


def test_signed_out_users_are_sent_to_log_in(client, ds24):
    response = client.get(console())
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_console_user_sees_only_their_own_calls(operator, record):
    others = record(user=User.objects.create_user("bob"))
    assert operator.get(console(call=others.public_id)).status_code == 404
    assert operator.get(console(rerun=others.public_id)).status_code == 404
    assert (
        operator.get(reverse("admin:apicall_apicall_csv", args=[others.public_id])).status_code
        == 404
    )
    assert operator.get(console(call="not-a-uuid")).status_code == 404


def test_calls_are_csrf_protected(shop, ds24):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff("operator", "use_console"))
    fields = {"connection": str(shop.public_id), "method": "POST", "url": "ping"}
    assert client.post(console(mode="raw"), fields).status_code == 403
    assert ds24.calls() == []

    client.get(console(mode="raw"))
    token = client.cookies["csrftoken"].value
    response = client.post(console(mode="raw"), {**fields, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and len(ds24.calls("ping")) == 1


# --- The key, and the page's cost -------------------------------------------------------------


def test_the_key_is_on_no_page(client, shop, ds24):
    client.force_login(staff("lead", "use_console", "view_apicall"))
    make_connection(READ_ONLY_KEY, "Reader")
    result = run(client, shop, function="listPurchases")
    call = ApiCall.objects.get()
    pages = [
        result,
        client.get(console()),
        client.get(console(function="validateEticket")),
        client.get(console(mode="raw")),
        client.get(console(rerun=call.public_id)),
        client.get(reverse("admin:apicall_apicall_changelist")),
        client.get(reverse("admin:apicall_apicall_change", args=[call.pk])),
        client.get(reverse("admin:apicall_apicall_csv", args=[call.public_id])),
    ]
    for response in pages:
        assert response.status_code == 200
        text = response.content.decode()
        assert FULL_KEY not in text and READ_ONLY_KEY not in text


def test_the_pages_query_count_does_not_grow_with_connections_or_calls(operator, shop, ds24):
    run(operator, shop, function="listPurchases")
    call = ApiCall.objects.get()

    def queries() -> int:
        with CaptureQueriesContext(db) as captured:
            assert (
                operator.get(console(call=call.public_id, function="listPurchases")).status_code
                == 200
            )
        return len(captured)

    few = queries()
    assert few <= 10
    for n in range(10):
        make_connection(f"{2000 + n}-AnotherKey00000000000000000000", f"Shop {n}")
        run(operator, shop, url="ping")
    assert queries() == few
