"""A passphrase set on a webhook has at least 16 characters; one stored before the rule keeps
working, and its page says it is weak."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.conftest import on_payment, signed
from webhooks.models import Webhook
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db

SIXTEEN = "0123456789abcdef"
TOO_SHORT = "Use at least 16 characters"


def form_data(webhook, **changes):
    data = {
        "name": webhook.name,
        "kind": webhook.kind,
        "events": webhook.events,
        "product_ids": webhook.product_ids,
        "passphrase": webhook.passphrase,
        "active": "on",
    }
    return {**data, **changes}


def change(client, webhook, **changes):
    url = reverse("admin:webhooks_webhook_change", args=[webhook.pk])
    return client.post(url, form_data(webhook, **changes))


@pytest.fixture
def legacy_webhook():
    """A webhook whose passphrase was set before the rule (saving skips validation)."""
    return Webhook.objects.create(
        name="Old shop", kind="payments", passphrase="short", events=["on_payment"]
    )


@pytest.mark.parametrize("passphrase", ["a", SIXTEEN[:-1], " " * 16, f"  {SIXTEEN[:-1]}  "])
def test_short_or_blank_passphrases_cannot_be_set(passphrase):
    with pytest.raises(ValidationError) as raised:
        webhook_create(name="Shop", kind="payments", passphrase=passphrase)
    assert TOO_SHORT in raised.value.message_dict["passphrase"][0]
    assert not Webhook.objects.exists()


def test_sixteen_characters_are_enough():
    assert webhook_create(name="Shop", kind="payments", passphrase=SIXTEEN).passphrase == SIXTEEN


def test_the_admin_form_refuses_a_short_passphrase_with_a_clear_error(staff_client, webhook):
    response = change(staff_client, webhook, passphrase="a")
    assert response.status_code == 200
    assert TOO_SHORT in response.context["adminform"].form.errors["passphrase"][0]
    webhook.refresh_from_db()
    assert webhook.passphrase != "a"

    response = staff_client.post(
        reverse("admin:webhooks_webhook_add"),
        {"name": "New", "kind": "payments", "passphrase": "x" * 15, "active": "on"},
    )
    assert response.status_code == 200
    assert TOO_SHORT in response.context["adminform"].form.errors["passphrase"][0]


def test_a_stored_short_passphrase_keeps_working(legacy_webhook, post_ipn):
    response = post_ipn(legacy_webhook, signed(on_payment(), "short"))
    assert response.status_code == 200 and response.content == b"OK"


def test_a_webhook_with_a_stored_short_passphrase_can_still_be_edited(staff_client, legacy_webhook):
    response = change(staff_client, legacy_webhook, name="Old shop (DE)")
    assert response.status_code == 302
    legacy_webhook.refresh_from_db()
    assert legacy_webhook.name == "Old shop (DE)" and legacy_webhook.passphrase == "short"


def test_its_page_says_the_passphrase_is_weak(staff_client, legacy_webhook, webhook):
    url = reverse("admin:webhooks_webhook_change", args=[legacy_webhook.pk])
    assert "passphrase is shorter than 16" in staff_client.get(url).content.decode()
    other = reverse("admin:webhooks_webhook_change", args=[webhook.pk])
    assert "passphrase is shorter than" not in staff_client.get(other).content.decode()
