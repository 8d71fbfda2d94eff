"""Register in Digistore24 (ipnSetup), Check (ipnInfo), Remove (ipnDelete): against the stand-in,
over real HTTP both ways. The stand-in checks the receive URL by GET and then posts its IPNs
to it, so the receive URLs are served by a live server, and what the stand-in sends for a
refund has to arrive as an event of the webhook."""

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse

from connections import client as ds24
from connections.models import Connection
from connections.services import connection_call
from tests.conftest import (
    ARABIC_INDIC,
    FULL_KEY,
    FULLWIDTH,
    PASSPHRASE,
    READ_ONLY_KEY,
    follow_up,
    in_digits,
)
from webhooks import ipn
from webhooks.models import Event, Webhook
from webhooks.services import (
    NotRegistrable,
    public_url_problem,
    webhook_create,
    webhook_register,
    webhook_register_problem,
    webhook_registration,
    webhook_unregister,
)

# A seeded single payment of product 100 (ds24standin/data.py), not refunded yet.
PAYMENT = "900000"
PAYMENT_PRODUCT = "100"


@pytest.fixture(scope="module")
def local_standin():
    """A stand-in that, like the demo's, takes http:// and 127.0.0.1 IPN URLs."""
    from ds24standin.server import StandIn

    standin = StandIn(allow_local_ipn_urls=True).start()
    yield standin
    standin.stop()


@pytest.fixture
def standin(local_standin, live_server, settings):
    """The local stand-in, reset; receive URLs on the live server; local URLs allowed."""
    local_standin.reset()
    settings.DS24_API_URL = local_standin.api_url
    settings.SITE_URL = live_server.url
    settings.DS24_IPN_ALLOW_LOCAL_URLS = True
    return local_standin


def make_connection(name="Vendor", key=FULL_KEY) -> Connection:
    connection = Connection(name=name)
    connection.set_key(key)
    connection.save()
    return connection


@pytest.fixture
def connection(transactional_db):
    return make_connection()


@pytest.fixture
def payments(connection):
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    webhook.connection = connection
    webhook.save()
    return webhook


def refund(connection, transaction_id=PAYMENT) -> str:
    """Refund a seeded payment in the stand-in, which posts on_refund to registered URLs."""
    data = connection_call(
        connection=connection,
        function="refundTransaction",
        params={"transaction_id": transaction_id},
        interactive=True,
    )
    return data["refund_transaction_id"]


# --- the loop -----------------------------------------------------------------------------------


def test_register_then_the_standins_ipns_arrive_as_events(standin, connection, payments):
    outcome = webhook_register(webhook=payments, connection=connection)

    payments.refresh_from_db()
    assert outcome.created and not outcome.passphrase_changed
    assert payments.registered and payments.ds24_connection == connection
    assert payments.ds24_ipn_id == outcome.ipn_id != ""
    assert payments.ds24_domain_id.startswith("ds24site-")
    [call] = standin.calls("ipnSetup")
    assert call.params == {
        "ipn_url": payments.get_receive_url(),
        "name": "Payments (ds24site)",
        "product_ids": "all",
        "domain_id": payments.ds24_domain_id,
        "categories": "orders",
        "transactions": "payment,refund,chargeback,payment_missed,payment_denial,"
        "rebill_cancelled,rebill_resumed,last_paid_day",
        "sha_passphrase": PASSPHRASE,
        "language": "en",
    }

    info = webhook_registration(webhook=payments)
    assert info.registered and info.url_current
    assert info.details["ipn_id"] == outcome.ipn_id

    refund_id = refund(connection)
    [delivery] = standin.wait_for_deliveries()
    assert (delivery.event, delivery.status, delivery.body) == ("on_refund", 200, "OK")
    follow_up()
    event = Event.objects.get(webhook=payments)
    assert (event.event, event.transaction_id, event.scope, event.signature) == (
        "on_refund",
        refund_id,
        Event.Scope.ACCEPTED,
        Event.Signature.VERIFIED,
    )
    assert event.params["ipn_config_domain_id"] == payments.ds24_domain_id


