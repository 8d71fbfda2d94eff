"""/api/v1/destinations/ and /api/v1/deliveries/: the secret in the creation answer only,
read-only tokens read but do not write, validation errors as JSON 400s, the status filter, the
schema, and query counts."""

import pytest
from django.contrib.auth.models import Permission

from api.models import ApiToken
from forwarding.models import Delivery, Destination
from tests.conftest import follow_up, on_payment, signed

pytestmark = pytest.mark.django_db

DESTINATIONS = "/api/v1/destinations/"
DELIVERIES = "/api/v1/deliveries/"


@pytest.fixture
def writer(client, api_user):
    """POST/PATCH with a writable token of a user who may add and change destinations."""
    api_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_destination", "change_destination"])
    )
    token = ApiToken(user=api_user, name="provisioning", writable=True)
    secret = token.issue()
    token.save()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    def send(method, path, data):
        return getattr(client, method)(path, data, content_type="application/json", **auth)

    return send


def create(writer, **fields):
    return writer(
        "post", DESTINATIONS, {"name": "CRM", "url": "https://crm.example.com/in", **fields}
    )


def test_create_answers_201_with_id_and_secret_once(writer, api_get, webhook):
    response = create(writer, event_types=["on_payment"], webhook=str(webhook.public_id))
    assert response.status_code == 201
    body = response.json()
    destination = Destination.objects.get()
    assert body["id"] == str(destination.public_id)
    assert body["secret"] == destination.secret and body["secret"].startswith("whsec_")
    assert body["webhook"] == str(webhook.public_id) and body["event_types"] == ["on_payment"]
    assert body["status"] == "healthy" and body["active"] is True

    listed = api_get(DESTINATIONS)
    retrieved = api_get(f"{DESTINATIONS}{destination.public_id}/")
    for response in (listed, retrieved):
        assert response.status_code == 200
        assert destination.secret not in response.content.decode()
        assert "secret" not in response.content.decode()
    assert retrieved.json()["url"] == "https://crm.example.com/in"


def test_create_with_defaults_forwards_everything(writer):
    response = create(writer, webhook=None)
    assert response.status_code == 201
    destination = Destination.objects.get()
    assert destination.event_types == [] and destination.webhook is None
    assert response.json()["mode"] == "both"


def test_read_only_token_lists_but_cannot_create(client, api_token, api_get):
    Destination.objects.create(name="CRM", url="https://crm.example.com/in")
    assert api_get(DESTINATIONS).status_code == 200
    response = client.post(
        DESTINATIONS,
        {"name": "X", "url": "https://x.example.com/"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_token[1]}",
    )
    assert response.status_code == 403
    assert response.json()["message"] == "This token is read-only."
    assert Destination.objects.count() == 1


def test_writable_token_still_needs_the_users_permission(client, api_user):
    token = ApiToken(user=api_user, name="w", writable=True)
    secret = token.issue()
    token.save()
    response = client.post(
        DESTINATIONS,
        {"name": "X", "url": "https://x.example.com/"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 403 and not Destination.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"url": "http://crm.example.com/in"}, "url", "only https:// URLs are allowed"),
        ({"url": "https://10.1.2.3/in"}, "url", "10.1.2.3 is a private address"),
        ({"url": "https://169.254.169.254/"}, "url", "metadata address"),
        ({"url": "https://localhost/in"}, "url", "loopback"),
        ({"url": "not a url"}, "url", "valid URL"),
        ({"event_types": ["on_nothing"]}, "event_types", "not a valid choice"),
        ({"event_types": "on_payment"}, "event_types", "list"),
        ({"webhook": "00000000-0000-0000-0000-000000000000"}, "webhook", "does not exist"),
        ({"webhook": "12"}, "webhook", "valid"),
        ({"name": ""}, "name", "blank"),
        ({"mode": "sometimes"}, "mode", "not a valid choice"),
    ],
)
def test_bad_input_is_400_with_a_message(writer, fields, field, says):
    response = create(writer, **fields)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"].startswith(f"{field}: ")
    assert says in body["message"]
    assert not Destination.objects.exists()


