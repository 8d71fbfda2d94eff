"""The event log: list, filters, searches, the three trigger lists, detail, replay, and how many
queries each page costs."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import (
    ARABIC_INDIC,
    PASSPHRASE,
    follow_up,
    in_digits,
    on_payment,
    run_tasks,
    signed,
)
from webhooks import samples
from webhooks.models import Event
from webhooks.services import webhook_create
from webhooks.signals import ipn_received

pytestmark = pytest.mark.django_db

LIST = "admin:webhooks_event_changelist"


@pytest.fixture
def log(post_ipn, webhook):
    """A small log: two payments (one redelivered), a revised e-ticket, an affiliation, a
    connection test, an unsigned test-mode payment, and an event from three days ago."""
    post_ipn(webhook, signed(on_payment()))
    post_ipn(webhook, signed(on_payment()))  # redelivery
    post_ipn(webhook, signed(on_payment(transaction_id="2", order_id="ZZZ", email="b@x.org")))
    everything = webhook_create(name="Everything", kind="all", passphrase=PASSPHRASE)
    ticket = samples.eticket(eticket_id="11112222333344445555", order_id="TICKETS1")
    post_ipn(everything, signed(ticket))
    post_ipn(everything, signed({**ticket, "action": "update", "buyer_first_name": "Anna"}))
    post_ipn(everything, signed(samples.on_affiliation(affiliate_name="partner77")))
    post_ipn(everything, signed(samples.connection_test()))
    unsigned = webhook_create(name="Open", kind="all", unsigned=True)
    post_ipn(unsigned, on_payment(order_id="TESTMODE", transaction_id="3", api_mode="test"))
    post_ipn(webhook, signed(on_payment(order_id="OLD", transaction_id="4")))
    Event.objects.filter(order_id="OLD").update(received=timezone.now() - timedelta(days=3))
    follow_up()  # as workers did when these arrived: a replay comes long after
    return Event.objects.all()


def listing(client, name=LIST, **params):
    response = client.get(reverse(name), params)
    assert response.status_code == 200, response
    return response.content.decode()


def shown_orders(html):
    return [o for o in ("ABC123XY", "ZZZ", "TICKETS1", "TESTMODE", "OLD") if f">{o}<" in html]


def test_list_newest_first_with_badges_amounts_deliveries_and_revisions(staff_client, log):
    html = listing(staff_client)
    assert html.index(">TESTMODE<") < html.index(">ZZZ<") < html.index(">ABC123XY<")
    # Readable names, the code Digistore24 sent in the tooltip.
    assert 'class="ds24-badge paid" title="on_payment">Payment<' in html
    assert 'class="ds24-badge ticket" title="eticket">E-ticket<' in html
    assert "49.00 EUR" in html
    assert "\u00d72" in html  # the redelivered payment
    assert html.count(">revision<") == 1  # the updated e-ticket


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"event": "on_payment"}, ["ABC123XY", "ZZZ", "TESTMODE", "OLD"]),
        ({"kind": "payments"}, ["ABC123XY", "ZZZ", "OLD"]),
        ({"signature__exact": "unsigned"}, ["TESTMODE"]),
        ({"mode": "test"}, ["TICKETS1", "TESTMODE"]),
        ({"mode": "live"}, ["ABC123XY", "ZZZ", "OLD"]),
        ({"received": "today"}, ["ABC123XY", "ZZZ", "TICKETS1", "TESTMODE"]),
        ({"received": "7d"}, ["ABC123XY", "ZZZ", "TICKETS1", "TESTMODE", "OLD"]),
        ({"received_to": str(timezone.localdate() - timedelta(days=2))}, ["OLD"]),
        (
            {"received_from": str(timezone.localdate()), "event": "on_payment"},
            ["ABC123XY", "ZZZ", "TESTMODE"],
        ),
        ({"q": "ZZZ"}, ["ZZZ"]),
        ({"q": "ZZ"}, []),  # shorter than MIN_ID_PREFIX: whole ids only
        ({"q": "ABC12"}, ["ABC123XY"]),  # order ids by prefix
        ({"q": "ABC1"}, ["ABC123XY"]),
        ({"q": "zzz"}, []),  # as given: Digistore24's order ids are upper case
        ({"q": "987654"}, ["ABC123XY"]),  # transaction id
        ({"q": "9876"}, ["ABC123XY"]),  # by prefix
        ({"q": "87654"}, []),  # a prefix, not a substring
        ({"q": "b@x.org"}, ["ZZZ"]),
        ({"q": "B@X.Org"}, ["ZZZ"]),  # was exact and case-sensitive
        ({"q": "  KUNDE@example.COM "}, ["ABC123XY", "TESTMODE", "OLD"]),
        ({"q": "b@x.or"}, []),  # e-mail addresses exactly
        ({"q": "11112222333344445555"}, ["TICKETS1"]),
        ({"q": "partner77"}, []),  # found, but an affiliation has no order id to show
    ],
)
def test_filters_and_exact_searches(staff_client, log, params, expected):
    assert shown_orders(listing(staff_client, **params)) == expected


def test_webhook_filter(staff_client, log, webhook):
    html = listing(staff_client, webhook__id__exact=webhook.pk)
    assert shown_orders(html) == ["ABC123XY", "ZZZ", "OLD"]


def test_affiliate_search_finds_the_affiliation(staff_client, log):
    html = listing(staff_client, "admin:webhooks_affiliationevent_changelist", q="partner77")
    assert ">partner77<" in html


@pytest.mark.parametrize(
    "params",
    [
        {"received": "fortnight"},
        {"received_from": "yesterday"},
        {"received_to": "2026-02-30"},
        {"received_to": "9999-12-31"},
        {"received_from": in_digits("2026-01-01", ARABIC_INDIC)},
        {"event": "on_\x00"},
        {"signature__exact": "\x00"},
        {"kind": "\x00"},
        {"q": "a\x00b"},
    ],
)
def test_bad_filter_values_are_refused_not_500(staff_client, log, params):
    response = staff_client.get(reverse(LIST), params)
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_a_date_that_does_not_exist_in_utc_is_refused(staff_client, log, settings):
    settings.TIME_ZONE = "Europe/Berlin"  # 0001-01-01 00:00 there is before year 1 in UTC
    response = staff_client.get(reverse(LIST), {"received_from": "0001-01-01"})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_a_very_long_search_is_one_term(staff_client, log):
    assert shown_orders(listing(staff_client, q=" ".join(["ZZZ"] * 1000))) == []
    assert shown_orders(listing(staff_client, q="  ZZZ  ")) == ["ZZZ"]


@pytest.fixture
def buyers(post_ipn, webhook):
    """Payments of buyers named in the ways Digistore24 sends names."""

    def pay(order_id, **names):
        post_ipn(webhook, signed(on_payment(order_id=order_id, transaction_id=order_id, **names)))

    pay("JM1", buyer_first_name="Jörg", buyer_last_name="Müller")
    pay("JN1", buyer_first_name="Jörgen", buyer_last_name="Nagel")
    pay("LM1", buyer_first_name="Lena", buyer_last_name="Mu\u0308ller")  # ü decomposed
    pay("HW1", address_first_name="Hans", address_last_name="WEISS")  # no buyer_*: the address
    pay("AS1", buyer_first_name="Anna", buyer_last_name="von der Schmidt")
    pay("QWERTZUI")  # an order id of letters only


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("Müller", ["LM1", "JM1"]),
        ("müller", ["LM1", "JM1"]),
        ("MÜLL", ["LM1", "JM1"]),
        ("jörg müller", ["JM1"]),
        ("Jörg", ["JN1", "JM1"]),
        ("Müller, Jörg", ["JM1"]),
        ("weiß", ["HW1"]),  # case-folded: ß is ss, as in WEISS
        ("Hans Weiss", ["HW1"]),
        ("von der schmidt", ["AS1"]),
        ("Schmidt", []),  # the start of the name, not a word inside it
        ("QWERTZ", ["QWERTZUI"]),  # one word of letters: an order id too
        ("qwertz", []),
    ],
)
def test_buyer_name_search(staff_client, buyers, term, expected):
    html = listing(staff_client, q=term)
    shown = [
        order for order in ("JM1", "JN1", "LM1", "HW1", "AS1", "QWERTZUI") if f">{order}<" in html
    ]
    assert sorted(shown, key=lambda order: html.index(f">{order}<")) == expected


def in_page_order(html):
    return sorted(shown_orders(html), key=lambda order: html.index(f">{order}<"))


def test_sorting_only_by_received_even_through_the_url(staff_client, log):
    newest_first = in_page_order(listing(staff_client))
    assert newest_first == ["TESTMODE", "TICKETS1", "ZZZ", "ABC123XY", "OLD"]
    # Column 0 is the action checkbox, 1 "received".
    assert in_page_order(listing(staff_client, o="1")) == newest_first[::-1]
    for column in range(2, 11):  # event, order id, email, amount, …: not by URL either
        assert in_page_order(listing(staff_client, o=str(column))) == newest_first, column


def test_every_filter_and_search_has_an_index():
    """Each column has one; that the searches read them is tests/webhooks/test_event_search."""
    from webhooks.admin.events import EventAdmin

    leading = {index.fields[0].lstrip("-") for index in Event._meta.indexes}
    filtered = {"webhook", "event", "signature", "api_mode", "scope", "received"}
    assert filtered <= leading
    assert set(EventAdmin.search_fields) <= leading


def test_unknown_choice_values_match_nothing(staff_client, log):
    assert shown_orders(listing(staff_client, signature__exact="forged", event="nope")) == []


def test_payments_list(staff_client, log, post_ipn, webhook):
    post_ipn(
        webhook, signed(on_payment(order_id="PAYPAL1", transaction_id="9", pay_method="paypal"))
    )
    html = listing(staff_client, "admin:webhooks_paymentevent_changelist")
    assert shown_orders(html) == ["ABC123XY", "ZZZ", "TESTMODE", "OLD"]
    # The Amount cell says how it was paid under the amount: billing type, which payment, method.
    assert '<span class="ds24-sub">single_payment, payment no. 0</span>' in html
    assert '<span class="ds24-sub">paypal</span>' in html


def test_etickets_list(staff_client, log):
    html = listing(staff_client, "admin:webhooks_eticketevent_changelist")
    assert html.count(">11112222333344445555<") == 2
    assert "Stadthalle Köln" in html
    assert ">action: update<" in html and ">action: create<" in html
    assert 'Anna Müller<br><span class="ds24-sub">test.buyer<wbr>@example.com</span>' in html
    assert "ABC123XY" not in html


def test_affiliations_list(staff_client, log):
    html = listing(staff_client, "admin:webhooks_affiliationevent_changelist")
    assert ">partner77<" in html and "partner<wbr>@example.com" in html
    assert "ABC123XY" not in html


def test_detail_shows_typed_fields_payload_revisions_and_same_order(staff_client, log):
    revised = Event.objects.filter(eticket_id="11112222333344445555").order_by("id")
    first, second = revised
    html = staff_client.get(reverse("admin:webhooks_event_change", args=[second.pk])).content
    html = html.decode()
    assert "11112222333344445555" in html
    keys = [key for key, _ in second.payload]
    assert html.index("<th>event</th>") < html.index(f"<th>{keys[-1]}</th>")
    assert html.index(f"<th>{keys[1]}</th>") < html.index(f"<th>{keys[2]}</th>")
    first_link = reverse("admin:webhooks_event_change", args=[first.pk])
    assert html.count(f'href="{first_link}"') == 2  # a revision, and of the same order
    assert 'name="_save"' not in html


def test_detail_shows_receiver_errors(staff_client, log):
    event = Event.objects.get(order_id="ZZZ")
    Event.objects.filter(pk=event.pk).update(signal_error="crm.sync: RuntimeError: CRM is down")
    html = staff_client.get(reverse("admin:webhooks_event_change", args=[event.pk])).content
    assert b"CRM is down" in html


def test_events_are_read_only(staff_client, log):
    event = Event.objects.first()
    url = reverse("admin:webhooks_event_change", args=[event.pk])
    assert staff_client.post(url, {"order_id": "changed"}).status_code == 403
    assert staff_client.get(reverse("admin:webhooks_event_add")).status_code == 403
    delete = reverse("admin:webhooks_event_delete", args=[event.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403


def test_replay_queues_the_signal_and_a_worker_records_the_outcome(staff_client, log):
    event = Event.objects.get(order_id="ZZZ")
    calls = []

    def failing(sender, event, **kwargs):
        calls.append(event.pk)
        raise RuntimeError("still broken")

    def replay():
        return staff_client.post(
            reverse(LIST),
            {"action": "replay", "_selected_action": [event.pk]},
            follow=True,
        ).content.decode()

    ipn_received.connect(failing)
    try:
        html = replay()
        assert "Queued 1 event(s) for the ipn_received receivers" in html
        assert calls == []  # not in the request
        run_tasks()
    finally:
        ipn_received.disconnect(failing)
    assert calls == [event.pk]
    event.refresh_from_db()
    assert "still broken" in event.signal_error

    replay()  # the receiver is fixed (gone): the error is cleared
    run_tasks()
    event.refresh_from_db()
    assert event.signal_error == ""


def test_replay_needs_webhook_change_permission(viewer_client, log):
    assert 'value="replay"' not in listing(viewer_client)
    calls = []

    def receiver(sender, event, **kwargs):
        calls.append(event.pk)

    ipn_received.connect(receiver)
    try:
        viewer_client.post(
            reverse(LIST), {"action": "replay", "_selected_action": [Event.objects.first().pk]}
        )
        run_tasks()
    finally:
        ipn_received.disconnect(receiver)
    assert calls == []


@pytest.mark.parametrize(
    "name",
    [
        LIST,
        "admin:webhooks_paymentevent_changelist",
        "admin:webhooks_eticketevent_changelist",
        "admin:webhooks_affiliationevent_changelist",
    ],
)
def test_list_query_count_is_constant(
    staff_client, post_ipn, webhook, name, django_assert_num_queries
):
    def queries_for_a_page():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            listing(staff_client, name)
        return len(captured)

    everything = webhook_create(name="Everything", kind="all", passphrase=PASSPHRASE)
    for sample in (samples.on_payment, samples.eticket, samples.on_affiliation):
        post_ipn(everything, signed(sample()))
    few = queries_for_a_page()
    for _ in range(20):
        for sample in (samples.on_payment, samples.eticket, samples.on_affiliation):
            post_ipn(everything, signed(sample()))
    assert queries_for_a_page() == few
    assert few <= 10


def test_detail_query_count(staff_client, log, django_assert_max_num_queries):
    event = Event.objects.filter(eticket_id="11112222333344445555").latest("id")
    with django_assert_max_num_queries(9):
        staff_client.get(reverse("admin:webhooks_event_change", args=[event.pk]))
