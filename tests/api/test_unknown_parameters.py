"""Every API endpoint refuses a query parameter it does not read (400, naming it) and takes
every one it documents: a misspelt filter must not answer the unfiltered list."""

import uuid

import pytest

from api.filters import KnownParameters
from api.urls import router
from forwarding.models import Delivery

pytestmark = pytest.mark.django_db

SOME_ID = str(uuid.uuid4())
MOMENT = "2026-01-01T00:00:00Z"
PAGES = {"page_size": "10", "format": "json"}
EVENT_FILTERS = {
    **{"event": "on_payment", "webhook": SOME_ID, "kind": "payments", "mode": "live"},
    **{"received_after": MOMENT, "received_before": MOMENT},
    **{"order_id": "A", "order_id_prefix": "ABCD", "transaction_id": "1"},
    **{"transaction_id_prefix": "1234", "email": "a@b.org", "buyer": "Müller"},
    **{"product_id": "1", "eticket_id": "1", "affiliate_name": "p"},
}
ENDPOINTS = {
    "/api/v1/events/": {**PAGES, **EVENT_FILTERS, "ordering": "received"},
    "/api/v1/events/follow/": {"start": "latest", "limit": "5", "format": "json", **EVENT_FILTERS},
    "/api/v1/webhooks/": PAGES,
    "/api/v1/connections/": PAGES,
    "/api/v1/calls/": PAGES,
    "/api/v1/destinations/": PAGES,
    "/api/v1/deliveries/": {
        **PAGES,
        **{"status": Delivery.Status.values[0], "destination": SOME_ID, "event": SOME_ID},
        **{"created_after": MOMENT, "created_before": MOMENT},
    },
}


def test_the_schema_documents_exactly_these(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path, params in ENDPOINTS.items():
        documented = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert documented | {"format", "cursor"} == set(params) | {"format", "cursor"}, path


@pytest.mark.parametrize("path", ENDPOINTS)
def test_documented_parameters_are_taken(api_get, path):
    response = api_get(path, ENDPOINTS[path])
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("unknown", ["bogus", "page", "offset", "search", "o", "email__iexact"])
def test_an_unknown_parameter_is_a_400_naming_it(api_get, path, unknown):
    known = dict(ENDPOINTS[path])
    known.pop(unknown, None)
    response = api_get(path, {**known, unknown: "x"})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"].startswith(f"{unknown}: Unknown parameter. Known here: ")
    assert list(body["detail"]) == [unknown]
    assert "page_size" in body["message"] or "limit" in body["message"]


def test_every_unknown_parameter_is_named(api_get):
    body = api_get("/api/v1/events/", {"emial": "a@b.org", "oder_id": "A", "kind": "all"}).json()
    assert sorted(body["detail"]) == ["emial", "oder_id"]


def test_a_single_object_refuses_them_too(api_get, webhook):
    path = f"/api/v1/webhooks/{webhook.public_id}/"
    assert api_get(path, {"format": "json"}).status_code == 200
    assert api_get(path, {"bogus": "1"}).status_code == 400


def test_the_browsable_api_still_renders(api_get, webhook):
    response = api_get("/api/v1/events/", {"format": "api", "email": "a@b.org"})
    assert response.status_code == 200
    assert b"bogus" in api_get("/api/v1/events/", {"format": "api", "bogus": "1"}).content


def test_every_viewset_checks_first():
    """A new viewset (or one that sets filter_backends) must keep the check."""
    for _prefix, viewset, _basename in router.registry:
        assert viewset.filter_backends[0] is KnownParameters, viewset
        for action in viewset.get_extra_actions():
            backends = action.kwargs.get("filter_backends", viewset.filter_backends)
            assert backends[0] is KnownParameters, action
