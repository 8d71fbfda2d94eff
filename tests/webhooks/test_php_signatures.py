"""IPNs signed by PHP: tests/payloads/php/signatures.json holds parameter sets signed in all four
variants of Digistore24's signature function by PHP itself (make_signatures.php next to it).
Their values contain entities that PHP's html_entity_decode and Python's html.unescape decode
differently, so only an exact port of PHP verifies the HTML-decoding variants."""

import json
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from webhooks.models import Event
from webhooks.signing import signature, verify

FIXTURE = json.loads(
    (Path(__file__).parent.parent / "payloads" / "php" / "signatures.json").read_text()
)
SETS = {signed["name"]: signed for signed in FIXTURE["sets"]}
VARIANTS = {
    "plain": {"uppercase_keys": False, "html_decode": False},
    "uppercase_keys": {"uppercase_keys": True, "html_decode": False},
    "html_decode": {"uppercase_keys": False, "html_decode": True},
    "uppercase_keys_html_decode": {"uppercase_keys": True, "html_decode": True},
}
DECODING = ["html_decode", "uppercase_keys_html_decode"]


def test_fixture_was_signed_with_the_test_passphrase():
    assert FIXTURE["passphrase"] == PASSPHRASE
    assert len(SETS) >= 8
    for signed in SETS.values():
        assert set(signed["signatures"]) == set(VARIANTS)
        # Decoding must matter, or the set could not tell a wrong decoder from a right one.
        assert signed["signatures"]["html_decode"] != signed["signatures"]["plain"]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", SETS)
def test_signature_equals_phps(name, variant):
    params = SETS[name]["params"]
    expected = SETS[name]["signatures"][variant]
    assert signature(params.items(), PASSPHRASE, **VARIANTS[variant]) == expected
    # The order the pairs arrive in must not matter, ties between keys that upper-case alike
    # included.
    assert signature(reversed(params.items()), PASSPHRASE, **VARIANTS[variant]) == expected


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", SETS)
def test_verify_accepts_every_php_signed_variant(name, variant):
    params = SETS[name]["params"]
    assert verify({**params, "sha_sign": SETS[name]["signatures"][variant]}, PASSPHRASE)
    assert not verify({**params, "sha_sign": SETS[name]["signatures"][variant]}, "wrong")


@pytest.mark.django_db
@pytest.mark.parametrize("variant", DECODING)
@pytest.mark.parametrize("name", SETS)
def test_receiver_stores_an_ipn_php_signed_with_html_decoding(post_ipn, webhook, name, variant):
    params = SETS[name]["params"]
    response = post_ipn(webhook, {**params, "sha_sign": SETS[name]["signatures"][variant]})
    assert response.status_code == 200, response.content
    assert response.content == b"OK"
    event = Event.objects.get()
    assert event.signature == Event.Signature.VERIFIED
    assert event.payload[: len(params)] == [list(pair) for pair in params.items()]  # not decoded


@pytest.mark.django_db
def test_the_decoded_form_of_a_php_signed_ipn_is_a_redelivery_not_a_new_event(post_ipn, webhook):
    # PHP signs "Key &#x0x41;" as "Key A", so the same signature also verifies the value "Key A";
    # both must hash alike, or a captured IPN could be replayed as a new event by decoding it.
    signed = SETS["strtol-prefix-and-invalid-numbers"]
    sha_sign = signed["signatures"]["html_decode"]
    assert post_ipn(webhook, {**signed["params"], "sha_sign": sha_sign}).status_code == 200
    decoded = {**signed["params"], "product_name": "Key A &#0; &#xD800; &#x110000;"}
    assert post_ipn(webhook, {**decoded, "sha_sign": sha_sign}).status_code == 200
    assert Event.objects.get().delivery_count == 2


@pytest.mark.django_db
def test_a_reference_too_long_for_int_is_refused_not_a_server_error(post_ipn, webhook):
    # html.unescape raised ValueError (int() refuses over 4300 digits) on such a value: a 500.
    params = {"event": "on_payment", "order_id": "&#" + "9" * 5000 + ";", "sha_sign": "0" * 128}
    response = post_ipn(webhook, params)
    assert response.status_code == 403
    assert Event.objects.count() == 0