def test_remove_stops_the_ipns(standin, connection, payments):
    webhook_register(webhook=payments, connection=connection)
    domain_id = Webhook.objects.get().ds24_domain_id

    assert webhook_unregister(webhook=payments) is True

    assert [c.params["domain_id"] for c in standin.calls("ipnDelete")] == [domain_id]
    payments.refresh_from_db()
    assert not payments.registered and payments.ds24_connection is None
    assert payments.ds24_ipn_id == "" and payments.ds24_domain_id == domain_id  # kept for later
    assert not webhook_registration(webhook=payments).registered
    refund(connection)
    assert standin.wait_for_deliveries() == []
    assert not Event.objects.exists()


def test_registering_again_updates_the_same_connection_in_digistore24(
    standin, connection, payments
):
    first = webhook_register(webhook=payments, connection=connection)
    payments.regenerate_token()
    assert webhook_registration(webhook=payments).url_current is False  # stale until updated
    again = webhook_register(webhook=payments, connection=connection)
    assert (again.created, again.ipn_id) == (False, first.ipn_id)
    assert len(standin.account.ipn_connections) == 1
    assert webhook_registration(webhook=payments).url_current is True


def test_a_passphrase_generated_by_digistore24_is_stored_and_verifies(
    standin, connection, payments
):
    outcome = webhook_register(webhook=payments, connection=connection, random_passphrase=True)

    assert standin.calls("ipnSetup")[0].params["sha_passphrase"] == "random"
    payments.refresh_from_db()
    [registered] = standin.account.ipn_connections.values()
    assert outcome.passphrase_changed
    assert payments.passphrase == registered.sha_passphrase != PASSPHRASE
    refund(connection)
    [delivery] = standin.wait_for_deliveries()
    assert delivery.ok
    follow_up()
    assert Event.objects.get().signature == Event.Signature.VERIFIED


def test_products_and_events_are_what_is_registered(standin, connection):
    restricted = webhook_create(name="Only 101", kind="payments", passphrase=PASSPHRASE)
    restricted.product_ids = "101"
    restricted.save()
    webhook_register(webhook=restricted, connection=connection)
    tickets = webhook_create(name="Tickets", kind="etickets", passphrase=PASSPHRASE)
    webhook_register(webhook=tickets, connection=connection)

    restricted_call, tickets_call = standin.calls("ipnSetup")
    assert restricted_call.params["product_ids"] == "101"
    assert (tickets_call.params["categories"], "transactions" in tickets_call.params) == (
        "etickets",
        False,
    )
    refund(connection)  # of product 100: neither webhook asked for it
    assert standin.wait_for_deliveries() == []


def test_all_events_ask_for_every_documented_category_and_transaction():
    """ipnSetup's categories and transactions come from the event registry (the stand-in files
    the IPNs it sends under the same entries); "All events" asks for every value that
    shared/digistore24.md §3.1 and §4.2 document."""
    categories, transactions = ipn.ipn_setup_scope(ipn.KIND_ALL, [])
    assert set(categories) == {"orders", "affiliations", "etickets", "customforms"}
    assert set(transactions) == {
        "payment", "refund", "chargeback", "payment_missed", "payment_denial",
        "rebill_cancelled", "rebill_resumed", "last_paid_day",
    }  # fmt: skip


# --- refused before calling ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://ds24.example.com", "only to https://"),
        ("https://localhost:8000", "localhost is a local name"),
        ("https://127.0.0.1:8000", "127.0.0.1 is a loopback address"),
        ("https://192.168.1.20", "192.168.1.20 is a private address"),
        ("https://[fe80::1]", "fe80::1 is a link-local address"),
        ("https://intranet", "intranet is a local name"),
        ("https://shop.internal", "shop.internal is a local name"),
    ],
)
def test_non_public_urls_are_refused_before_calling(ds24, settings, connection, url, says):
    settings.SITE_URL = url
    webhook = webhook_create(name="W", kind="payments", passphrase=PASSPHRASE)
    with pytest.raises(NotRegistrable) as refused:
        webhook_register(webhook=webhook, connection=connection)
    assert says in str(refused.value)
    assert "public https address" in str(refused.value) and "tunnel" in str(refused.value)
    assert ds24.calls() == []
    assert Webhook.objects.get().ds24_domain_id == ""


