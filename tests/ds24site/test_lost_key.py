"""A lost or wrong FIELD_ENCRYPTION_KEY: secrets are decrypted only where they are used, so
every list page and API list still works, while the places that need a secret fail as they
must (the receiver answers 503), and `check` and /healthz say what is wrong."""

import pytest
from cryptography.fernet import Fernet
from django.contrib import admin
from django.core import checks
from django.test import override_settings
from django.urls import reverse

from api.urls import router
from connections.models import Connection
from ds24site import crypto
from forwarding.models import Destination
from tests.conftest import PASSPHRASE, on_payment, signed
from webhooks.models import Webhook

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def secrets_under_the_old_key(webhook, post_ipn):
    """One secret of each kind, and an event, stored under OLD; the test then runs on NEW."""
    with override_settings(FIELD_ENCRYPTION_KEY=[OLD]):
        webhook.passphrase = PASSPHRASE
        webhook.save()  # encrypted under OLD now
        connection = Connection(name="Shop")
        connection.set_key("123-SecretKeyValue000")
        connection.save()
        Destination.objects.create(name="CRM", url="https://crm.example.com/hook", webhook=webhook)
        assert post_ipn(webhook, signed(on_payment())).content == b"OK"
    with override_settings(FIELD_ENCRYPTION_KEY=[NEW]):
        yield webhook


def changelist_urls():
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]


@pytest.mark.django_db
def test_every_admin_list_works_without_the_key(admin_client, secrets_under_the_old_key):
    for url in ["/admin/", *changelist_urls()]:
        response = admin_client.get(url)
        assert response.status_code == 200, url


@pytest.mark.django_db
def test_every_api_list_works_without_the_key(api_get, secrets_under_the_old_key):
    for prefix, _viewset, basename in router.registry:
        response = api_get(reverse(f"api:{basename}-list"))
        assert response.status_code == 200, prefix
    assert api_get("/api/v1/events/").json()["results"]


@pytest.mark.django_db
def test_loading_never_decrypts_using_does(secrets_under_the_old_key):
    webhook = Webhook.objects.get(pk=secrets_under_the_old_key.pk)  # no DecryptionError here
    with pytest.raises(crypto.DecryptionError):
        webhook.passphrase  # noqa: B018  (the first use decrypts)
    with pytest.raises(crypto.DecryptionError):
        Destination.objects.get().signing_secrets()


@pytest.mark.django_db
def test_the_receiver_still_answers_503(post_ipn, secrets_under_the_old_key):
    response = post_ipn(secrets_under_the_old_key, signed(on_payment(order_id="NEW1")))
    assert response.status_code == 503
    assert response.content == b"ERROR: not stored, retry later"


@pytest.mark.django_db
@pytest.mark.parametrize("deploy", [False, True])
def test_check_reports_the_secrets_it_cannot_decrypt(secrets_under_the_old_key, deploy):
    errors = [e for e in checks.run_checks(include_deployment_checks=deploy) if e.is_serious()]
    assert [e.id for e in errors] == ["ds24site.E008"]
    assert errors[0].msg == (
        "FIELD_ENCRYPTION_KEY cannot decrypt stored secrets: connections.Connection.api_key, "
        "webhooks.Webhook.passphrase, forwarding.Destination.secret"
    )


@pytest.mark.django_db
def test_healthz_says_so(client, secrets_under_the_old_key):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert b"FIELD_ENCRYPTION_KEY" in response.content and b"Webhook" not in response.content
