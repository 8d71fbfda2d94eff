"""/api/v1/events/: fields, filters (and their bad-value errors), cursor pagination."""

import gc
import weakref
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from tests.conftest import PASSPHRASE, on_payment, signed
from webhooks import samples
from webhooks.api import EventViewSet
from webhooks.models import Event, EventQuerySet
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/events/"


@pytest.fixture
def log(post_ipn, webhook):
    post_ipn(webhook, signed(on_payment()))
    post_ipn(webhook, signed(on_payment(transaction_id="2", order_id="ZZZ", email="b@x.org",
                                        product_id="777")))  # fmt: skip
    everything = webhook_create(name="Everything", kind="all", passphrase=PASSPHRASE)
    post_ipn(everything, signed(samples.eticket(eticket_id="11112222333344445555")))
    post_ipn(everything, signed(samples.on_affiliation(affiliate_name="partner77")))
    post_ipn(everything, signed(samples.on_refund(order_id="REFUND1")))
    old = signed(on_payment(order_id="OLD", transaction_id="4"))
    post_ipn(webhook, old)
    Event.objects.filter(order_id="OLD").update(received=timezone.now() - timedelta(days=3))
    return webhook, everything


def names(response):
    assert response.status_code == 200, response.content
    return [(e["event"], e["order_id"]) for e in response.json()["results"]]


def test_list_newest_first_with_all_fields(api_get, log):
    body = api_get(EVENTS).json()
    first = body["results"][-2]  # ABC123XY, the first one received today
    assert first["event"] == "on_payment" and first["order_id"] == "ABC123XY"
    assert first["webhook"]["name"] == "Payments"
    assert first["signature"] == "verified"
    assert first["delivery_count"] == 1
    assert first["business_key"] == "on_payment:987654"
    assert first["amount"] == "49.0000" and first["currency"] == "EUR"
    assert first["payload"][0] == ["event", "on_payment"]
    assert first["payload"][-1] == ["placeholder_TITLE", "Mr"]  # the signature is left out
    assert [e["order_id"] for e in body["results"]][-1] == "OLD"
    detail = api_get(f"{EVENTS}{first['id']}/").json()
    assert detail == first


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"event": ["on_payment", "on_refund"]},
         [("on_refund", "REFUND1"), ("on_payment", "ZZZ"), ("on_payment", "ABC123XY"),
          ("on_payment", "OLD")]),
        ({"kind": "etickets"}, []),
        ({"kind": "all", "event": "eticket"}, [("eticket", None)]),
        ({"order_id": "ZZZ"}, [("on_payment", "ZZZ")]),
        ({"transaction_id": "987654"}, [("on_payment", "ABC123XY")]),
        ({"email": "b@x.org"}, [("on_payment", "ZZZ")]),
        ({"email": "B@X.Org"}, [("on_payment", "ZZZ")]),  # was exact and case-sensitive
        ({"email": "TEST.BUYER@example.com"}, [("on_refund", "REFUND1"), ("eticket", None)]),
        ({"email": "b@x.or"}, []),
        ({"order_id_prefix": "ABC1"}, [("on_payment", "ABC123XY")]),
        ({"order_id_prefix": "abc1"}, []),
        ({"order_id_prefix": "REFU", "order_id": "REFUND1"}, [("on_refund", "REFUND1")]),
        ({"transaction_id_prefix": "9876"}, [("on_payment", "ABC123XY")]),
        ({"transaction_id_prefix": "87654"}, []),
        ({"buyer": "müller"}, [("on_refund", "REFUND1"), ("eticket", None)]),
        ({"buyer": "JÖRG MÜ"}, [("on_refund", "REFUND1"), ("eticket", None)]),
        ({"buyer": "Müller, Jörg", "event": "on_refund"}, [("on_refund", "REFUND1")]),
        ({"buyer": "petra partner"}, [("on_affiliation", "")]),  # the address's name
        ({"buyer": "Partner, Petra"}, [("on_affiliation", "")]),
        ({"buyer": "jörg müller x"}, []),
        ({"buyer": "mü"}, []),  # shorter than MIN_NAME_PREFIX: a whole name only
        ({"product_id": "777"}, [("on_payment", "ZZZ")]),
        ({"eticket_id": "11112222333344445555"}, [("eticket", None)]),
        ({"affiliate_name": "partner77"}, [("on_affiliation", "")]),
        ({"mode": "live", "kind": "payments"}, [("on_payment", "ZZZ"), ("on_payment", "ABC123XY"),
                                               ("on_payment", "OLD")]),
        ({"received_before": (timezone.now() - timedelta(days=1)).isoformat()},
         [("on_payment", "OLD")]),
        ({"received_after": (timezone.now() - timedelta(days=1)).isoformat(), "kind": "payments"},
         [("on_payment", "ZZZ"), ("on_payment", "ABC123XY")]),
    ],
)  # fmt: skip
def test_filters(api_get, log, params, expected):
    got = names(api_get(EVENTS, params))
    assert len(got) == len(expected)
    for (event, order_id), (want_event, want_order_id) in zip(got, expected, strict=True):
        assert event == want_event
        assert want_order_id is None or order_id == want_order_id  # None: a random sample id


