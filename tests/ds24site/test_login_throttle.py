"""Login throttling (ds24site/login_throttle.py): failed admin logins lock out, per username and
address and per address, and a locked attempt is refused before the password is hashed."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password"
ATTACKER = "203.0.113.7"
WRONG = "a-wrong-guess"


class CountingHasher(MD5PasswordHasher):
    """The suite's fast hasher, counting what it hashes: checking a password (and Django's
    dummy check for an unknown username) hashes once."""

    algorithm = "md5"  # identifies the users' stored MD5 hashes as its own
    hashed = 0

    def encode(self, password, salt):
        CountingHasher.hashed += 1
        return super().encode(password, salt)


@pytest.fixture(autouse=True)
def admin_user():
    return User.objects.create_superuser("admin", password=PASSWORD)


@pytest.fixture(autouse=True)
def hasher(admin_user):
    """Counts from here on, after the admin's password was hashed."""
    CountingHasher.hashed = 0
    with override_settings(PASSWORD_HASHERS=[f"{__name__}.CountingHasher"]):
        yield CountingHasher


def log_in(client, username="admin", password=WRONG, ip=ATTACKER, **extra):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
        **extra,
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def lock(client, username="admin", ip=ATTACKER, **extra):
    """Fail LOGIN_FAILURE_LIMIT times: the last failure already answers with the lockout."""
    responses = [
        log_in(client, username, ip=ip, **extra) for _ in range(settings.LOGIN_FAILURE_LIMIT)
    ]
    assert [r.status_code for r in responses[:-1]] == [200] * (settings.LOGIN_FAILURE_LIMIT - 1)
    assert responses[-1].status_code == 429


def test_after_the_limit_logins_are_refused_without_hashing_the_password(client, hasher):
    assert settings.LOGIN_FAILURE_LIMIT == 5
    lock(client)
    assert hasher.hashed == 5

    for password in ("another-guess", PASSWORD):  # the right password too
        response = log_in(client, password=password)
        assert response.status_code == 429
    assert hasher.hashed == 5
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_is_the_admins_and_says_when_to_retry(client):
    lock(client)
    response = log_in(client)
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    html = response.content.decode()
    assert "Too many failed logins" in html and "15 minutes" in html
    assert 'id="site-name"' in html and "ds24site/admin.css" in html  # the admin's look


def test_the_user_is_not_locked_out_from_another_address(client):
    lock(client)
    assert logged_in(log_in(client, password=PASSWORD, ip="198.51.100.20"))


def test_other_users_are_not_locked_out_from_the_same_address(client):
    User.objects.create_superuser("colleague", password=PASSWORD)
    lock(client)
    assert logged_in(log_in(client, "colleague", PASSWORD))


def test_an_address_trying_many_usernames_is_locked_out(client, hasher):
    assert settings.LOGIN_IP_FAILURE_LIMIT == 20
    statuses = [log_in(client, f"user{n}").status_code for n in range(20)]
    assert statuses == [200] * 19 + [429]
    assert hasher.hashed == 20

    response = log_in(client, "admin", PASSWORD)  # its first try at this username
    assert response.status_code == 429 and hasher.hashed == 20
    assert logged_in(log_in(client, "admin", PASSWORD, ip="198.51.100.20"))


def test_a_forged_forwarded_for_does_not_escape_the_lockout(client, hasher):
    lock(client, HTTP_X_FORWARDED_FOR="192.0.2.1")
    response = log_in(client, password=PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.2")
    assert response.status_code == 429 and hasher.hashed == 5


@override_settings(TRUSTED_PROXIES=["10.0.0.1"])
def test_behind_a_trusted_proxy_each_client_is_counted_apart(client):
    lock(client, ip="10.0.0.1", HTTP_X_FORWARDED_FOR=ATTACKER)
    assert AccessAttempt.objects.get().ip_address == ATTACKER
    assert (
        log_in(client, password=PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR=ATTACKER).status_code
        == 429
    )
    response = log_in(
        client, password=PASSWORD, ip="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20"
    )
    assert logged_in(response)


def test_the_lockout_ends_after_the_cool_off(client):
    lock(client)
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=15, seconds=1)
    )
    assert logged_in(log_in(client, password=PASSWORD))


def test_attempts_while_locked_out_do_not_extend_the_lockout(client):
    lock(client)
    locked_at = AccessAttempt.objects.get().attempt_time
    log_in(client)
    assert AccessAttempt.objects.get().attempt_time == locked_at


def test_axes_reset_lifts_a_lockout(client):
    lock(client)
    call_command("axes_reset", verbosity=0)
    assert logged_in(log_in(client, password=PASSWORD))


def test_a_successful_login_forgets_the_typos_before_it(client):
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        log_in(client)
    assert logged_in(log_in(client, password=PASSWORD))
    client.logout()
    assert log_in(client).status_code == 200  # a fresh count: one failure, not the limit