def test_update_and_re_enable(writer):
    destination = Destination.objects.create(
        name="CRM",
        url="https://crm.example.com/in",
        active=False,
        disabled_reason="every delivery failed",
    )
    path = f"{DESTINATIONS}{destination.public_id}/"
    response = writer("patch", path, {"active": True, "event_types": ["on_refund"]})
    assert response.status_code == 200
    assert response.json()["status"] == "healthy" and "secret" not in response.json()
    destination.refresh_from_db()
    assert destination.active and destination.disabled_reason == ""
    assert destination.event_types == ["on_refund"]
    refused = writer("patch", path, {"url": "https://192.168.1.1/"})
    assert refused.status_code == 400 and "private address" in refused.json()["message"]
    assert writer("delete", path, {}).status_code in (403, 405)  # no deletes through the API
    assert Destination.objects.filter(pk=destination.pk).exists()


@pytest.fixture
def deliveries(post_ipn, webhook):
    crm = Destination.objects.create(name="CRM", url="https://crm.example.com/in")
    for n in range(3):
        post_ipn(webhook, signed(on_payment(transaction_id=str(n))))
    follow_up()
    first = Delivery.objects.order_by("id").first()
    Delivery.objects.filter(pk=first.pk).update(status="failed", last_status_code=500)
    return crm, Delivery.objects.get(pk=first.pk)


def test_deliveries_filter_by_status(api_get, deliveries):
    crm, failed = deliveries
    results = api_get(DELIVERIES).json()["results"]
    assert len(results) == 3
    [item] = api_get(DELIVERIES, {"status": "failed"}).json()["results"]
    assert item["id"] == str(failed.public_id)
    assert item["destination"] == str(crm.public_id)
    assert item["event"] == str(failed.event.public_id)
    assert item["message_id"] == failed.message_id and item["last_status_code"] == 500
    assert len(api_get(DELIVERIES, {"status": "pending"}).json()["results"]) == 2
    by_event = api_get(DELIVERIES, {"event": str(failed.event.public_id)}).json()["results"]
    assert [d["id"] for d in by_event] == [str(failed.public_id)]
    one = api_get(f"{DELIVERIES}{failed.public_id}/")
    assert one.status_code == 200 and one.json()["status"] == "failed"


@pytest.mark.parametrize(
    "params", [{"status": "lost"}, {"destination": "x"}, {"created_after": "yesterday"}]
)
def test_bad_delivery_filters_are_400(api_get, deliveries, params):
    response = api_get(DELIVERIES, params)
    assert response.status_code == 400 and response.json()["message"]


def test_deliveries_are_read_only(writer, deliveries):
    assert writer("post", DELIVERIES, {}).status_code in (403, 405)


def test_unknown_ids_are_404_json(api_get):
    for path in (f"{DESTINATIONS}00000000-0000-0000-0000-000000000000/", f"{DELIVERIES}12/"):
        response = api_get(path)
        assert response.status_code == 404 and response.json()["message"]


def test_without_a_token_is_401(client):
    assert client.get(DESTINATIONS).status_code == 401
    assert client.get(DELIVERIES).status_code == 401


def test_list_query_counts_do_not_grow(
    api_get, deliveries, post_ipn, webhook, django_assert_max_num_queries
):
    Destination.objects.create(name="Sheet", url="https://sheet.example.com/in")
    for n in range(3, 8):
        post_ipn(webhook, signed(on_payment(transaction_id=str(n))))
    follow_up()
    with django_assert_max_num_queries(5):
        assert len(api_get(DELIVERIES).json()["results"]) == 13
    with django_assert_max_num_queries(5):
        assert len(api_get(DESTINATIONS).json()["results"]) == 2


def test_in_the_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/destinations/"])
    assert "get" in paths["/api/v1/deliveries/"] and "post" not in paths["/api/v1/deliveries/"]
    created = paths["/api/v1/destinations/"]["post"]["responses"]["201"]
    reference = created["content"]["application/json"]["schema"]["$ref"]
    assert "secret" in schema["components"]["schemas"][reference.rsplit("/", 1)[1]]["properties"]
    listed = schema["components"]["schemas"]["Destination"]["properties"]
    assert "secret" not in listed
    status = [p for p in paths["/api/v1/deliveries/"]["get"]["parameters"] if p["name"] == "status"]
    assert status[0]["schema"]["enum"] == ["failed", "pending", "succeeded"]
