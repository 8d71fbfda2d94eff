"""Who the client is: X-Forwarded-* believed only from TRUSTED_PROXIES."""

import pytest
from django.test import override_settings

from tests.conftest import on_payment
from webhooks.models import RejectedDelivery

pytestmark = pytest.mark.django_db


def sender_ip_of_rejected_post(post_ipn, webhook, **headers):
    post_ipn(webhook, on_payment(), **headers)  # unsigned: rejected, with the sender's IP
    return RejectedDelivery.objects.latest("id").sender_ip


def test_forwarded_for_is_ignored_without_trusted_proxies(post_ipn, webhook):
    ip = sender_ip_of_rejected_post(
        post_ipn, webhook, REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="1.2.3.4"
    )
    assert ip == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_forwarded_for_from_a_trusted_proxy_names_the_client(post_ipn, webhook):
    ip = sender_ip_of_rejected_post(
        post_ipn,
        webhook,
        REMOTE_ADDR="10.0.0.2",
        # The client forged the first entry; the proxies appended the rest.
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.50, 10.0.0.1",
    )
    assert ip == "203.0.113.50"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_forwarded_for_from_an_untrusted_peer_is_ignored(post_ipn, webhook):
    ip = sender_ip_of_rejected_post(
        post_ipn, webhook, REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="1.2.3.4"
    )
    assert ip == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=["127.0.0.1"], SECURE_SSL_REDIRECT=True)
def test_forwarded_proto_from_a_trusted_proxy_satisfies_the_https_redirect(client):
    assert client.get("/admin/login/").status_code == 301  # plain http: redirected
    response = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200


@override_settings(TRUSTED_PROXIES=[], SECURE_SSL_REDIRECT=True)
def test_forwarded_proto_from_anyone_else_is_ignored(client):
    assert client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 301


def test_bad_trusted_proxies_fail_the_system_check():
    from ds24site.checks import check_trusted_proxies

    with override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "proxy.local"]):
        [error] = check_trusted_proxies(None)
    assert error.id == "ds24site.E004" and "proxy.local" in error.msg
