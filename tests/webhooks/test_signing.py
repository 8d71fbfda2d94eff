"""sha_sign per shared/digistore24.md §2, checked against the frozen vectors of §2.3 — never
only against our own signer."""

import hashlib

import pytest

from webhooks.signing import signature, verify

OFFICIAL = "s3cret-passphrase"
MINIMAL = {"order_id": "ORD-1", "product_id": "42"}
MINIMAL_SIG = (
    "9A23DE2603A33D17D935908580B5DB90C452DE8E68556E2A4AD96F1C3EC3BFD2"
    "EE3AE47B819B96286812224FBCED943D0ACF48C8C20CA57570E2263B6ABAF099"
)
UPPERCASE_SIG = (
    "650DFA85696C764CF5276397D48D5F1E7D1D0D42D2836E459CAE83A36814DF67"
    "E90C59A508B73D98280400758A65381D09BFA36D7F575345639D24F269A666A2"
)
UTF8_SIG = (
    "2F30138F4508E37C322DF849C4421E0F2B876FD065762B3257253B6BB22256F1"
    "0BE479F442E3AE5B0922A3FE12A32355AB41B830481F2B4835F92A1B05E604B5"
)
V1 = {
    "event": "on_payment",
    "order_id": "ABC123XY",
    "transaction_id": "987654",
    "product_id": "12345",
    "amount_brutto": "49.00",
    "currency": "EUR",
    "email": "kunde@example.com",
    "billing_type": "single_payment",
    "pay_sequence_no": "0",
    "address_city": "",
    "api_mode": "live",
}
V1_SIG = (
    "2F1C2529967A07E49A9F1744613D553CE10CB3B009B1BD3634337F16E1D74E11"
    "15BFA49EDAAA29C5EE64B829B1D3CED089044F51C87FCF71F1169EB3D70D4A37"
)


@pytest.mark.parametrize(
    ("params", "passphrase", "expected"),
    [
        (MINIMAL, OFFICIAL, MINIMAL_SIG),
        ({**MINIMAL, "note": ""}, OFFICIAL, MINIMAL_SIG),
        ({**MINIMAL, "sha_sign": "DEADBEEF"}, OFFICIAL, MINIMAL_SIG),
        ({**MINIMAL, "SHASIGN": "DEADBEEF"}, OFFICIAL, MINIMAL_SIG),
        (
            {"order_id": "ORD-2", "buyer_first_name": "Jörg", "buyer_last_name": "Müller-Straße"},
            OFFICIAL,
            UTF8_SIG,
        ),
        (V1, "MySecretPassphrase123", V1_SIG),
    ],
    ids=["minimal", "empty-skipped", "sha_sign-excluded", "SHASIGN-excluded", "utf8", "V1"],
)
def test_signature_matches_frozen_vectors(params, passphrase, expected):
    assert signature(params.items(), passphrase) == expected


def test_uppercase_keys_variant_matches_vector():
    upper = {key.upper(): value for key, value in MINIMAL.items()}
    assert signature(upper.items(), OFFICIAL) == UPPERCASE_SIG
    assert signature(MINIMAL.items(), OFFICIAL, uppercase_keys=True) == UPPERCASE_SIG


def test_zero_is_kept_and_changes_the_signature():
    without_zero = {key: value for key, value in V1.items() if key != "pay_sequence_no"}
    assert signature(without_zero.items(), "MySecretPassphrase123") != V1_SIG


def test_keys_sort_by_bytes_not_case_insensitively():
    # By bytes "T" (0x54) < "a" (0x61), so placeholder_TITLE comes first; a case-insensitive
    # sort would put it after placeholder_a.
    message = "placeholder_TITLE=2p" + "placeholder_a=1p"
    expected = hashlib.sha512(message.encode()).hexdigest().upper()
    assert signature([("placeholder_a", "1"), ("placeholder_TITLE", "2")], "p") == expected


@pytest.mark.parametrize(
    "params",
    [
        {**MINIMAL, "sha_sign": MINIMAL_SIG},
        {**MINIMAL, "sha_sign": MINIMAL_SIG.lower()},
        {**MINIMAL, "SHASIGN": MINIMAL_SIG},
        {"ORDER_ID": "ORD-1", "PRODUCT_ID": "42", "sha_sign": UPPERCASE_SIG},
        {**MINIMAL, "sha_sign": UPPERCASE_SIG},  # signed with upper-cased keys, sent as is
    ],
    ids=["exact", "lower-hex", "legacy-name", "upper-keys", "upper-variant"],
)
def test_verify_accepts_genuine_signatures(params):
    assert verify(params, OFFICIAL)


@pytest.mark.parametrize(
    ("params", "passphrase"),
    [
        (MINIMAL, OFFICIAL),  # missing
        ({**MINIMAL, "sha_sign": ""}, OFFICIAL),
        ({**MINIMAL, "sha_sign": MINIMAL_SIG}, "wrong-passphrase"),
        ({**MINIMAL, "product_id": "43", "sha_sign": MINIMAL_SIG}, OFFICIAL),  # tampered
        ({**MINIMAL, "sha_sign": signature(MINIMAL.items(), "")}, ""),  # fail closed
        ({**MINIMAL, "sha_sign": "Ü" * 128}, OFFICIAL),  # non-ASCII must not crash
    ],
    ids=["missing", "empty", "wrong-passphrase", "tampered", "no-passphrase", "non-ascii"],
)
def test_verify_rejects(params, passphrase):
    assert not verify(params, passphrase)


def test_html_decoded_variant_is_accepted():
    # The older official example html_entity_decode()d every value before signing.
    params = {"order_id": "ORD-1", "product_name": "Tom &amp; Jerry"}
    decoded = {"order_id": "ORD-1", "product_name": "Tom & Jerry"}
    sig = signature(decoded.items(), OFFICIAL)
    assert signature(params.items(), OFFICIAL, html_decode=True) == sig
    assert verify({**params, "sha_sign": sig}, OFFICIAL)
    assert verify({**params, "sha_sign": signature(params.items(), OFFICIAL)}, OFFICIAL)
    assert not verify({**params, "sha_sign": sig}, "wrong")


def test_a_payload_with_nothing_signed_never_verifies():
    # With every value empty the signed string is "" whatever the passphrase, so its
    # SHA-512 would verify for anyone.
    empty_message_sig = hashlib.sha512(b"").hexdigest().upper()
    assert signature({"event": "", "x": ""}.items(), OFFICIAL) == empty_message_sig
    assert not verify({"event": "", "x": "", "sha_sign": empty_message_sig}, OFFICIAL)
