"""Database trouble (locked past the busy timeout, or unreachable) is a 503 that says "try
again", never a 500: JSON with Retry-After on the API, a plain page elsewhere. Against a really
locked database (`lock_database`: another connection holds the write lock) and a really
unreachable one (`broken_database`)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api import authentication
from api.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True)


def bearer(user, *, writable=False) -> dict:
    token = ApiToken(user=user, name="t", writable=writable)
    secret = token.issue()
    token.last_used = timezone.now() - timedelta(hours=1)  # due for its last_used write
    token.save()
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture(autouse=True)
def _last_used_writes_resume():
    yield
    authentication._paused_until = 0.0


@pytest.fixture
def client():
    # Django's test client re-raises what a view raised even when a response was made for it.
    return Client(raise_request_exception=False)


def assert_json_503(response):
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"]
    body = response.json()
    assert body["detail"] == body["message"] == "Database temporarily unavailable; try again."


def test_a_read_does_not_fail_for_the_token_bookkeeping_it_could_not_write(
    client, api_user, lock_database
):
    auth = bearer(api_user)
    lock_database()
    response = client.get("/api/v1/events/", **auth)
    assert response.status_code == 200, response.content
    token = ApiToken.objects.get()
    assert token.last_used < timezone.now() - timedelta(minutes=59)  # not written, and no harm

    with CaptureQueriesContext(connection) as queries:  # nor tried again for a while
        assert client.get("/api/v1/events/", **auth).status_code == 200
    assert [q["sql"] for q in queries if not q["sql"].startswith("SELECT")] == []


def test_a_write_through_the_api_is_json_503(client, api_user, lock_database):
    api_user.user_permissions.add(Permission.objects.get(codename="add_destination"))
    auth = bearer(api_user, writable=True)
    lock_database()
    response = client.post(
        "/api/v1/destinations/",
        {"name": "CRM", "url": "https://crm.example.com/in"},
        content_type="application/json",
        **auth,
    )
    assert_json_503(response)


def test_the_api_with_the_database_down_is_json_503(client, api_user, broken_database):
    auth = bearer(api_user)
    broken_database()
    assert_json_503(client.get("/api/v1/events/", **auth))


def test_admin_login_is_a_plain_503_page(client, lock_database):
    User.objects.create_superuser("boss", password="pw-for-tests")
    lock_database()
    response = client.post("/admin/login/", {"username": "boss", "password": "pw-for-tests"})
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"]
    assert b"Temporarily unavailable" in response.content


def test_admin_pages_with_the_database_down_are_503(client, broken_database):
    client.force_login(User.objects.create_superuser("boss", password="pw-for-tests"))
    broken_database()
    response = client.get("/admin/webhooks/event/")
    assert response.status_code == 503
    assert b"Temporarily unavailable" in response.content


def test_other_errors_stay_500(client, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("not the database")

    monkeypatch.setattr("django.contrib.admin.sites.AdminSite.each_context", boom)
    assert client.get("/admin/login/").status_code == 500
