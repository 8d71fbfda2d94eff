"""The receiver over a real socket (Django's live_server), including concurrent deliveries."""

import threading
from urllib.parse import urlencode

import pytest
import requests

from tests.conftest import FORM, PASSPHRASE, follow_up, on_payment, signed
from webhooks.models import Event, RejectedDelivery, Webhook
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db(transaction=True)


def live_url(live_server, webhook):
    return live_server.url + webhook.get_receive_url().removeprefix("https://ds24.example.com")


@pytest.fixture
def webhook():
    return webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)


def test_signed_ipn_over_http(live_server, webhook):
    url = live_url(live_server, webhook)
    assert requests.get(url, timeout=5).text == "OK"
    response = requests.post(
        url, data=urlencode(signed(on_payment())), headers={"Content-Type": FORM}, timeout=5
    )
    assert response.status_code == 200
    assert response.text == "OK"
    assert response.headers["Content-Type"].startswith("text/plain")
    follow_up()
    assert Event.objects.get().order_id == "ABC123XY"


def test_rejections_over_http(live_server, webhook):
    url = live_url(live_server, webhook)
    forged = requests.post(url, data=on_payment(), timeout=5)  # requests form-encodes dicts
    assert (forged.status_code, forged.text) == (403, "ERROR: invalid sha signature")
    empty = requests.post(url, data=b"", headers={"Content-Type": FORM}, timeout=5)
    assert empty.status_code == 400
    json_body = requests.post(url, json=signed(on_payment()), timeout=5)
    assert json_body.status_code == 415
    assert requests.post(live_server.url + "/ipn/unknown", data={}, timeout=5).status_code == 404
    assert Event.objects.count() == 0


def test_php_style_body_over_http(live_server, webhook):
    body = "&" + urlencode(signed(on_payment())).replace("&", "&&") + "&flag&"
    response = requests.post(
        live_url(live_server, webhook), data=body, headers={"Content-Type": FORM}, timeout=5
    )
    assert (response.status_code, response.text) == (200, "OK")
    follow_up()
    assert Event.objects.get().params["flag"] == ""


def test_deliveries_by_get_over_http(live_server, webhook):
    url = live_url(live_server, webhook)
    assert requests.get(url, params={"utm_source": "x"}, timeout=5).text == "OK"
    assert not Event.objects.exists()

    for _ in range(2):  # the second is Digistore24 redelivering the same GET
        response = requests.get(url, params=signed(on_payment()), timeout=5)
        assert (response.status_code, response.text) == (200, "OK")
    follow_up()
    event = Event.objects.get()
    assert (event.delivery_count, event.product_name) == (2, "Online-Kurs Jörg")

    forged = requests.get(url, params=signed(on_payment(), "another"), timeout=5)
    assert (forged.status_code, forged.text) == (403, "ERROR: invalid sha signature")
    assert RejectedDelivery.objects.get().method == "GET"

    head = requests.head(url, params=signed(on_payment(transaction_id="2")), timeout=5)
    assert (head.status_code, head.headers["Allow"]) == (405, "GET, POST")
    assert Event.objects.count() == RejectedDelivery.objects.count() == 1


def test_concurrent_identical_deliveries_make_exactly_one_row(live_server, webhook):
    """DS24 retrying while the first delivery is still in flight: N identical POSTs at once."""
    url = live_url(live_server, webhook)
    body = urlencode(signed(on_payment()))
    threads = 8
    barrier = threading.Barrier(threads)
    answers = []

    def deliver():
        with requests.Session() as session:
            barrier.wait()
            response = session.post(url, data=body, headers={"Content-Type": FORM}, timeout=30)
            answers.append((response.status_code, response.text))

    workers = [threading.Thread(target=deliver) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert answers == [(200, "OK")] * threads
    assert follow_up() == threads  # each kept as received; one event of them, counted 8 times
    event = Event.objects.get()
    assert event.delivery_count == threads
    assert Webhook.objects.with_activity().get(pk=webhook.pk).event_count == 1


def test_concurrent_distinct_deliveries_are_all_stored(live_server, webhook):
    url = live_url(live_server, webhook)
    threads = 8
    barrier = threading.Barrier(threads)
    answers = []

    def deliver(n):
        body = urlencode(signed(on_payment(transaction_id=str(1000 + n))))
        barrier.wait()
        response = requests.post(url, data=body, headers={"Content-Type": FORM}, timeout=30)
        answers.append(response.text)

    workers = [threading.Thread(target=deliver, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert answers == ["OK"] * threads
    assert follow_up() == threads
    assert Event.objects.count() == threads
    assert Webhook.objects.with_activity().get(pk=webhook.pk).event_count == threads