def test_webhook_filter(api_get, log):
    _, everything = log
    got = names(api_get(EVENTS, {"webhook": str(everything.public_id)}))
    assert [event for event, _ in got] == ["on_refund", "on_affiliation", "eticket"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"received_after": "yesterday"}, "received_after"),
        ({"received_before": "2026-02-30T00:00:00Z"}, "received_before"),
        ({"received_after": "0001-01-01T00:00:00+14:00"}, "received_after"),
        ({"received_before": "9999-12-31T23:59:59-14:00"}, "received_before"),
        ({"event": "on_lottery_win"}, "event"),
        ({"kind": "groceries"}, "kind"),
        ({"mode": "sandbox"}, "mode"),
        ({"webhook": "not-a-uuid"}, "webhook"),
        ({"order_id": "a\x00b"}, "order_id"),
        ({"order_id_prefix": "a\x00bc"}, "order_id_prefix"),
        ({"order_id_prefix": "ZZZ"}, "order_id_prefix"),  # too short to be a useful prefix
        ({"transaction_id_prefix": "987"}, "transaction_id_prefix"),
        ({"email": "\x00@x.org"}, "email"),
        ({"buyer": "M\x00"}, "buyer"),
        ({"emial": "b@x.org"}, "emial"),  # unknown: refused, not ignored
    ],
)
def test_bad_filter_values_are_400_with_a_message(api_get, log, params, field):
    response = api_get(EVENTS, params)
    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith(f"{field}: ")
    assert field in body["detail"]


def test_cursor_pages_default_50_max_500_and_stable_under_inserts(api_get, post_ipn, webhook):
    for n in range(7):
        post_ipn(webhook, signed(on_payment(transaction_id=f"t{n}", order_id=f"O{n}")))
    page = api_get(EVENTS, {"page_size": 3}).json()
    assert [e["order_id"] for e in page["results"]] == ["O6", "O5", "O4"]
    assert "count" not in page  # no COUNT(*)
    # New events arrive between pages: the next page neither repeats nor skips.
    for n in range(7, 9):
        post_ipn(webhook, signed(on_payment(transaction_id=f"t{n}", order_id=f"O{n}")))
    second = api_get(page["next"]).json()
    assert [e["order_id"] for e in second["results"]] == ["O3", "O2", "O1"]
    assert len(api_get(EVENTS).json()["results"]) == 9  # default 50
    assert len(api_get(EVENTS, {"page_size": 1000}).json()["results"]) == 9


def test_page_size_caps_at_500(api_get, webhook):
    Event.objects.bulk_create(
        Event(webhook=webhook, event="on_payment", scope="accepted", payload=[],
              payload_hash=f"{n:064d}", signature="verified")
        for n in range(505)
    )  # fmt: skip
    assert len(api_get(EVENTS, {"page_size": 1000}).json()["results"]) == 500


def _named_log(webhook):
    """Events received a minute apart, newest last, of buyers whose names do not sort as they
    arrived: a name filter's matches come from its index out of `received` order."""
    start = timezone.now() - timedelta(hours=1)
    names = ["Müller", "Schmidt", "Müllerová", "Müller", "Becker", "Müller", "Müllner", "Müller"]
    for n, name in enumerate(names):
        params = {"order_id": f"O{n}", "buyer_first_name": "Anna", "buyer_last_name": name}
        Event.objects.create(
            webhook=webhook, event="on_payment", scope="accepted", signature="verified",
            payload=list(params.items()), payload_hash=f"{n:064d}",
            received=start + timedelta(minutes=n), **Event.typed_fields(params),
        )  # fmt: skip


