import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from ds24site import health
from webhooks.services import webhook_create


@pytest.mark.django_db
def test_healthy(client):
    response = client.get("/healthz", HTTP_HOST="10.0.0.5")  # LBs probe by IP: no host check
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db(transaction=True)
def test_database_down_is_503_without_details(client, broken_database):
    broken_database()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content == b"unavailable: database unreachable\n"


@pytest.mark.django_db
def test_needs_no_login(client):
    assert client.get("/admin/").status_code == 302  # everything else does
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_database_that_answers_but_cannot_take_a_write_is_503(client, lock_database):
    lock_database()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content == b"unavailable: database cannot take a write\n"


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite file's disk")
def test_a_nearly_full_disk_under_sqlite_is_503(client, settings):
    settings.DB_MIN_FREE_MB = 2**40  # more than any disk here has free: 1 EB
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content == b"unavailable: disk nearly full\n"


@pytest.mark.django_db
def test_a_key_that_cannot_decrypt_the_stored_secrets_is_503_without_naming_them(client):
    webhook_create(name="W", kind="all", passphrase="stored under the configured key")
    with override_settings(FIELD_ENCRYPTION_KEY=[Fernet.generate_key().decode()]):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content == b"unavailable: FIELD_ENCRYPTION_KEY cannot decrypt stored secrets\n"


@pytest.mark.django_db
def test_proves_a_write(client):
    from ds24site.models import HealthProbe

    before = HealthProbe.objects.get().written
    assert client.get("/healthz").status_code == 200
    assert HealthProbe.objects.get().written > before


@pytest.mark.django_db(transaction=True)
def test_probes_are_reused_for_a_moment_so_probing_stays_cheap(client, django_db_blocker):
    assert client.get("/healthz").status_code == 200
    with django_db_blocker.block():  # a second probe now would touch the database: refused
        assert client.get("/healthz").status_code == 200
    health.recent_report.clear()  # once the moment has passed, a new probe
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_check_reports_a_database_that_cannot_take_a_write(lock_database):
    from django.core import checks

    lock_database()
    assert "ds24site.E006" in [e.id for e in checks.run_checks() if e.is_serious()]
