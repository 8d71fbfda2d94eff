"""ipnSetup registers a connection the stand-in then really posts signed IPNs to: refunds,
rebilling stop/start, e-ticket use; each connection's products, categories and transactions
are honoured."""

import pytest

from ds24standin.server import StandIn
from tests.conftest import FULL_KEY, PASSPHRASE, follow_up
from tests.ds24standin.conftest import error, ok, payment_of
from webhooks import signing
from webhooks.models import Event
from webhooks.services import webhook_create


def register(standin, receiver, domain_id="shop", **settings) -> dict:
    params = {
        "ipn_url": receiver.url(f"/{domain_id}"),
        "name": domain_id,
        "product_ids": "all",
        "domain_id": domain_id,
        "sha_passphrase": PASSPHRASE,
        **settings,
    }
    return ok(standin, "ipnSetup", params)


def test_ipn_setup_random_passphrase_info_and_update(standin, receiver):
    created = register(standin, receiver, sha_passphrase="random")
    assert (created["created"], created["updated"], created["deleted"]) == ("Y", "N", "N")
    passphrase = created["sha_passphrase"]
    assert len(passphrase) == 30 and passphrase != "random"
    info = ok(standin, "ipnInfo", {"domain_id": "shop"})
    assert info["have_settings"] == "Y" and info["ipn_url"] == receiver.url("/shop")
    assert info["transactions"] == "payment,refund,chargeback,payment_missed"  # the defaults
    assert passphrase not in str(info)

    updated = register(standin, receiver, sha_passphrase="", transactions="all")
    assert (updated["created"], updated["updated"]) == ("N", "Y")
    assert updated["ipn_id"] == created["ipn_id"]
    assert updated["sha_passphrase"] == passphrase, "an update without one keeps the passphrase"
    assert receiver.posts == [], "registering sends no IPN (DS24 only checks the URL by GET)"


def test_ipn_setup_without_domain_id_is_the_keys_one_connection(standin, receiver):
    # The OpenAPI file requires ipn_url, name and product_ids; domain_id is optional.
    params = {"ipn_url": receiver.url("/plain"), "name": "Plain", "product_ids": "100"}
    assert ok(standin, "ipnSetup", params)["created"] == "Y"
    assert ok(standin, "ipnSetup", {**params, "product_ids": "all"})["updated"] == "Y"
    info = ok(standin, "ipnInfo")
    assert (info["have_settings"], info["domain_id"], info["product_ids"]) == ("Y", "", "all")
    assert ok(standin, "ipnInfo", {"domain_id": "shop"}) == {"have_settings": "N"}
    del params["product_ids"]
    assert error(standin, "ipnSetup", params)[2] == "The parameter 'product_ids' is required."


def test_ipn_delete(standin, receiver):
    register(standin, receiver)
    assert ok(standin, "ipnDelete", {"domain_id": "shop"}) == {"modified": "Y"}
    assert ok(standin, "ipnInfo", {"domain_id": "shop"}) == {"have_settings": "N"}
    assert ok(standin, "ipnDelete", {"domain_id": "shop"}) == {"modified": "N"}


def test_ipn_setup_positional_as_the_php_connector_sends_it(standin, receiver):
    # ipnSetup(ipn_url, name, product_ids, domain_id, categories, transactions, timing, …)
    answer = ok(
        standin,
        "ipnSetup",
        {
            "arg1": receiver.url(),
            "arg2": "Shop",
            "arg3": "102",
            "arg4": "shop",
            "arg6": "all",
            "arg8": "random",
        },
    )
    info = ok(standin, "ipnInfo", {"arg1": "shop"})
    assert (info["product_ids"], info["transactions"], info["ipn_id"]) == (
        "102",
        "all",
        answer["ipn_id"],
    )


