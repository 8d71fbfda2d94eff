"""The receiver's contract (webhooks.views.receive docstring), line by line, over HTTP."""

from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import connection, connections
from django.test import override_settings

from tests.conftest import FORM, PASSPHRASE, on_payment, signed
from webhooks.models import Event, RejectedDelivery, Webhook
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db


def reloaded(webhook):
    return Webhook.objects.with_activity().get(pk=webhook.pk)


# --- GET and unknown URLs ---------------------------------------------------------------------


def test_get_answers_ok_without_side_effects(client, webhook):
    response = client.get(webhook.get_receive_url())
    assert response.status_code == 200
    assert response.content == b"OK"
    assert response["Content-Type"].startswith("text/plain")
    assert client.head(webhook.get_receive_url()).status_code == 200
    assert Event.objects.count() == 0
    assert reloaded(webhook).last_received is None


def test_get_with_other_parameters_is_still_the_url_check(client, webhook):
    response = client.get(webhook.get_receive_url() + "?utm_source=x&eventual=1&&")
    assert response.content == b"OK"
    assert Event.objects.count() == RejectedDelivery.objects.count() == 0


def test_trailing_slash_is_accepted_without_redirect(client, post_ipn, webhook):
    assert client.get(webhook.get_receive_url() + "/").status_code == 200
    url = webhook.get_receive_url() + "/"
    response = client.post(url, data=urlencode(signed(on_payment())), content_type=FORM)
    assert response.status_code == 200


def test_unknown_url_is_404_and_writes_nothing(client, webhook, django_assert_max_num_queries):
    body = urlencode(signed(on_payment()))
    with django_assert_max_num_queries(1):  # the lookup, no write
        response = client.post("/ipn/not-a-real-token", data=body, content_type=FORM)
    assert response.status_code == 404
    assert b"unknown webhook" in response.content
    assert Event.objects.count() == RejectedDelivery.objects.count() == 0


def test_regenerated_url_stops_working(client, post_ipn, webhook):
    old_url = webhook.get_receive_url()
    webhook.regenerate_token()
    response = client.post(old_url, data=urlencode(signed(on_payment())), content_type=FORM)
    assert response.status_code == 404
    assert post_ipn(webhook, signed(on_payment())).status_code == 200


def test_wrong_method_is_405(client, webhook):
    response = client.put(webhook.get_receive_url(), data="x=1", content_type=FORM)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"


# --- Inactive ---------------------------------------------------------------------------------


def test_inactive_webhook_is_503_so_digistore24_retries(post_ipn, webhook):
    Webhook.objects.filter(pk=webhook.pk).update(active=False)
    response = post_ipn(reloaded(webhook), signed(on_payment()))
    assert response.status_code == 503
    assert not response.content.startswith(b"OK")
    assert Event.objects.count() == 0


# --- Signatures -------------------------------------------------------------------------------


