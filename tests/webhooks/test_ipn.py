"""Pure IPN helpers: business keys, payload hashes, lenient typed parsing."""

from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ARABIC_INDIC, FULLWIDTH, in_digits
from webhooks import ipn


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"event": "on_payment", "transaction_id": "7", "order_id": "O"}, "on_payment:7"),
        ({"event": "on_refund", "transaction_id": "8", "order_id": "O"}, "on_refund:8"),
        ({"event": "on_payment", "order_id": "O", "product_id": "1"}, "on_payment:O:1"),
        ({"event": "eticket", "eticket_id": "123", "order_id": "O"}, "eticket:123"),
        (
            {"event": "on_affiliation", "affiliate_name": "aff", "product_id": "5"},
            "on_affiliation:aff:5",
        ),
        (
            {
                "event": "on_rebill_cancelled",
                "order_id": "O",
                "product_id": "1",
                "transaction_id": "9",
            },
            "on_rebill_cancelled:O:1",
        ),
        ({"event": "connection_test"}, ""),
    ],
)
def test_business_key(params, key):
    assert ipn.business_key(params) == key


def test_overlong_business_key_is_hashed_to_fit():
    key = ipn.business_key({"event": "on_payment", "transaction_id": "9" * 300})
    assert key.startswith("sha256:") and len(key) <= 255


def test_payload_hash_is_stable_across_releases():
    """Stored events keep the hash they were stored with: a redelivery after an upgrade must
    hash the same, or it would be stored again. Pinned from the hash as first released."""
    pairs = [
        ("event", "on_payment"),
        ("sha_sign", "X"),
        ("buyer_first_name", "J&ouml;rg"),
        ("email", ""),
        ("product_name", "Kurs &amp; Buch"),
        ("Amount", "49.00"),
        ("note", "a&b"),
    ]
    assert ipn.payload_hash(pairs) == (
        "86a78cda5ecf44c45c8bc67963abb4e32b2175fb56922aac6c7db42cad9f5301"
    )


def test_payload_hash_ignores_order_and_signature_but_not_values():
    a = [("event", "on_payment"), ("order_id", "X"), ("sha_sign", "AAA")]
    b = [("order_id", "X"), ("SHASIGN", "BBB"), ("event", "on_payment")]
    c = [("order_id", "Y"), ("event", "on_payment")]
    assert ipn.payload_hash(a) == ipn.payload_hash(b)
    assert ipn.payload_hash(a) != ipn.payload_hash(c)


@pytest.mark.parametrize(
    "variant",
    [
        [("event", "on_payment"), ("order_id", "X"), ("x", "")],  # an empty field added
        [("EVENT", "on_payment"), ("Order_Id", "X")],  # key case (upper-case signing variant)
        [("event", "on_payment"), ("order_id", "&#88;")],  # an entity (HTML-decoding variant)
    ],
    ids=["empty-field", "key-case", "entity"],
)
def test_payload_hash_is_the_same_for_every_form_the_same_signature_accepts(variant):
    assert ipn.payload_hash(variant) == ipn.payload_hash(
        [("event", "on_payment"), ("order_id", "X")]
    )


def test_parse_body_keeps_order_blanks_and_plus_as_space():
    pairs = ipn.parse_body(b"z=1&a=&name=J%C3%B6rg+M%C3%BCller&zero=0")
    assert pairs == [("z", "1"), ("a", ""), ("name", "Jörg Müller"), ("zero", "0")]


# Each expected value is what PHP 8.2's parse_str (the parser behind $_POST) makes of the body.
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"&a=1&&b&=x&", [("a", "1"), ("b", "")]),
        (b"=x&=&a=1", [("a", "1")]),
        (b"=a&=b&k=v", [("k", "v")]),  # empty keys are dropped, so never a repeated key
        (b"c=%zz&d=1+2%2B&e=1=2", [("c", "%zz"), ("d", "1 2+"), ("e", "1=2")]),
        (b"%3Dk=v&a=1;b=2", [("=k", "v"), ("a", "1;b=2")]),
    ],
    ids=["empty-fields-and-bare-key", "empty-key", "empty-keys-twice", "escapes", "separators"],
)
def test_parse_body_reads_as_php_does(body, expected):
    assert ipn.parse_body(body) == expected


# Form text built from the characters that matter to the parser: separators, escapes (valid,
# malformed, and of invalid UTF-8), plus signs, NUL and non-ASCII.
_form_text = st.lists(
    st.sampled_from(["&", "=", "+", "%", "%2", "%41", "%C3%B6", "%FF", "%00", "a", "ö", "b=c"]),
    max_size=30,
).map("".join)


@given(_form_text)
def test_parse_body_reads_exactly_what_parse_qsl_reads(text):
    """parse_body splits by hand for speed (it is on every IPN's path); stdlib parse_qsl is the
    reference it must match, errors included."""
    try:
        expected = [
            pair for pair in parse_qsl(text, keep_blank_values=True, errors="strict") if pair[0]
        ]
    except UnicodeDecodeError:
        expected = "not valid UTF-8"
    try:
        got = ipn.parse_body(text.encode())
    except ipn.MalformedIPN as exc:
        got = str(exc)
        if expected != "not valid UTF-8" and got != "form data is not valid UTF-8":
            return  # refused for a reason of its own (repeat, NUL, empty), tested above
    if got == "form data is not valid UTF-8":
        got = "not valid UTF-8"
    assert got == expected


def test_parse_body_counts_fields_not_separators():
    fields = [b"k%d=v" % i for i in range(ipn.MAX_FIELDS)]
    assert len(ipn.parse_body(b"&&".join(fields))) == ipn.MAX_FIELDS
    with pytest.raises(ipn.MalformedIPN, match="more than 1000 parameters"):
        ipn.parse_body(b"&".join([*fields, b"one=more"]))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"a=1&a=2", "parameter 'a' appears more than once"),
        (b"a=1&a", "parameter 'a' appears more than once"),
        (b"a=x%00y", "parameter 'a' contains a NUL character"),
        (b"a=J%F6rg", "form data is not valid UTF-8"),
        (b"a=\xf6", "form data is not valid UTF-8"),
        (b"&&=x&", "no parameters"),
    ],
)
def test_parse_body_refuses_what_php_would_guess_at(body, reason):
    with pytest.raises(ipn.MalformedIPN) as raised:
        ipn.parse_body(body)
    assert str(raised.value) == reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("49.00", Decimal("49.00")),
        ("-12.5", Decimal("-12.5")),
        ("", None),
        ("n/a", None),
        ("NaN", None),
        ("Infinity", None),
        ("1e999", None),
        ("12345678901234567890", None),
        (" 49.00 ", Decimal("49.00")),
        # Digits Decimal() reads, Digistore24 never sends, and a spreadsheet does not sum.
        (in_digits("49.00", ARABIC_INDIC), None),
        (in_digits("49.00", FULLWIDTH), None),
        ("4_9.00", None),
        ("4.9e1", None),
    ],
)
def test_parse_decimal(value, expected):
    assert ipn.parse_decimal(value, max_digits=18, decimal_places=4) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0),
        ("12", 12),
        (" 3 ", 3),
        ("-1", None),
        ("²", None),
        ("1.5", None),
        ("", None),
        ("99999999999", None),
        (in_digits("3", ARABIC_INDIC), None),
        (in_digits("3", FULLWIDTH), None),
        ("1_0", None),
    ],
)
def test_parse_int(value, expected):
    assert ipn.parse_int(value) == expected