def test_refund_changes_the_order_and_posts_a_signed_on_refund(standin, receiver):
    register(standin, receiver)
    payment = payment_of(standin, "DEMO0003")
    undated = {"transaction_id": payment, "request_date": "soon"}
    assert error(standin, "refundTransaction", undated)[2].startswith("Invalid date 'soon'")
    answer = ok(standin, "refundTransaction", {"transaction_id": payment, "request_date": "-2d"})
    refund_id = answer["refund_transaction_id"]
    assert refund_id in answer["note"]

    purchase = ok(standin, "getPurchase", {"purchase_id": "DEMO0003"})
    refund = next(t for t in purchase["transaction_list"] if t["id"] == refund_id)
    assert (refund["transaction_type"], refund["parent_transaction_id"], refund["amount"]) == (
        "refund",
        payment,
        "-199.00",
    )
    assert error(standin, "refundTransaction", {"transaction_id": payment})[2] == (
        f"Transaction {payment} has already been refunded."
    )
    assert error(standin, "refundTransaction", {"transaction_id": refund_id})[:2] == (400, 3)

    [delivery] = standin.wait_for_deliveries()
    assert delivery.ok and delivery.event == "on_refund"
    [(path, params)] = receiver.posts
    assert path == "/shop"
    assert signing.verify(params, PASSPHRASE)
    assert not signing.verify(params, "another passphrase")
    assert params["event"] == "on_refund"
    assert (params["order_id"], params["transaction_id"], params["transaction_type"]) == (
        "DEMO0003",
        refund_id,
        "refund",
    )
    assert (params["amount_brutto"], params["currency"], params["email"]) == (
        "-199.00",
        "EUR",
        "buyer3@example.com",
    )
    assert params["ipn_config_domain_id"] == "shop"
    assert params["ipn_config_api_key_id"] == FULL_KEY.partition("-")[0]


def test_each_connection_gets_only_what_it_registered_for(standin, receiver):
    register(standin, receiver, "everything", transactions="all")
    register(standin, receiver, "defaults")  # payment, refund, chargeback, payment_missed
    register(standin, receiver, "other-product", transactions="all", product_ids="100,101")
    register(standin, receiver, "tickets-only", categories="etickets")

    stopped = ok(standin, "stopRebilling", {"purchase_id": "DEMO0002"})
    assert (stopped["modified"], stopped["code"], stopped["rebilling_active"]) == (
        "Y",
        "stopped_now",
        "N",
    )
    assert (stopped["billing_status"], stopped["next_payment_at"]) == ("aborted", "")
    # Decided when the call returns: only `everything` wants on_rebill_cancelled for product 102.
    assert [d.url.rsplit("/", 1)[1] for d in standin.deliveries] == ["everything"]
    [delivery] = standin.wait_for_deliveries()
    assert delivery.ok
    params = receiver.posts[0][1]
    assert (params["event"], params["order_id"], params["billing_status"]) == (
        "on_rebill_cancelled",
        "DEMO0002",
        "aborted",
    )
    assert params["rebill_stop_noted_at"] and signing.verify(params, PASSPHRASE)
    purchase = ok(standin, "getPurchase", {"purchase_id": "DEMO0002"})
    assert (purchase["rebilling_active"], purchase["billing_stop_reason"]) == ("N", "by_operator")
    # Stopping again changes nothing and posts nothing.
    assert ok(standin, "stopRebilling", {"purchase_id": "DEMO0002"})["modified"] == "N"
    assert len(standin.deliveries) == 1

    ok(standin, "refundTransaction", {"transaction_id": payment_of(standin, "DEMO0002")})
    assert sorted(d.url.rsplit("/", 1)[1] for d in standin.deliveries[1:]) == [
        "defaults",
        "everything",
    ]
    assert all(d.ok for d in standin.wait_for_deliveries())
    assert error(standin, "stopRebilling", {"purchase_id": "DEMO0003"})[2] == (
        "Purchase DEMO0003 is a single payment; it has no rebilling."
    )


def test_rebilling_resumed_refunded_purchase_and_ticket_use(standin, receiver):
    register(standin, receiver, transactions="all", categories="orders,etickets")
    resumed = ok(standin, "startRebilling", {"purchase_id": "DEMO0008"})
    assert (resumed["modified"], resumed["rebilling_active"], resumed["billing_status"]) == (
        "Y",
        "Y",
        "paying",
    )
    assert resumed["next_payment_at"] and resumed["billing_status_msg"] == "Paying"
    answer = ok(standin, "refundPurchase", {"purchase_id": "DEMO0014"})
    ticket = standin.account.etickets[0]["id"]
    ok(standin, "validateEticket", {"eticket_id": ticket, "template_id": "5", "location_id": "77"})
    deliveries = standin.wait_for_deliveries()
    events = sorted(d.event for d in deliveries)
    refunds = len(answer["refund_transaction_ids"])
    assert refunds > 1, "a membership's every rebill is refunded"
    assert events == sorted(
        ["on_rebill_resumed", "on_rebill_cancelled", "eticket"] + ["on_refund"] * refunds
    )
    ticket_ipn = next(params for _, params in receiver.posts if params["event"] == "eticket")
    assert (ticket_ipn["eticket_id"], ticket_ipn["action"]) == (ticket, "use")
    cancelled = next(p for _, p in receiver.posts if p["event"] == "on_rebill_cancelled")
    assert cancelled["billing_stop_reason"] == "by_refund"