@pytest.mark.parametrize(
    "url", ["https://ds24.example.com/ipn/x", "https://8.8.8.8/ipn/x", "https://shop.example./x"]
)
def test_public_urls_pass(url):
    assert public_url_problem(url) is None


def test_the_setting_lets_local_urls_through_for_the_standin(settings, connection):
    settings.SITE_URL = "http://127.0.0.1:8000"
    webhook = webhook_create(name="W", kind="payments", passphrase=PASSPHRASE)
    assert "https" in webhook_register_problem(webhook=webhook, connection=connection)
    settings.DS24_IPN_ALLOW_LOCAL_URLS = True
    assert webhook_register_problem(webhook=webhook, connection=connection) is None


def test_unsigned_webhooks_and_missing_connections_are_refused(ds24, connection):
    unsigned = webhook_create(name="Open", kind="all", unsigned=True)
    with pytest.raises(NotRegistrable, match=r"unsigned IPNs.*passphrase"):
        webhook_register(webhook=unsigned, connection=connection)
    signed = webhook_create(name="Signed", kind="all", passphrase=PASSPHRASE)
    with pytest.raises(NotRegistrable, match="Choose the connection"):
        webhook_register(webhook=signed, connection=None)
    assert ds24.calls() == []


def test_a_read_only_key_is_refused_with_the_reason_and_learned(standin, payments):
    read_only = make_connection("Read only", READ_ONLY_KEY)
    with pytest.raises(ds24.PermissionDenied):
        webhook_register(webhook=payments, connection=read_only)
    read_only.refresh_from_db()
    assert read_only.access == Connection.Access.READ_ONLY
    assert not Webhook.objects.get().registered

    with pytest.raises(NotRegistrable, match="read-only API key"):
        webhook_register(webhook=payments, connection=read_only)
    assert len(standin.calls("ipnSetup")) == 1  # the second press sent nothing


def test_registered_with_one_connection_is_not_registered_with_another(
    standin, connection, payments
):
    webhook_register(webhook=payments, connection=connection)
    other = make_connection("Other")
    problem = webhook_register_problem(webhook=payments, connection=other)
    assert "registered with the connection \u201cVendor\u201d: remove it" in problem
    # Only the key that registered it can remove it there, so that key stays.
    with pytest.raises(ProtectedError):
        connection.delete()


# --- the admin buttons --------------------------------------------------------------------------


def login(client, *, change=True) -> Client:
    user = User.objects.create_user("staff", password="pw-for-tests", is_staff=True)
    codenames = ["view_webhook", "change_webhook"] if change else ["view_webhook"]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


def admin_url(name, webhook):
    return reverse(f"admin:webhooks_webhook_{name}", args=[webhook.pk])


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_register_and_remove_from_the_webhook_page(standin, client, connection, payments):
    client = login(client)
    page = client.get(admin_url("change", payments)).content.decode()
    assert admin_url("register", payments) in page
    assert "Remove from Digistore24" not in page

    confirm = client.get(admin_url("register", payments))
    assert "Yes, register it" in confirm.content.decode()
    assert standin.calls() == []  # asking is not doing

    done = client.post(admin_url("register", payments), follow=True)
    [message] = messages_of(done)
    assert message.startswith("Registered in Digistore24 (IPN id ")
    page = done.content.decode()
    assert "Remove from Digistore24" in page and "with the connection <strong>Vendor" in page

    checked = client.post(admin_url("check_registration", payments), follow=True)
    [message] = messages_of(checked)
    assert message.startswith(
        "Digistore24 has this webhook's IPN connection. Last registered from here: "
    )
    assert f"ipn_url: {payments.get_receive_url()}" in message

    assert "Yes, remove it" in client.get(admin_url("remove_from_ds24", payments)).content.decode()
    removed = client.post(admin_url("remove_from_ds24", payments), follow=True)
    assert messages_of(removed) == ["Removed from Digistore24: it sends this webhook no more IPNs."]
    assert not Webhook.objects.get().registered
    assert [c.function for c in standin.calls()] == ["ipnSetup", "ipnInfo", "ipnDelete"]