def test_missing_signature_is_403_and_recorded(post_ipn, webhook):
    response = post_ipn(webhook, on_payment(), REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 403
    assert response.content == b"ERROR: invalid sha signature"
    assert Event.objects.count() == 0
    rejected = RejectedDelivery.objects.get()
    assert rejected.reason == "invalid sha signature"
    assert rejected.status_code == 403
    assert rejected.sender_ip == "203.0.113.7"
    assert b"order_id=ABC123XY" in bytes(rejected.body)
    assert reloaded(webhook).rejected_count == 1


def test_tampered_signature_is_403(post_ipn, webhook):
    params = signed(on_payment())
    params["amount_brutto"] = "0.01"
    response = post_ipn(webhook, params)
    assert response.status_code == 403
    assert response.content == b"ERROR: invalid sha signature"
    assert Event.objects.count() == 0


def test_wrong_passphrase_is_403(post_ipn, webhook):
    assert post_ipn(webhook, signed(on_payment(), "another")).status_code == 403


def test_unsigned_webhook_accepts_and_marks_unsigned(post_ipn, db):
    webhook = webhook_create(name="Open", kind="all", unsigned=True)
    response = post_ipn(webhook, on_payment())
    assert response.status_code == 200
    assert Event.objects.get().signature == Event.Signature.UNSIGNED


def test_webhook_without_passphrase_and_not_unsigned_fails_closed(post_ipn, webhook):
    Webhook.objects.filter(pk=webhook.pk).update(passphrase="")
    response = post_ipn(reloaded(webhook), signed(on_payment()))
    assert response.status_code == 403
    assert Event.objects.count() == 0
    assert RejectedDelivery.objects.get().reason == "webhook has no passphrase"


# --- Storing ----------------------------------------------------------------------------------


def test_verified_ipn_is_stored_with_typed_fields_and_answered_ok(post_ipn, webhook):
    params = signed(on_payment())
    response = post_ipn(webhook, params, REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200
    assert response.content == b"OK"
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Length"] == "2"  # not chunked: the answer is exactly this

    event = Event.objects.get()
    assert event.payload == [list(pair) for pair in params.items()]  # order and values kept
    assert event.event == "on_payment"
    assert event.scope == Event.Scope.ACCEPTED
    assert event.signature == Event.Signature.VERIFIED
    assert event.order_id == "ABC123XY"
    assert event.transaction_id == "987654"
    assert event.product_id == "12345"
    assert event.product_name == "Online-Kurs Jörg"
    assert event.email == "kunde@example.com"
    assert event.amount == Decimal("49.00")
    assert event.currency == "EUR"
    assert event.billing_type == "single_payment"
    assert event.pay_sequence_no == 0
    assert event.api_mode == "live"
    assert event.sender_ip == "198.51.100.4"
    assert event.delivery_count == 1
    assert event.business_key == "on_payment:987654"

    webhook = reloaded(webhook)
    assert webhook.event_count == 1
    assert webhook.last_received == event.received


@pytest.mark.parametrize(
    ("params", "scope"),
    [
        ({"event": "connection_test"}, Event.Scope.TEST),
        ({"event": "eticket", "eticket_id": "12345678901234567890"}, Event.Scope.IGNORED),
        ({"event": "some_future_event", "order_id": "X"}, Event.Scope.IGNORED),
    ],
)
def test_tests_and_events_outside_the_set_are_stored_marked_and_ok(
    post_ipn, webhook, params, scope
):
    response = post_ipn(webhook, signed(params))
    assert response.status_code == 200
    assert response.content == b"OK"
    assert Event.objects.get().scope == scope


def test_all_kind_accepts_unknown_events(post_ipn, db):
    webhook = webhook_create(name="Everything", kind="all", passphrase=PASSPHRASE)
    post_ipn(webhook, signed({"event": "some_future_event", "order_id": "X"}))
    assert Event.objects.get().scope == Event.Scope.ACCEPTED


def test_malformed_numbers_never_reject_an_authentic_ipn(post_ipn, webhook):
    params = signed(on_payment(amount_brutto="49,00 EUR", pay_sequence_no="first", currency="EURO"))
    assert post_ipn(webhook, params).status_code == 200
    event = Event.objects.get()
    assert event.amount is None
    assert event.pay_sequence_no is None
    assert event.currency == ""  # longer than the column: raw value kept in the payload
    assert event.params["amount_brutto"] == "49,00 EUR"


def test_overlong_values_are_kept_raw_not_rejected(post_ipn, webhook):
    params = signed(on_payment(order_id="O" * 500, email="e" * 300 + "@example.com"))
    assert post_ipn(webhook, params).status_code == 200
    event = Event.objects.get()
    assert event.order_id == event.email == ""
    assert event.params["order_id"] == "O" * 500


def test_amount_falls_back_to_amount_field(post_ipn, webhook):
    params = on_payment(amount="19.99")
    del params["amount_brutto"]
    post_ipn(webhook, signed(params))
    assert Event.objects.get().amount == Decimal("19.99")


# --- Redelivery and revisions -----------------------------------------------------------------


def test_exact_redelivery_is_ok_and_counted_on_the_same_row(post_ipn, webhook):
    first = post_ipn(webhook, signed(on_payment()))
    event = Event.objects.get()
    # Same parameters, different order and signature variant: still the same notification.
    params = dict(reversed(list(on_payment().items())))
    again = post_ipn(webhook, {**params, "SHASIGN": signed(on_payment())["sha_sign"]})
    assert first.content == again.content == b"OK"
    assert Event.objects.count() == 1
    event.refresh_from_db()
    assert event.delivery_count == 2
    assert event.last_delivered > event.received
    assert reloaded(webhook).event_count == 1


def test_changed_resend_is_a_new_row_with_the_same_business_key(post_ipn, db):
    webhook = webhook_create(name="Tickets", kind="etickets", passphrase=PASSPHRASE)
    ticket = {"event": "eticket", "eticket_id": "12345678901234567890", "action": "create"}
    post_ipn(webhook, signed(ticket))
    post_ipn(webhook, signed({**ticket, "action": "update", "buyer_first_name": "Jörg"}))
    keys = list(Event.objects.values_list("business_key", flat=True))
    assert keys == ["eticket:12345678901234567890"] * 2


def test_the_same_ipn_on_two_webhooks_is_stored_for_each(post_ipn, webhook):
    other = webhook_create(name="All", kind="all", passphrase=PASSPHRASE)
    post_ipn(webhook, signed(on_payment()))
    post_ipn(other, signed(on_payment()))
    assert Event.objects.count() == 2


# --- Bad requests -----------------------------------------------------------------------------


@override_settings(IPN_MAX_BODY_BYTES=1024)
def test_oversize_body_is_413(post_ipn, webhook):
    response = post_ipn(webhook, signed(on_payment(product_name="x" * 2000)))
    assert response.status_code == 413
    assert response.content == b"ERROR: body larger than 1024 bytes"
    assert RejectedDelivery.objects.get().status_code == 413
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "multipart/form-data; boundary=x",
        "text/plain",
        "",
        "application/x-www-form-urlencoded; charset=iso-8859-1",
    ],
)
def test_wrong_content_type_is_415(client, webhook, content_type):
    body = urlencode(signed(on_payment()))
    response = client.post(webhook.get_receive_url(), data=body, content_type=content_type)
    assert response.status_code == 415
    assert response.content.startswith(b"ERROR: expected application/x-www-form-urlencoded")
    assert Event.objects.count() == 0


