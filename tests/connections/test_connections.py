"""Connections: the key encrypted at rest and never shown; Verify for each outcome; renewal."""

import logging

import pytest
from django.contrib import messages
from django.contrib.auth.models import Permission, User
from django.db import connection as db
from django.urls import reverse

from connections.client import ApiError, PermissionDenied
from connections.models import Connection
from connections.services import connection_call, connection_verify
from tests.conftest import DEVELOPER_KEY, FULL_KEY, READ_ONLY_KEY

pytestmark = pytest.mark.django_db

UNKNOWN_KEY = "1999-UnknownKeyThatMustStaySecret00000"


def make(name="Shop", key=READ_ONLY_KEY):
    connection = Connection(name=name)
    connection.set_key(key)
    connection.save()
    return connection


@pytest.fixture
def admin_client_(client):
    user = User.objects.create_user("staff", password="pw-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="connections"))
    client.force_login(user)
    return client


def test_key_is_encrypted_at_rest_and_redacted_everywhere():
    connection = make()
    with db.cursor() as cursor:
        cursor.execute("SELECT api_key, key_hint FROM connections_connection")
        stored, hint = cursor.fetchone()
    assert READ_ONLY_KEY not in stored
    assert hint == "1001-…0000"
    assert Connection.objects.get().api_key == READ_ONLY_KEY
    assert READ_ONLY_KEY not in str(connection) + repr(connection)


@pytest.mark.parametrize(
    ("key", "ok", "message", "status"),
    [
        (READ_ONLY_KEY, True, "OK as demo-vendor", "verified"),
        (UNKNOWN_KEY, False, "Key rejected: Digistore24 rejected the API key", "failed"),
        (
            DEVELOPER_KEY,
            False,
            "No permission: The API key lacks permission for getUserInfo",
            "failed",
        ),
    ],
    ids=["ok", "key-rejected", "no-permission"],
)
def test_verify_each_outcome(ds24, ds24_errors, key, ok, message, status):
    connection = make(key=key)
    outcome = connection_verify(connection=connection)
    assert outcome.ok is ok
    assert outcome.message.startswith(message)
    connection.refresh_from_db()
    assert connection.status == status
    assert connection.last_verified is not None
    assert connection.last_error == ("" if ok else outcome.message)
    assert key not in outcome.message
    if ok:
        assert (connection.ds24_user_id, connection.granted_roles) == ("4711", "user,merchant")
    assert [c.function for c in ds24.calls()] == ["ping", "getUserInfo"][
        : 2 if key != UNKNOWN_KEY else 1
    ]


def test_verify_when_digistore24_is_unreachable(settings):
    settings.DS24_API_URL = "http://127.0.0.1:9/api/call/"
    outcome = connection_verify(connection=make())
    assert not outcome.ok
    assert outcome.message.startswith("Digistore24 unreachable")
    assert Connection.objects.get().status == "failed"


def test_verify_gives_up_on_a_hanging_digistore24_within_the_budget(ds24, settings):
    settings.DS24_API_INTERACTIVE_BUDGET = 0.3
    ds24.inject("latency", seconds=2, function="getUserInfo")
    outcome = connection_verify(connection=make())
    assert outcome.message.startswith(
        "Digistore24 unreachable: Digistore24 did not answer within 0.3 seconds"
    )
    # One try each, though the retry of a read would have been answered at once.
    assert [c.function for c in ds24.calls()] == ["ping", "getUserInfo"]


@pytest.mark.parametrize("key", [READ_ONLY_KEY, UNKNOWN_KEY], ids=["ok", "failed"])
def test_verify_saves_only_what_it_learned(ds24, key):
    """Someone renames the connection while it is being verified: the rename stays."""
    stale = make("Shop", key)
    Connection.objects.filter(pk=stale.pk).update(name="Shop (EU)", language="de")
    connection_verify(connection=stale)
    fresh = Connection.objects.get(pk=stale.pk)
    assert (fresh.name, fresh.language) == ("Shop (EU)", "de")
    assert fresh.status == ("verified" if key == READ_ONLY_KEY else "failed")
    assert fresh.updated > stale.created


def test_access_level_is_learned_from_writes(ds24):
    read_only, full = make("RO", READ_ONLY_KEY), make("Full", FULL_KEY)
    connection_call(connection=full, function="listPurchases", interactive=False)
    assert Connection.objects.get(pk=full.pk).access == ""  # a read tells nothing
    # ipnDelete of a domain_id never registered: a write that changes nothing (ipnSetup would
    # have the stand-in check a public URL by GET, as Digistore24 does).
    delete = {"domain_id": "never-registered"}
    data = connection_call(connection=full, function="ipnDelete", params=delete, interactive=True)
    assert data["modified"] == "N"
    assert Connection.objects.get(pk=full.pk).access == "full"
    with pytest.raises(PermissionDenied):
        connection_call(connection=read_only, function="ipnDelete", params=delete, interactive=True)
    assert Connection.objects.get(pk=read_only.pk).access == "readonly"


def test_background_calls_are_retried_and_interactive_ones_not(ds24, settings):
    settings.DS24_API_BACKOFF = 0
    connection = make()
    ds24.inject("status", status=503)
    assert "purchase_list" in connection_call(
        connection=connection, function="listPurchases", interactive=False
    )
    assert len(ds24.calls("listPurchases")) == 2
    ds24.inject("status", status=503)
    with pytest.raises(ApiError, match="HTTP 503"):
        connection_call(connection=connection, function="listPurchases", interactive=True)
    assert len(ds24.calls("listPurchases")) == 3


def test_key_never_in_logs_during_verify(ds24, caplog):
    caplog.set_level(logging.DEBUG)
    connection_verify(connection=make(key=UNKNOWN_KEY))
    connection_verify(connection=make("Other", key=READ_ONLY_KEY))
    assert caplog.text and UNKNOWN_KEY not in caplog.text and READ_ONLY_KEY not in caplog.text


# --- Admin ------------------------------------------------------------------------------------


def test_add_takes_the_key_once_in_a_password_field_and_verifies(ds24, admin_client_):
    add = reverse("admin:connections_connection_add")
    page = admin_client_.get(add).content.decode()
    assert 'type="password" name="api_key"' in page
    response = admin_client_.post(
        add, {"name": "Shop", "api_key": READ_ONLY_KEY, "language": "de"}, follow=True
    )
    html = response.content.decode()
    assert "Shop: OK as demo-vendor" in html
    assert READ_ONLY_KEY not in html
    connection = Connection.objects.get()
    assert connection.status == "verified" and connection.language == "de"
    assert ds24.calls("ping")[0].params["language"] == "de"


def test_add_refuses_something_that_is_not_a_key(ds24, admin_client_):
    response = admin_client_.post(
        reverse("admin:connections_connection_add"),
        {"name": "Shop", "api_key": "my password", "language": "en"},
    )
    assert "does not look like a Digistore24 API key" in response.content.decode()
    assert "my password" not in response.content.decode()  # not echoed back
    assert not Connection.objects.exists() and ds24.calls() == []


def test_key_absent_from_change_page_list_and_history(ds24, admin_client_):
    connection = make()
    pages = [
        reverse("admin:connections_connection_change", args=[connection.pk]),
        reverse("admin:connections_connection_changelist"),
        reverse("admin:connections_connection_history", args=[connection.pk]),
    ]
    for url in pages:
        html = admin_client_.get(url).content.decode()
        assert READ_ONLY_KEY not in html, url
        assert "1001-…0000" in html or "history" in url


def test_verify_button_and_action(ds24, admin_client_):
    good, bad = make("Good"), make("Bad", UNKNOWN_KEY)
    response = admin_client_.post(
        reverse("admin:connections_connection_verify", args=[good.pk]), follow=True
    )
    assert "Good: OK as demo-vendor" in response.content.decode()
    response = admin_client_.post(
        reverse("admin:connections_connection_changelist"),
        {"action": "verify_selected", "_selected_action": [good.pk, bad.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert "Good: OK as demo-vendor" in html
    assert "Bad: Key rejected" in html and UNKNOWN_KEY not in html
    assert (
        admin_client_.get(
            reverse("admin:connections_connection_verify", args=[good.pk])
        ).status_code
        == 405
    )


def test_verifying_many_stops_when_the_budget_is_spent(ds24, admin_client_, settings):
    """The action runs in one request: a hanging Digistore24 must not hold it for a budget per
    connection (with a few connections, past the web worker's timeout)."""
    settings.DS24_API_INTERACTIVE_BUDGET = 0.3
    ds24.inject("latency", seconds=1, function="ping", count=3)
    first, second, third = make("First"), make("Second"), make("Third")
    response = admin_client_.post(
        reverse("admin:connections_connection_changelist"),
        {"action": "verify_selected", "_selected_action": [first.pk, second.pk, third.pk]},
        follow=True,
    )
    assert len(ds24.calls("ping")) == 1
    html = response.content.decode()
    assert "Digistore24 unreachable" in html
    assert "Not verified, to answer in time: Second, Third" in html
    assert Connection.objects.filter(last_verified__isnull=False).count() == 1


def test_renew_key_replaces_and_reverifies(ds24, admin_client_):
    connection = make(key=UNKNOWN_KEY)
    url = reverse("admin:connections_connection_renew", args=[connection.pk])
    assert 'type="password"' in admin_client_.get(url).content.decode()
    response = admin_client_.post(url, {"api_key": FULL_KEY}, follow=True)
    assert "OK as demo-vendor" in response.content.decode()
    connection.refresh_from_db()
    assert connection.api_key == FULL_KEY and connection.key_hint == "1002-…0000"
    assert connection.status == "verified"


def test_view_only_staff_cannot_verify_or_renew(ds24, client):
    user = User.objects.create_user("viewer", password="pw-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_connection"))
    client.force_login(user)
    connection = make()
    assert (
        client.post(
            reverse("admin:connections_connection_verify", args=[connection.pk])
        ).status_code
        == 403
    )
    assert (
        client.get(reverse("admin:connections_connection_renew", args=[connection.pk])).status_code
        == 403
    )
    assert ds24.calls() == []


def test_webhooks_can_name_their_connection(ds24):
    from webhooks.services import webhook_create

    connection = make()
    webhook = webhook_create(name="Payments", kind="payments")
    webhook.connection = connection
    webhook.save()
    assert list(connection.webhooks.all()) == [webhook]


def test_add_with_a_key_digistore24_rejects_saves_nothing_and_keeps_the_input(ds24, admin_client_):
    response = admin_client_.post(
        reverse("admin:connections_connection_add"),
        {"name": "My shop", "api_key": UNKNOWN_KEY, "language": "de"},
    )
    assert response.status_code == 200  # the form again, not a redirect
    form = response.context["adminform"].form
    assert "Key rejected" in " ".join(form.errors["api_key"])
    assert form["name"].value() == "My shop" and form["language"].value() == "de"
    assert UNKNOWN_KEY not in response.content.decode()  # a secret is not echoed back
    assert not Connection.objects.exists()
    assert not [m for m in response.context["messages"]]


def test_add_while_digistore24_is_unreachable_keeps_it_with_the_error_alone(
    admin_client_, settings
):
    settings.DS24_API_URL = "http://127.0.0.1:9/"  # the discard port: nothing listens
    response = admin_client_.post(
        reverse("admin:connections_connection_add"),
        {"name": "Shop", "api_key": READ_ONLY_KEY, "language": "en"},
        follow=True,
    )
    connection = Connection.objects.get()
    assert connection.status == "failed" and "unreachable" in connection.last_error
    levels = [m.level for m in response.context["messages"]]
    assert levels == [messages.ERROR]  # no green "added successfully" beside it