def test_the_random_passphrase_choice_on_the_confirmation_page(
    standin, client, connection, payments
):
    client = login(client)
    done = client.post(admin_url("register", payments), {"random_passphrase": "1"}, follow=True)
    assert "Digistore24 generated a new passphrase" in messages_of(done)[0]
    assert Webhook.objects.get().passphrase != PASSPHRASE


def test_buttons_say_why_they_are_unavailable(ds24, client, connection):
    client = login(client)
    webhook = webhook_create(name="W", kind="payments", passphrase=PASSPHRASE)
    page = client.get(admin_url("change", webhook)).content.decode()
    assert "Register in Digistore24 is not available: Choose the connection" in page
    assert admin_url("register", webhook) not in page

    pressed = client.post(admin_url("register", webhook), follow=True)
    assert messages_of(pressed)[0].startswith("Not registered: Choose the connection")
    assert ds24.calls() == []


def test_the_panel_warns_about_a_receive_url_digistore24_cannot_reach(settings, client, webhook):
    client = login(client)
    assert "tunnel" not in client.get(admin_url("change", webhook)).content.decode()
    settings.SITE_URL = "http://127.0.0.1:8000"
    page = client.get(admin_url("change", webhook)).content.decode()
    assert "Digistore24 sends IPNs only to https:// URLs" in page
    assert "127.0.0.1 is a loopback address" in page


def test_digistore24s_refusal_is_one_readable_message(standin, client, payments):
    read_only = make_connection("Read only", READ_ONLY_KEY)
    Webhook.objects.filter(pk=payments.pk).update(connection=read_only)
    done = login(client).post(admin_url("register", payments), follow=True)
    [message] = messages_of(done)
    assert message.startswith("Not registered: The API key lacks permission for ipnSetup")
    assert message.endswith(
        "The connection's key is read-only (now recorded); this needs full access."
    )


def test_the_buttons_need_change_permission(ds24, client, connection, payments):
    client = login(client, change=False)
    for name in ("register", "remove_from_ds24", "check_registration"):
        assert client.get(admin_url(name, payments)).status_code in (403, 405)
        assert client.post(admin_url(name, payments)).status_code == 403
    assert ds24.calls() == []
    page = client.get(admin_url("change", payments)).content.decode()
    assert admin_url("register", payments) not in page and "is not available" not in page


def test_the_buttons_need_a_csrf_token(ds24, connection, payments):
    client = login(Client(enforce_csrf_checks=True))
    for name in ("register", "remove_from_ds24", "check_registration"):
        assert client.post(admin_url(name, payments)).status_code == 403
    assert ds24.calls() == []


def test_check_is_a_post(ds24, client, payments):
    assert login(client).get(admin_url("check_registration", payments)).status_code == 405


def test_a_registered_webhook_cannot_be_deleted(standin, client, connection, payments):
    webhook_register(webhook=payments, connection=connection)
    assert login(client).get(admin_url("delete", payments)).status_code == 403


@pytest.mark.parametrize(("entered", "stored"), [("101, 102", "101,102"), ("", "")])
def test_product_ids_are_digits_separated_by_commas(db, entered, stored):
    webhook = webhook_create(name="W", kind="payments", passphrase=PASSPHRASE)
    webhook.product_ids = entered
    webhook.full_clean()
    assert webhook.product_ids == stored


@pytest.mark.parametrize(
    "entered",
    [
        "all",
        "101;102",
        "101,",
        "abc",
        in_digits("101", ARABIC_INDIC),
        in_digits("101", FULLWIDTH),
    ],
)
def test_other_product_ids_are_a_form_error(db, entered):
    webhook = webhook_create(name="W", kind="payments", passphrase=PASSPHRASE)
    webhook.product_ids = entered
    with pytest.raises(ValidationError) as invalid:
        webhook.full_clean()
    assert "product_ids" in invalid.value.message_dict