def test_utf8_charset_parameter_is_fine(client, webhook):
    body = urlencode(signed(on_payment()))
    ct = "application/x-www-form-urlencoded; charset=UTF-8"
    assert client.post(webhook.get_receive_url(), data=body, content_type=ct).status_code == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"event=on_payment&name=J%F6rg", b"not valid UTF-8"),  # Latin-1 percent-escape
        (b"event=on_\xfcpayment", b"not valid UTF-8"),
        (b"", b"no parameters"),
        (b"&&=x&", b"no parameters"),
        (b"event=on_payment&event=on_refund", b"appears more than once"),
        (b"&".join(b"k%d=v" % i for i in range(1001)), b"more than 1000 parameters"),
        (b"event=on_payment&name=a%00b", b"contains a NUL character"),
    ],
    ids=[
        "latin1-escape",
        "raw-latin1",
        "empty",
        "only-separators",
        "duplicate-key",
        "too-many",
        "nul",
    ],
)
def test_malformed_body_is_400(client, webhook, body, reason):
    response = client.post(webhook.get_receive_url(), data=body, content_type=FORM)
    assert response.status_code == 400
    assert response.content.startswith(b"ERROR: ")
    assert reason in response.content
    assert b"\n" not in response.content
    assert RejectedDelivery.objects.get().status_code == 400


# --- Form bodies as PHP reads them ------------------------------------------------------------


@pytest.mark.parametrize(
    "mangle",
    [
        lambda body: "&" + body,
        lambda body: body + "&",
        lambda body: body.replace("&", "&&"),
        lambda body: "flag&" + body + "&newsletter",
        lambda body: body + "&=orphan",
    ],
    ids=["leading-amp", "trailing-amp", "double-amp", "bare-keys", "empty-key"],
)
def test_php_style_bodies_are_verified_and_stored(client, webhook, mangle):
    """Digistore24 signs what PHP parsed: empty fields skipped, a bare key an empty value
    (so unsigned), a field without a key dropped."""
    body = mangle(urlencode(signed(on_payment())))
    response = client.post(webhook.get_receive_url(), data=body, content_type=FORM)
    assert (response.status_code, response.content) == (200, b"OK")
    event = Event.objects.get()
    assert event.signature == Event.Signature.VERIFIED
    assert event.order_id == "ABC123XY"
    assert "" not in event.params
    if "flag" in body:
        assert event.params["flag"] == event.params["newsletter"] == ""


