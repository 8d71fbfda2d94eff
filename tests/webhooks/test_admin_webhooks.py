"""Webhook pages: the change page with its Digistore24 set-up panel, health in the list, and
the confirmed regenerate / rotate actions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSPHRASE, follow_up, keep_ipn, on_payment, signed
from webhooks.models import Event, Webhook
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db


def change_page(client, webhook):
    response = client.get(reverse("admin:webhooks_webhook_change", args=[webhook.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_change_page_shows_url_and_passphrase_with_copy_buttons(staff_client, webhook):
    html = change_page(staff_client, webhook)
    assert f'data-copy="{webhook.get_receive_url()}"' in html
    assert f'value="{webhook.passphrase}"' in html
    assert 'data-copy-from="id_passphrase"' in html
    assert "ds24site/copy.js" in html


def test_set_up_in_digistore24_panel_names_every_form_field(staff_client, webhook):
    html = change_page(staff_client, webhook)
    assert "Settings &rsaquo; Integrations (IPN)" in html
    for field in [
        "Name",
        "For products",
        "For add-ons",
        "For orders in these languages",
        "Send notifications for",
        "For order events",
        "Webhook URL",
        "Perform also for follow-up payments",
        "GET parameter names",
        "Success check",
        "Active",
        "Email address for error notifications",
        "IPN passphrase",
    ]:
        assert f"<th>{field}</th>" in html, field
    assert "Payment, Refund, Chargeback, Missed recurring payment" in html
    assert "Yes — otherwise subscription rebills" in html
    assert f'data-copy="{webhook.passphrase}"' in html
    assert "UNSIGNED" not in html


@pytest.mark.parametrize(
    ("kind", "category"),
    [
        ("etickets", "E-tickets"),
        ("affiliations", "Affiliations"),
        ("all", "Orders, Affiliations, E-tickets and Custom forms"),
    ],
)
def test_panel_follows_the_kind(staff_client, kind, category):
    webhook = webhook_create(name=kind, kind=kind)
    html = change_page(staff_client, webhook)
    assert f"<td>{category}" in html


def test_unsigned_webhook_warns_loudly(staff_client):
    webhook = webhook_create(name="Open", kind="all", unsigned=True)
    html = change_page(staff_client, webhook)
    assert 'class="ds24-warning"' in html
    assert "accepts UNSIGNED IPNs" in html


def test_add_webhook_with_kind_defaults(staff_client):
    response = staff_client.post(
        reverse("admin:webhooks_webhook_add"),
        {
            "name": "Tickets",
            "kind": "etickets",
            "passphrase": "abc-def-ghi-jkl-mno",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content
    webhook = Webhook.objects.get()
    assert webhook.events == ["eticket"] and webhook.passphrase == "abc-def-ghi-jkl-mno"
    # Landing on its own page, where the set-up panel is, not on the list.
    assert response["Location"] == reverse("admin:webhooks_webhook_change", args=[webhook.pk])


def test_local_receive_url_is_flagged_at_the_top_of_the_set_up_panel(staff_client, settings):
    webhook = webhook_create(name="Local", kind="payments", passphrase=PASSPHRASE)
    settings.SITE_URL = "http://127.0.0.1:8000"
    html = change_page(staff_client, webhook)
    panel = html[html.index("<h2>Set up in Digistore24</h2>") :]
    assert panel.index("Digistore24 cannot use this receive URL yet") < panel.index("<table>")
    assert "loopback" in panel and "tunnel" in panel
    settings.SITE_URL = "https://ds24.example.com"
    assert "cannot use this receive URL" not in change_page(staff_client, webhook)


def test_add_webhook_refuses_no_passphrase_without_unsigned(staff_client):
    response = staff_client.post(
        reverse("admin:webhooks_webhook_add"),
        {"name": "Open", "kind": "all", "passphrase": "", "active": "on"},
    )
    assert response.status_code == 200
    assert "explicitly accept unsigned IPNs" in response.content.decode()
    assert not Webhook.objects.exists()


def test_list_shows_health_at_a_glance(staff_client, post_ipn, webhook):
    now = timezone.now()
    receiving = webhook
    post_ipn(receiving, signed(on_payment()))
    rejecting = webhook_create(name="Rejecting", kind="all")
    post_ipn(rejecting, signed(on_payment(), "another passphrase"))  # the passphrases differ
    silent = webhook_create(name="Silent", kind="all")
    keep_ipn(
        silent, on_payment(), signature=Event.Signature.UNSIGNED, received=now - timedelta(days=3)
    )
    paused = webhook_create(name="Paused", kind="all")
    Webhook.objects.filter(pk=paused.pk).update(active=False)
    follow_up()

    html = staff_client.get(reverse("admin:webhooks_webhook_changelist")).content.decode()
    rows = {
        name: next(
            row for row in html.split("<tr") if f">{name}<br>" in row and "field-connection" in row
        )
        for name in ("Payments", "Rejecting", "Silent", "Paused")
    }
    assert 'ds24-badge receiving">Receiving' in rows["Payments"]
    assert 'ds24-badge rejecting">Rejecting' in rows["Rejecting"]
    assert "1 rejected (latest: invalid sha signature)" in rows["Rejecting"]
    assert 'ds24-badge silent">Silent' in rows["Silent"]
    assert 'ds24-badge paused">Paused' in rows["Paused"]
    assert '<td class="field-last_24h">1 events</td>' in rows["Payments"]


def test_list_query_count_does_not_grow_with_webhooks(
    staff_client, post_ipn, django_assert_max_num_queries
):
    for n in range(6):
        post_ipn(webhook_create(name=f"W{n}", kind="all"), on_payment())
    with django_assert_max_num_queries(8):
        assert staff_client.get(reverse("admin:webhooks_webhook_changelist")).status_code == 200


@pytest.mark.parametrize(
    ("action", "attribute", "says"),
    [
        ("regenerate_url", "token", "New receive URL"),
        ("rotate_passphrase", "passphrase", "New passphrase"),
    ],
)
def test_regenerate_and_rotate_ask_for_confirmation_first(
    staff_client, webhook, action, attribute, says
):
    url = reverse(f"admin:webhooks_webhook_{action}", args=[webhook.pk])
    before = getattr(webhook, attribute)

    confirm = staff_client.get(url)
    assert confirm.status_code == 200
    assert "Yes, " in confirm.content.decode()
    assert getattr(Webhook.objects.get(), attribute) == before  # nothing happened yet

    done = staff_client.post(url, follow=True)
    assert says in done.content.decode()
    assert getattr(Webhook.objects.get(), attribute) != before


def test_regenerate_needs_change_permission_and_a_real_webhook(viewer_client, webhook):
    url = reverse("admin:webhooks_webhook_regenerate_url", args=[webhook.pk])
    assert viewer_client.post(url).status_code == 403
    assert Webhook.objects.get().token == webhook.token
    missing = reverse("admin:webhooks_webhook_regenerate_url", args=[webhook.pk + 100])
    assert viewer_client.get(missing).status_code == 404


def test_send_test_refuses_get(staff_client, webhook):
    url = reverse("admin:webhooks_webhook_send_test", args=[webhook.pk])
    assert staff_client.get(url).status_code == 405


def test_view_only_staff_never_see_the_passphrase_or_the_url(viewer_client, webhook):
    html = change_page(viewer_client, webhook)
    assert webhook.passphrase not in html
    assert webhook.token not in html  # tests/webhooks/test_receive_url_visibility.py
    assert "Send test IPN" not in html and "Rotate passphrase" not in html


def test_a_webhook_with_events_cannot_be_deleted_one_without_can(staff_client, post_ipn, webhook):
    post_ipn(webhook, signed(on_payment()))
    empty = webhook_create(name="Empty", kind="all")
    delete = "admin:webhooks_webhook_delete"
    assert staff_client.get(reverse(delete, args=[webhook.pk])).status_code == 403
    assert "Delete" not in change_page(staff_client, webhook).split("submit-row")[-1]
    listing = staff_client.get(reverse("admin:webhooks_webhook_changelist")).content.decode()
    assert 'value="delete_selected"' not in listing
    assert staff_client.post(reverse(delete, args=[empty.pk]), {"post": "yes"}).status_code == 302
    assert list(Webhook.objects.values_list("name", flat=True)) == ["Payments"]


def test_rotating_an_unsigned_webhooks_passphrase_makes_it_signed(staff_client):
    webhook = webhook_create(name="Open", kind="all", unsigned=True)
    url = reverse("admin:webhooks_webhook_rotate_passphrase", args=[webhook.pk])
    staff_client.post(url)
    webhook.refresh_from_db()
    assert webhook.passphrase and not webhook.accept_unsigned
    webhook.full_clean()  # still a valid webhook