def test_filtered_pages_walk_newest_first_both_ways(api_get, webhook):
    _named_log(webhook)
    walked, url, params = [], EVENTS, {"buyer": "müller", "page_size": 2}
    while url:
        page = api_get(url, params).json()
        walked.append([e["order_id"] for e in page["results"]])
        url, params = page["next"], None
    assert walked == [["O7", "O5"], ["O3", "O2"], ["O0"]]
    back = api_get(api_get(page["previous"]).json()["previous"]).json()
    assert [e["order_id"] for e in back["results"]] == ["O7", "O5"]
    assert back["previous"] is None


def test_an_event_pruned_while_its_page_is_read_is_left_out(api_get, webhook, monkeypatch):
    """Pages read the events' keys, then their rows: one deleted in between (pruneevents runs
    beside the API) is missing from the page, which is otherwise whole."""
    _named_log(webhook)
    read_rows = EventQuerySet.in_bulk

    def pruned_first(queryset, ids, **kwargs):
        Event.objects.filter(order_id="O5").delete()
        return read_rows(queryset, ids, **kwargs)

    monkeypatch.setattr(EventQuerySet, "in_bulk", pruned_first)
    page = api_get(EVENTS, {"buyer": "müller", "page_size": 3}).json()
    assert [e["order_id"] for e in page["results"]] == ["O7", "O3"]
    monkeypatch.undo()
    assert [e["order_id"] for e in api_get(page["next"]).json()["results"]] == ["O2", "O0"]


# Committed data: on PostgreSQL, follow waits for the writing transaction to commit.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["list", "follow"])
def test_a_page_is_freed_once_sent_without_the_collector(webhook, api_token, action, monkeypatch):
    """No reference cycle holds a page's events or its answer: they are freed as soon as they
    are done with, rather than left for the garbage collector's next full pass. (The view is
    called as the handler calls it: the test client ties what it gets into cycles of its own.)"""
    _named_log(webhook)
    request = APIRequestFactory().get(EVENTS, HTTP_AUTHORIZATION=f"Bearer {api_token[1]}")
    view = EventViewSet.as_view({"get": action})
    loaded = []
    load = Event.from_db.__func__

    def remember(cls, db, field_names, values):
        instance = load(cls, db, field_names, values)
        loaded.append(weakref.ref(instance))
        return instance

    monkeypatch.setattr(Event, "from_db", classmethod(remember))
    gc.disable()
    try:
        answer = view(request).render()
        assert answer.status_code == 200
        assert len(answer.data["results"]) == 8
        # The events once shown, while the answer is still there; the answer once sent.
        assert len(loaded) >= 8
        assert [event() for event in loaded] == [None] * len(loaded)
        sent = weakref.ref(answer)
        del answer
        assert sent() is None
    finally:
        gc.enable()


def test_oldest_first_ordering(api_get, post_ipn, webhook):
    for n in range(3):
        post_ipn(webhook, signed(on_payment(transaction_id=f"t{n}", order_id=f"O{n}")))
    got = api_get(EVENTS, {"ordering": "received"}).json()["results"]
    assert [e["order_id"] for e in got] == ["O0", "O1", "O2"]


@pytest.mark.parametrize(
    "position",
    ["notadate", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-01-01T00:00"],
)
def test_forged_page_cursors_are_400(api_get, webhook, position):
    import base64
    from urllib.parse import urlencode

    forged = base64.b64encode(urlencode({"p": position}).encode()).decode()
    response = api_get(EVENTS, {"cursor": forged})
    assert response.status_code == 400
    assert response.json()["message"].startswith("cursor: ")


def test_odd_utc_offsets_are_read_in_utc(api_get, log):
    # Python accepts offsets up to 24 h, PostgreSQL only up to 15:59: both must work.
    got = names(api_get(EVENTS, {"received_before": "2000-01-01T00:00:00-19:48"}))
    assert got == []
