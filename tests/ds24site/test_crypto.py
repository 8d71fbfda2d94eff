import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings

from ds24site import crypto
from webhooks.models import Webhook
from webhooks.services import webhook_create

NEW, OLD = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def raw_passphrase(webhook):
    with connection.cursor() as cursor:
        cursor.execute("SELECT passphrase FROM webhooks_webhook WHERE id = %s", [webhook.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_passphrase_is_encrypted_at_rest():
    webhook = webhook_create(name="W", kind="all", passphrase="plain-passphrase")
    stored = raw_passphrase(webhook)
    assert "plain-passphrase" not in stored
    assert crypto.decrypt(stored) == "plain-passphrase"
    assert Webhook.objects.get().passphrase == "plain-passphrase"


@pytest.mark.django_db
def test_older_keys_still_decrypt_and_reencrypt_moves_to_the_newest():
    with override_settings(FIELD_ENCRYPTION_KEY=[OLD]):
        webhook = webhook_create(name="W", kind="all", passphrase="rotate-me-to-the-newest-key")
        old_token = raw_passphrase(webhook)
    with override_settings(FIELD_ENCRYPTION_KEY=[NEW, OLD]):
        assert Webhook.objects.get().passphrase == "rotate-me-to-the-newest-key"
        rotated = crypto.reencrypt(old_token)
    with override_settings(FIELD_ENCRYPTION_KEY=[NEW]):
        assert crypto.decrypt(rotated) == "rotate-me-to-the-newest-key"
        with pytest.raises(crypto.DecryptionError, match="lacks the key"):
            crypto.decrypt(old_token)


@pytest.mark.parametrize("keys", [[], ["not-a-fernet-key"]])
def test_missing_or_bad_key_is_a_clear_configuration_error(keys):
    with override_settings(FIELD_ENCRYPTION_KEY=keys), pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


def test_system_check_reports_a_bad_key():
    from ds24site.checks import check_field_encryption_key

    with override_settings(FIELD_ENCRYPTION_KEY=["nope"]):
        assert [e.id for e in check_field_encryption_key(None)] == ["ds24site.E001"]
    assert check_field_encryption_key(None) == []


@pytest.mark.django_db(transaction=True)  # the command closes connections as manage.py would
def test_rotatekeys_moves_every_secret_to_the_newest_key():
    from io import StringIO

    from django.core.management import call_command

    from connections.models import Connection

    with override_settings(FIELD_ENCRYPTION_KEY=[OLD]):
        webhook = webhook_create(name="W", kind="all", passphrase="rotate-me-to-the-newest-key")
        webhook_create(name="Open", kind="all", unsigned=True)  # nothing to rotate
        connection = Connection(name="Shop")
        connection.set_key("123-SecretKeyValue000")
        connection.save()
    with override_settings(FIELD_ENCRYPTION_KEY=[NEW, OLD]):
        out = StringIO()
        call_command("rotatekeys", stdout=out)
        assert "Re-encrypted 2 secret(s)" in out.getvalue()
    with override_settings(FIELD_ENCRYPTION_KEY=[NEW]):  # the old key is gone
        assert Webhook.objects.get(pk=webhook.pk).passphrase == "rotate-me-to-the-newest-key"
        assert Connection.objects.get(pk=connection.pk).api_key == "123-SecretKeyValue000"


@pytest.mark.django_db(transaction=True)
def test_rotatekeys_without_the_old_key_changes_nothing_and_says_why():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with override_settings(FIELD_ENCRYPTION_KEY=[OLD]):
        webhook = webhook_create(name="W", kind="all", passphrase="keep-me-under-the-old-key")
    stored = raw_passphrase(webhook)
    with (
        override_settings(FIELD_ENCRYPTION_KEY=[NEW]),
        pytest.raises(CommandError, match="nothing changed"),
    ):
        call_command("rotatekeys")
    assert raw_passphrase(webhook) == stored


@pytest.mark.django_db
def test_receiver_answers_503_when_a_passphrase_cannot_be_decrypted(client):
    with override_settings(FIELD_ENCRYPTION_KEY=[OLD]):
        webhook = webhook_create(name="W", kind="all", passphrase="lost-with-its-key-0")
    with override_settings(FIELD_ENCRYPTION_KEY=[NEW]):
        response = client.post(
            webhook.get_receive_url(),
            "event=on_payment",
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 503
    assert not response.content.startswith(b"OK")
