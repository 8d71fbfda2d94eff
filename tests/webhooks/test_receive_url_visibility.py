"""A webhook's receive URL (for an unsigned webhook, all it takes to post events) is shown only
to those who may change the webhook: over the API, a writable token of a user with
webhooks.change_webhook; in the admin, staff with that permission."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from api.models import ApiToken
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def unsigned_webhook():
    return webhook_create(name="Open shop", kind="all", unsigned=True)


def user_with(*codenames: str, **flags) -> User:
    user = User.objects.create_user(f"user{User.objects.count()}", **flags)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def bearer(user, *, writable: bool) -> dict:
    token = ApiToken(user=user, name="tests", writable=writable)
    secret = token.issue()
    token.save()
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def api_bodies(client, webhook, **auth) -> tuple[dict, str]:
    """The webhook as the list shows it, and the text of every webhook response."""
    listing = client.get("/api/v1/webhooks/", **auth)
    detail = client.get(f"/api/v1/webhooks/{webhook.public_id}/", **auth)
    assert listing.status_code == detail.status_code == 200
    [item] = listing.json()["results"]
    assert detail.json()["receive_url"] == item["receive_url"]
    return item, listing.content.decode() + detail.content.decode()


@pytest.mark.parametrize(
    ("codenames", "writable"),
    [
        (["view_webhook", "change_webhook"], False),  # a read-only token, whoever's
        (["view_webhook"], True),  # a writable token of a user who may only look
    ],
)
def test_the_api_hides_the_url_from_tokens_that_cannot_change_webhooks(
    client, unsigned_webhook, codenames, writable
):
    auth = bearer(user_with(*codenames), writable=writable)
    item, everything = api_bodies(client, unsigned_webhook, **auth)
    assert item["receive_url"] is None
    assert unsigned_webhook.token not in everything


def test_the_api_gives_the_url_to_a_writable_token_that_may_change_webhooks(
    client, unsigned_webhook
):
    auth = bearer(user_with("view_webhook", "change_webhook"), writable=True)
    item, _ = api_bodies(client, unsigned_webhook, **auth)
    assert item["receive_url"] == unsigned_webhook.get_receive_url()


def test_staff_sessions_see_the_url_when_they_may_change_webhooks(client, unsigned_webhook):
    client.force_login(user_with("view_webhook", is_staff=True))
    item, everything = api_bodies(client, unsigned_webhook)
    assert item["receive_url"] is None and unsigned_webhook.token not in everything

    client.force_login(user_with("view_webhook", "change_webhook", is_staff=True))
    item, _ = api_bodies(client, unsigned_webhook)
    assert item["receive_url"] == unsigned_webhook.get_receive_url()


def test_the_schema_says_who_gets_the_url(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    field = schema["components"]["schemas"]["Webhook"]["properties"]["receive_url"]
    assert field["nullable"] is True and "webhooks.change_webhook" in field["description"]


def test_view_only_staff_do_not_see_the_url_in_the_admin(viewer_client, unsigned_webhook):
    url = reverse("admin:webhooks_webhook_change", args=[unsigned_webhook.pk])
    html = viewer_client.get(url).content.decode()
    assert unsigned_webhook.token not in html
    assert "field-receive_url" not in html
    assert "receive URL (shown to users who may change it)" in html  # in the set-up panel
    assert "Copy</button>" not in html


def test_staff_who_may_change_see_the_url_with_copy_buttons(staff_client, unsigned_webhook):
    url = reverse("admin:webhooks_webhook_change", args=[unsigned_webhook.pk])
    html = staff_client.get(url).content.decode()
    assert html.count(f'data-copy="{unsigned_webhook.get_receive_url()}"') == 2  # field, panel