def test_failed_delivery_is_recorded(standin, receiver):
    register(standin, receiver)
    ok(
        standin,
        "ipnSetup",
        {
            "ipn_url": receiver.url("/gone"),
            "name": "Gone",
            "product_ids": "all",
            "domain_id": "gone",
            "sha_passphrase": PASSPHRASE,
        },
    )
    receiver.server.shutdown()
    receiver.server.server_close()
    ok(standin, "refundTransaction", {"transaction_id": payment_of(standin, "DEMO0003")})
    deliveries = standin.wait_for_deliveries()
    assert len(deliveries) == 2
    assert all(d.finished and d.status is None and "ConnectionError" in d.error for d in deliveries)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://shop.example/ipn", "The IPN URL must use https."),
        ("https://localhost/ipn", "The IPN URL must be publicly reachable"),
        ("https://127.0.0.1:8000/ipn", "The IPN URL must be publicly reachable"),
        ("https://10.1.2.3/ipn", "The IPN URL must be publicly reachable"),
        ("https://[::1]/ipn", "The IPN URL must be publicly reachable"),
        ("https://intranet/ipn", "The IPN URL must be publicly reachable"),
        ("ftp://shop.example/ipn", "ipn_url must be an https URL."),
    ],
)
def test_digistore24_refuses_http_and_local_ipn_urls(url, message):
    # As Digistore24 itself: local URLs not allowed; errors with their 4xx status.
    standin = StandIn(errors="status").start()
    try:
        status, code, text = error(
            standin, "ipnSetup", {"ipn_url": url, "name": "x", "product_ids": "all"}
        )
    finally:
        standin.stop()
    assert (status, code) == (400, 3) and text.startswith(message)


def test_ipn_url_must_answer_the_get_check(standin, receiver):
    params = {"name": "x", "product_ids": "all", "domain_id": "x"}
    missing = error(standin, "ipnSetup", {**params, "ipn_url": receiver.url("/missing")})[2]
    assert missing.startswith("The IPN URL answered HTTP 404 to a GET")
    closed = receiver.url("/ipn").replace(str(receiver.server.server_address[1]), "9")
    assert error(standin, "ipnSetup", {**params, "ipn_url": closed})[2] == (
        "The IPN URL could not be reached (ConnectionError)."
    )
    bad = error(standin, "ipnSetup", {**params, "ipn_url": receiver.url(), "transactions": "x"})
    assert bad[2].startswith("Invalid transactions 'x'; allowed: payment, refund")
    too_long = {**params, "ipn_url": receiver.url(), "sha_passphrase": "p" * 64}
    assert error(standin, "ipnSetup", too_long)[2] == (
        "sha_passphrase may have at most 63 characters."
    )


@pytest.mark.django_db(transaction=True)
def test_the_app_receiver_accepts_the_stand_ins_refund(standin, live_server):
    """End to end: a real webhook registered with ipnSetup gets the refund and stores it."""
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    url = live_server.url + webhook.get_receive_url().removeprefix("https://ds24.example.com")
    ok(
        standin,
        "ipnSetup",
        {
            "ipn_url": url,
            "name": "ds24site",
            "product_ids": "all",
            "domain_id": "ds24site",
            "sha_passphrase": PASSPHRASE,
        },
    )
    payment = payment_of(standin, "DEMO0005")
    refund_id = ok(standin, "refundTransaction", {"transaction_id": payment})[
        "refund_transaction_id"
    ]
    [delivery] = standin.wait_for_deliveries()
    assert (delivery.status, delivery.body) == (200, "OK")
    follow_up()
    event = Event.objects.get()
    assert (event.event, event.order_id, event.transaction_id, event.signature) == (
        "on_refund",
        "DEMO0005",
        refund_id,
        "verified",
    )