def test_a_bare_key_is_the_same_notification_as_the_empty_value(client, post_ipn, webhook):
    post_ipn(webhook, signed(on_payment()))  # carries address_city= with an empty value
    body = urlencode(signed(on_payment())).replace("address_city=&", "address_city&")
    assert client.post(webhook.get_receive_url(), data=body, content_type=FORM).content == b"OK"
    assert Event.objects.get().delivery_count == 2


# --- Deliveries by GET ------------------------------------------------------------------------


def get_url(webhook, query: str) -> str:
    return f"{webhook.get_receive_url()}?{query}"


def test_signed_get_is_stored_once_and_a_repeat_is_a_redelivery(client, webhook):
    query = urlencode(signed(on_payment()))
    first = client.get(get_url(webhook, query), REMOTE_ADDR="198.51.100.4")
    assert (first.status_code, first.content) == (200, b"OK")
    event = Event.objects.get()
    assert event.payload == [list(pair) for pair in signed(on_payment()).items()]
    assert event.signature == Event.Signature.VERIFIED
    assert event.product_name == "Online-Kurs Jörg"  # `+` and UTF-8 escapes decoded once
    assert event.sender_ip == "198.51.100.4"

    again = client.get(get_url(webhook, query))
    assert again.content == b"OK"
    event.refresh_from_db()
    assert event.delivery_count == 2
    assert Event.objects.count() == reloaded(webhook).event_count == 1


def test_a_get_and_a_post_of_one_notification_are_one_event(client, post_ipn, webhook):
    client.get(get_url(webhook, urlencode(signed(on_payment()))))
    post_ipn(webhook, signed(on_payment()))
    assert Event.objects.get().delivery_count == 2


def test_php_style_query_string_is_stored(client, webhook):
    query = "&" + urlencode(signed({"event": "connection_test"})).replace("&", "&&") + "&flag&"
    assert client.get(get_url(webhook, query)).content == b"OK"
    assert Event.objects.get().params == {
        "event": "connection_test",
        "sha_sign": signed({"event": "connection_test"})["sha_sign"],
        "flag": "",
    }


def test_get_ignores_the_content_type_header(client, webhook):
    url = get_url(webhook, urlencode(signed(on_payment())))
    assert client.get(url, CONTENT_TYPE="application/json").content == b"OK"
    assert Event.objects.count() == 1


def test_bad_signature_get_is_403_and_recorded_with_its_query(client, webhook):
    query = urlencode(signed(on_payment(), "another"))
    response = client.get(get_url(webhook, query), REMOTE_ADDR="203.0.113.7")
    assert (response.status_code, response.content) == (403, b"ERROR: invalid sha signature")
    assert Event.objects.count() == 0
    rejected = RejectedDelivery.objects.get()
    assert rejected.method == "GET"
    assert bytes(rejected.body) == query.encode()
    assert rejected.sender_ip == "203.0.113.7"
    assert reloaded(webhook).rejected_count == 1


def test_unsigned_get_with_an_event_is_a_delivery_and_rejected(client, webhook):
    response = client.get(get_url(webhook, urlencode(on_payment())))
    assert response.status_code == 403
    assert RejectedDelivery.objects.get().method == "GET"


def test_unsigned_webhook_stores_a_get_with_an_event(client, db):
    webhook = webhook_create(name="Open", kind="all", unsigned=True)
    assert client.get(get_url(webhook, "event=on_payment&order_id=X")).content == b"OK"
    assert Event.objects.get().signature == Event.Signature.UNSIGNED


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("event=on_payment&event=on_refund", b"appears more than once"),
        ("sha_sign=A&name=J%F6rg", b"not valid UTF-8"),
        ("%65vent=on_payment&x=%00", b"contains a NUL character"),  # an escaped key counts too
        ("event=x&" + "&".join(f"k{i}=v" for i in range(1000)), b"more than 1000 parameters"),
    ],
    ids=["duplicate-key", "latin1-escape", "nul", "too-many"],
)
def test_malformed_get_delivery_is_400_and_recorded(client, webhook, query, reason):
    response = client.get(get_url(webhook, query))
    assert response.status_code == 400
    assert reason in response.content
    rejected = RejectedDelivery.objects.get()
    assert (rejected.method, rejected.status_code) == ("GET", 400)


