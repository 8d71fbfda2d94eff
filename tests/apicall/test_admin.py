"""The call history in the admin: read-only, newest first, filtered without counting the whole
table, and a detail page that shows the request and answer but never the key."""

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apicall.models import ApiCall
from connections.models import Connection
from ds24site.pagination import CappedCountPaginator
from tests.apicall.conftest import Answer
from tests.conftest import FULL_KEY, READ_ONLY_KEY

pytestmark = pytest.mark.django_db

LIST = "admin:apicall_apicall_changelist"


@pytest.fixture
def viewer(client):
    user = User.objects.create_user("viewer", password="pw-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_apicall"))
    client.force_login(user)
    return client


@pytest.fixture
def calls(record, connection):
    """Four calls, oldest first: 200, 404, 502, no answer; the last on another connection by
    another user."""
    other = Connection(name="Other shop")
    other.set_key(READ_ONLY_KEY)
    other.save()
    bob = User.objects.create_user("bob")
    made = [
        record(url="getPurchase?purchase_id=A", answer=Answer(status=200)),
        record(url="getPurchase?purchase_id=B", answer=Answer(status=404)),
        record(url="listPurchases", answer=Answer(status=502)),
        record(url="mysteryFunction", answer=None, error="unreachable", connection=other,
               user=bob),
    ]  # fmt: skip
    return made


def listed(client, **params) -> list[str]:
    response = client.get(reverse(LIST), params)
    assert response.status_code == 200
    return [call.function for call in response.context["cl"].result_list]


def test_list_is_newest_first(viewer, calls):
    assert listed(viewer) == ["mysteryFunction", "listPurchases", "getPurchase", "getPurchase"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status_class": "2xx"}, ["getPurchase"]),
        ({"status_class": "4xx"}, ["getPurchase"]),
        ({"status_class": "5xx"}, ["listPurchases"]),
        ({"status_class": "none"}, ["mysteryFunction"]),
        ({"function": "getPurchase"}, ["getPurchase", "getPurchase"]),
        ({"function": "mysteryFunction"}, ["mysteryFunction"]),  # not in the catalogue
    ],
)
def test_filters(viewer, calls, params, expected):
    assert listed(viewer, **params) == expected


def test_connection_and_user_filters(viewer, calls, connection):
    bob = User.objects.get(username="bob")
    assert listed(viewer, connection__id__exact=connection.pk) == [
        "listPurchases", "getPurchase", "getPurchase"
    ]  # fmt: skip
    assert listed(viewer, user__id__exact=bob.pk) == ["mysteryFunction"]


def test_an_unknown_status_class_is_a_bad_filter_not_an_error(viewer, calls):
    response = viewer.get(reverse(LIST), {"status_class": "9xx"})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_the_list_never_counts_the_whole_table(viewer, calls, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 2)
    with CaptureQueriesContext(db) as queries:
        response = viewer.get(reverse(LIST))
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "apicall" in q["sql"]]
    assert counts and all("LIMIT" in sql.upper() for sql in counts)
    assert response.context["cl"].paginator.capped


def test_the_history_is_read_only(viewer, calls):
    call = calls[0]
    assert viewer.get(reverse("admin:apicall_apicall_add")).status_code == 403
    change = reverse("admin:apicall_apicall_change", args=[call.pk])
    assert viewer.post(change, {"function": "ping"}).status_code == 403
    assert ApiCall.objects.get(pk=call.pk).function == "getPurchase"
    delete = reverse("admin:apicall_apicall_delete", args=[call.pk])
    assert viewer.post(delete, {"post": "yes"}).status_code == 403
    assert ApiCall.objects.count() == 4


def test_detail_shows_request_and_answer_indented_without_the_key(viewer, record):
    call = record(
        url="getPurchase?purchase_id=ABC",
        headers="Accept: application/json",
        answer=Answer(body=b'{"result":"error","message":"key ' + FULL_KEY.encode() + b'"}'),
    )
    response = viewer.get(reverse("admin:apicall_apicall_change", args=[call.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert FULL_KEY not in html
    assert "getPurchase?purchase_id=ABC" in html and "/api/call/getPurchase" in html
    assert "Accept: application/json" in html
    indented = '{\n  "result": "error",\n  "message": "key [redacted]"\n}'
    assert indented.replace('"', "&quot;") in html


def test_bodies_are_escaped(viewer, record):
    call = record(answer=Answer(body=b"<script>alert(1)</script>"))
    html = viewer.get(reverse("admin:apicall_apicall_change", args=[call.pk])).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_without_view_permission_the_history_is_hidden(client, calls):
    user = User.objects.create_user("other", password="pw-for-tests", is_staff=True)
    client.force_login(user)
    assert client.get(reverse(LIST)).status_code == 403


def test_list_query_count_does_not_grow_with_rows(viewer, calls, record, api_token):
    def queries():
        with CaptureQueriesContext(db) as captured:
            viewer.get(reverse(LIST))
        return len(captured)

    few = queries()
    for n in range(10):
        record(url=f"getPurchase?purchase_id={n}", token=api_token[0])
    assert queries() == few


def test_json_that_decodes_to_no_text_is_shown_as_text(viewer, record):
    # "\ud800" decodes to a lone surrogate, which no page can encode.
    call = record(answer=Answer(body=b'{"result": "error", "message": "\\ud800"}'))
    response = viewer.get(reverse("admin:apicall_apicall_change", args=[call.pk]))
    assert response.status_code == 200
    assert "&quot;message&quot;: &quot;\\ud800&quot;" in response.content.decode()
