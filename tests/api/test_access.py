"""Who may use the API, and how: tokens (hashed, revocable, last used, read-only), sessions for
staff, throttling, JSON errors, and no secret in any response."""

import json

import pytest
from django.contrib.auth.models import User
from django.db import connection as db
from django.urls import reverse

from api.models import ApiToken, token_digest
from connections.models import Connection
from tests.conftest import on_payment, run_command, signed

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/events/"


def test_bearer_and_token_schemes(client, api_token, webhook):
    _, secret = api_token
    for scheme in ("Bearer", "Token", "bearer"):
        assert client.get(EVENTS, HTTP_AUTHORIZATION=f"{scheme} {secret}").status_code == 200


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer wrong-token", "Bearer a b", "Basic dXNlcjpwYXNz"],
)
def test_without_a_valid_token_is_401_json(client, api_token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get(EVENTS, **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["message"]


def test_only_a_digest_is_stored(api_token):
    token, secret = api_token
    assert token.digest == token_digest(secret)
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM api_apitoken")
        assert secret not in json.dumps(cursor.fetchall(), default=str)


def test_revoked_token_is_refused(client, api_token, admin_client):
    token, secret = api_token
    admin_client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    response = client.get(EVENTS, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 401
    assert "revoked" in response.json()["message"]


def test_last_used_is_recorded(api_get, api_token):
    assert ApiToken.objects.get().last_used is None
    api_get(EVENTS)
    assert ApiToken.objects.get().last_used is not None


def test_tokens_are_read_only_unless_granted_more(client, api_token, api_user):
    _, secret = api_token
    response = client.post(EVENTS, {}, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 403
    assert response.json()["message"] == "This token is read-only."
    from django.contrib.auth.models import Permission

    api_user.user_permissions.add(Permission.objects.get(codename="add_event"))
    writable = ApiToken(user=api_user, name="w", writable=True)
    secret = writable.issue()
    writable.save()
    # Granted more (and the user allowed to add), it passes; the event log has no writes.
    assert client.post(EVENTS, {}, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 405


def test_a_user_without_view_permission_is_403(client):
    user = User.objects.create_user("nobody", password="pw-for-tests")
    token = ApiToken(user=user, name="t")
    secret = token.issue()
    token.save()
    response = client.get(EVENTS, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 403 and response.json()["message"]


def test_sessions_for_staff_only_with_the_browsable_api(client, admin_client):
    page = admin_client.get(EVENTS, HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"ds24site API" in page.content
    from django.contrib.auth.models import Permission

    buyer = User.objects.create_user("buyer", password="pw-for-tests")
    buyer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(buyer)
    assert client.get(EVENTS).status_code == 403  # may view, but sessions are for staff


def test_unknown_paths_and_ids_are_404_json(api_get):
    for path in (
        "/api/v1/nothing/",
        "/api/v2/events/",
        "/api/v1/events/00000000-0000-0000-0000-000000000000/",
        "/api/v1/events/12/",
        "/api/v1/events/" + "-" * 36 + "/",
        "/api/v1/webhooks/x/",
    ):
        response = api_get(path)
        assert response.status_code == 404, path
        assert response.json()["message"].startswith(("Not found", "No Event matches")), path


def test_throttled_per_token_with_retry_after(api_get, settings):
    settings.API_THROTTLE_RATE = "3/min"
    assert [api_get(EVENTS).status_code for _ in range(3)] == [200, 200, 200]
    response = api_get(EVENTS)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["message"].lower()


def test_no_secret_in_any_response(api_get, api_token, post_ipn, webhook, ds24):
    from tests.conftest import READ_ONLY_KEY

    connection = Connection(name="Shop")
    connection.set_key(READ_ONLY_KEY)
    connection.save()
    webhook.connection = connection
    webhook.save()
    post_ipn(webhook, signed(on_payment()))
    bodies = []
    for path in (
        "/api/v1/events/",
        "/api/v1/webhooks/",
        "/api/v1/connections/",
        f"/api/v1/webhooks/{webhook.public_id}/",
        f"/api/v1/connections/{connection.public_id}/",
        "/api/v1/events/follow/",
    ):
        response = api_get(path)
        assert response.status_code == 200, path
        bodies.append(response.content.decode())
    everything = "\n".join(bodies)
    assert webhook.passphrase not in everything
    assert READ_ONLY_KEY not in everything and "1001-…0000" in everything
    assert api_token[1] not in everything
    assert webhook.token not in everything  # a read-only token gets no receive URL


def test_webhooks_and_connections_fields(api_get, webhook):
    [item] = api_get("/api/v1/webhooks/").json()["results"]
    assert item["id"] == str(webhook.public_id)
    assert item["kind"] == "payments" and "on_payment" in item["events"]
    assert set(item) >= {"receive_url", "active", "event_count", "rejected_count", "status"}
    assert "passphrase" not in item


# --- addapitoken ------------------------------------------------------------------------------


def run(*args):
    return run_command("addapitoken", *args)


@pytest.mark.django_db(transaction=True)  # run_from_argv closes connections, as manage.py does
def test_addapitoken_prints_the_token_alone_on_its_last_line(client, api_user):
    code, out, _ = run("crm-sync", "--name", "CRM")
    assert code == 0
    secret = out.splitlines()[-1]
    assert secret.startswith("ds24_") and " " not in secret
    token = ApiToken.objects.get()
    assert token.digest == token_digest(secret) and token.name == "CRM" and not token.writable
    assert client.get(EVENTS, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("ghost",), "no user named 'ghost'"),
        ((), "required: username"),
        (("crm-sync", "--name", " "), "--name must not be empty"),
    ],
)
def test_addapitoken_errors_are_one_line(api_user, args, why):
    code, out, err = run(*args)
    assert code != 0 and out == "" and err.count("\n") == 1 and why in err
    assert not ApiToken.objects.exists()


def test_admin_shows_a_new_token_once(admin_client, api_user):
    response = admin_client.post(
        reverse("admin:api_apitoken_add"), {"user": api_user.pk, "name": "CRM"}
    )
    token = ApiToken.objects.get()
    issued = reverse("admin:api_apitoken_issued", args=[token.pk])
    assert response.status_code == 302 and response["Location"] == issued
    page = admin_client.get(issued)
    secret = page.content.decode().split('id="issued-token">')[1].split("<")[0]
    assert token.digest == token_digest(secret)
    assert "no-store" in page["Cache-Control"]
    change = admin_client.get(reverse("admin:api_apitoken_change", args=[token.pk]))
    assert secret not in change.content.decode()


def test_reloading_the_created_page_makes_no_second_token(admin_client, api_user):
    admin_client.post(reverse("admin:api_apitoken_add"), {"user": api_user.pk, "name": "CRM"})
    token = ApiToken.objects.get()
    issued = reverse("admin:api_apitoken_issued", args=[token.pk])
    first = admin_client.get(issued).content.decode()
    assert 'id="issued-token"' in first
    reload = admin_client.get(issued, follow=True)
    assert ApiToken.objects.count() == 1
    html = reload.content.decode()
    assert 'id="issued-token"' not in html and "shown only once" in html


def test_new_token_form_defaults_to_the_current_user(admin_client, admin_user, api_user):
    form = admin_client.get(reverse("admin:api_apitoken_add")).context["adminform"].form
    assert form.initial["user"] == admin_user.pk


def test_an_inactive_users_token_is_refused(client, api_token, api_user):
    api_user.is_active = False
    api_user.save()
    response = client.get(EVENTS, HTTP_AUTHORIZATION=f"Bearer {api_token[1]}")
    assert response.status_code == 401


def test_staff_issue_tokens_only_for_themselves_and_never_writable(client, admin_user):
    from django.contrib.auth.models import Permission

    mallory = User.objects.create_user("mallory", password="pw-for-tests", is_staff=True)
    mallory.user_permissions.set(
        Permission.objects.filter(codename__in=["add_apitoken", "view_apitoken"])
    )
    client.force_login(mallory)
    add = reverse("admin:api_apitoken_add")
    form = client.get(add).content.decode()
    assert 'name="writable"' not in form and "admin</option>" not in form
    response = client.post(add, {"user": admin_user.pk, "name": "escalate", "writable": "on"})
    assert response.status_code == 200  # the form refuses the choice
    assert not ApiToken.objects.exists()
    client.post(add, {"user": mallory.pk, "name": "mine", "writable": "on"})
    token = ApiToken.objects.get()
    assert token.user == mallory and not token.writable


def test_throttling_of_open_pages_ignores_forged_forwarded_for(client, settings):
    settings.API_THROTTLE_RATE = "3/min"
    statuses = [
        client.get("/api/schema/", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}").status_code for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_docs_and_schema_answer_other_methods_without_500(client):
    assert client.options("/api/docs/").status_code == 405
    assert client.post("/api/docs/").status_code == 405
    assert client.options("/api/schema/").status_code in (200, 405)
