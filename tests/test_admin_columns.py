"""The admin lists' columns: few enough to fit 1280 px with the sidebar and the filters open
(the browser tests measure the width), each cell carrying what used to be several columns."""

import re
from datetime import datetime

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from apicall.models import ApiCall
from connections.models import Connection
from forwarding.models import Delivery, Destination
from tests.conftest import PASSPHRASE, on_payment, signed
from webhooks import samples
from webhooks.models import Event
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db

# Each change list and the most data columns it may show (besides the selection checkbox).
LISTS = {
    "webhooks_webhook": 5,
    "webhooks_event": 6,
    "webhooks_paymentevent": 6,
    "webhooks_eticketevent": 5,
    "webhooks_affiliationevent": 5,
    "webhooks_rejecteddelivery": 5,
    "connections_connection": 6,
    "api_apitoken": 7,
    "apicall_apicall": 4,
    "forwarding_destination": 5,
    "forwarding_delivery": 4,
    "auth_user": 5,
}


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("root", password="pw-for-tests"))
    return client


def headers(html: str) -> list[str]:
    """The column headers' classes, without the selection checkbox's."""
    table = html[html.index('id="result_list"') :]  # (the nav sidebar has tables too)
    thead = table[: table.index("</thead>")]
    classes = re.findall(r'<th scope="col"\s+class="([^"]*)"', thead)
    return [c for c in classes if "action-checkbox-column" not in c]


@pytest.fixture
def one_of_each(superuser_client, post_ipn):
    """A row in every list (an empty list has no table)."""
    webhook = webhook_create(name="Payments", kind="all", passphrase=PASSPHRASE)
    post_ipn(webhook, signed(on_payment()))
    post_ipn(webhook, signed(samples.eticket()))
    post_ipn(webhook, signed(samples.on_affiliation()))
    post_ipn(webhook, on_payment())  # unsigned: rejected
    connection = Connection(name="Shop")
    connection.set_key("123-abcdefghijklmnopqrstuvwxyz")
    connection.save()
    token = ApiToken(user=User.objects.get(), name="CRM sync")
    token.issue()
    token.save()
    ApiCall.objects.create(connection_name="Shop", function="listPurchases", method="POST")
    destination = Destination.objects.create(name="CRM", url="https://crm.example.com/hook")
    Delivery.objects.create(event=Event.objects.first(), destination=destination, message_id="m")


@pytest.mark.parametrize(("model", "most"), LISTS.items())
def test_every_list_has_few_columns(superuser_client, one_of_each, model, most):
    html = superuser_client.get(reverse(f"admin:{model}_changelist")).content.decode()
    assert 1 < len(headers(html)) <= most, headers(html)


def event_row(html: str) -> str:
    table = html[html.index('id="result_list"') :]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    [row] = re.findall(r"<tr>.*?</tr>", body, re.S)
    return row


def test_event_list_cells_carry_amount_product_buyer_webhook_and_markers(
    superuser_client, post_ipn
):
    webhook = webhook_create(name="Open shop", kind="all", unsigned=True)
    params = on_payment(buyer_first_name="Jörg", buyer_last_name="Müller", amount_brutto="49.5")
    post_ipn(webhook, params)
    post_ipn(webhook, params)  # redelivered
    Event.objects.update(
        received=datetime(2026, 3, 1, 9, 15, 42, tzinfo=timezone.get_current_timezone())
    )

    html = superuser_client.get(reverse("admin:webhooks_event_changelist")).content.decode()
    assert [c.split()[0] for c in headers(html)] == [
        "sortable",  # Received: the one sortable column (an index serves it)
        "column-event_cell",
        "column-amount_display",
        "column-product",
        "column-buyer",
        "column-webhook_cell",
    ]
    row = event_row(html)
    # Received to the second, on two lines.
    assert '>2026-03-01<br><span class="ds24-sub">09:15:42</span></a>' in row
    # The event's badge, order id and transaction id in one cell.
    assert 'class="ds24-badge paid" title="on_payment">Payment</span>' in row
    assert '<span title="Order id">ABC123XY</span>' in row
    assert '<span title="Transaction id">tx 987654</span>' in row
    assert "49.50 EUR" in row
    assert 'Online-Kurs Jörg<br><span class="ds24-sub">#12345</span>' in row
    assert 'Jörg Müller<br><span class="ds24-sub">kunde<wbr>@example.com</span>' in row
    # The webhook, and under it what is unusual: unsigned, delivered twice.
    assert "Open shop<br>" in row
    assert '<span class="ds24-mark warn">unsigned</span>' in row
    assert '<span class="ds24-mark ">\u00d72</span>' in row
    assert ">revision<" not in row


def test_a_signed_first_delivery_has_no_markers(superuser_client, post_ipn):
    webhook = webhook_create(name="Payments", kind="payments", passphrase=PASSPHRASE)
    post_ipn(webhook, signed(on_payment()))
    row = event_row(
        superuser_client.get(reverse("admin:webhooks_event_changelist")).content.decode()
    )
    assert "ds24-mark" not in row
    assert '<td class="field-webhook_cell">Payments</td>' in row