@override_settings(IPN_MAX_BODY_BYTES=1024)
def test_oversize_get_is_413(client, webhook):
    query = urlencode(signed(on_payment(product_name="x" * 2000)))
    response = client.get(get_url(webhook, query))
    assert (response.status_code, response.content) == (
        413,
        b"ERROR: query string larger than 1024 bytes",
    )
    assert bytes(RejectedDelivery.objects.get().body) == b""


def test_inactive_webhook_answers_a_signed_get_503_and_a_plain_get_ok(client, webhook):
    Webhook.objects.filter(pk=webhook.pk).update(active=False)
    response = client.get(get_url(webhook, urlencode(signed(on_payment()))))
    assert response.status_code == 503
    assert response.content.startswith(b"PAUSED")
    assert client.get(webhook.get_receive_url()).content == b"OK"
    assert Event.objects.count() == RejectedDelivery.objects.count() == 0


def test_head_with_ipn_parameters_is_405_and_has_no_side_effects(
    client, webhook, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1):  # the webhook's lookup, no write
        response = client.head(get_url(webhook, urlencode(signed(on_payment()))))
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert Event.objects.count() == RejectedDelivery.objects.count() == 0


# --- The database failing ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_database_down_is_503_never_ok(post_ipn, broken_database):
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    broken_database()
    response = post_ipn(webhook, signed(on_payment()))
    assert response.status_code == 503
    assert not response.content.startswith(b"OK")


@pytest.fixture
def short_lock_timeout():
    """Reconnect with a lock wait of 0.2 s, so a held lock fails the request quickly."""
    saved = dict(connection.settings_dict["OPTIONS"])
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["OPTIONS"]["timeout"] = 0.2
    else:
        connection.settings_dict["OPTIONS"]["options"] = "-c lock_timeout=200"
    yield
    connection.close()
    connection.settings_dict["OPTIONS"] = saved


@pytest.fixture
def lock_event_table():
    """Take a write lock on what the receiver writes (SQLite: the database; PostgreSQL: the
    inbound IPN table) from a second, independent connection; returns the function that
    releases it."""
    other = connections.create_connection("default")
    other.connect()
    raw = other.connection
    if other.vendor == "sqlite":
        raw.isolation_level = None  # manage the transaction by hand
        lock = "BEGIN EXCLUSIVE"
    else:
        raw.autocommit = False
        lock = "LOCK TABLE webhooks_inboundipn IN ACCESS EXCLUSIVE MODE"  # what the receiver writes

    def take():
        raw.execute(lock)
        return raw.rollback

    yield take
    raw.rollback()
    other.close()


@pytest.mark.django_db(transaction=True)
def test_database_locked_past_timeout_is_503_then_retry_stores(
    post_ipn, short_lock_timeout, lock_event_table
):
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    params = signed(on_payment())
    release = lock_event_table()
    response = post_ipn(webhook, params)
    assert response.status_code == 503
    assert not response.content.startswith(b"OK")
    release()
    # Digistore24's retry after the lock is gone is stored exactly once.
    assert post_ipn(webhook, params).content == b"OK"
    assert Event.objects.count() == 1


def test_a_captured_ipn_re_encoded_is_still_one_event(post_ipn, webhook):
    """Variants that verify with the same sha_sign are the same notification, not new ones."""
    params = signed(on_payment(product_name="Tom & Jerry"))
    post_ipn(webhook, params)
    post_ipn(webhook, {**params, "padding": ""})  # an empty field is not signed
    post_ipn(webhook, {**params, "product_name": "Tom &amp; Jerry"})  # the HTML-decoding variant
    assert Event.objects.count() == 1
    assert Event.objects.get().delivery_count == 3


def test_a_payload_of_empty_values_cannot_be_forged(post_ipn, webhook):
    import hashlib

    forged = {"event": "", "junk": "", "sha_sign": hashlib.sha512(b"").hexdigest().upper()}
    assert post_ipn(webhook, forged).status_code == 403
    assert not Event.objects.exists()
