"""Properties of the IPN form parser (webhooks.ipn.parse_body): whatever the bytes, it returns
pairs that can be signed and stored or refuses with MalformedIPN (the receiver's 400); a form
encoded by any standard encoder reads back to the pairs encoded; and it reads empty fields,
bare keys and empty keys as PHP's parser does, refusing only where PHP would guess.
"""

import string
from urllib.parse import quote, urlencode

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import PROPERTIES
from webhooks.ipn import MAX_FIELDS, MalformedIPN, parse_body

profile = hypothesis.settings.get_profile(PROPERTIES)

# Everything a form can carry but NUL (refused) and lone surrogates (not encodable), with the
# characters that mean something to the encoding over-represented.
text_chars = st.one_of(
    st.sampled_from("&=+%;# ?./\\[]\"'é€\U0001f600"),
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
)
keys = st.text(alphabet=text_chars, min_size=1, max_size=10)
values = st.text(alphabet=text_chars, max_size=12)
pair_lists = st.dictionaries(keys, values, min_size=1, max_size=10).map(lambda d: list(d.items()))
# Form bodies as an attacker would write them: separators, escapes (valid, truncated, not
# UTF-8, an encoded NUL or surrogate) and raw bytes, in any order. Mostly text that decodes,
# so that most bodies get past the UTF-8 check to the rules after it.
text_fragments = st.sampled_from(
    [b"&", b"=", b"+", b"%", b"%2", b"%zz", b"%41", b"%c3%a9", b"\xc3\xa9", b";", b"a", b"b",
     b"sha_sign", b" ", b"[]"]
)  # fmt: skip
byte_fragments = st.one_of(
    st.sampled_from([b"%00", b"\x00", b"%ff", b"\xff", b"%c3", b"%ED%A0%80", b"\xed\xa0\x80"]),
    st.binary(max_size=6),
)
hostile_bodies = st.one_of(
    st.lists(text_fragments, max_size=30).map(b"".join),
    st.lists(st.one_of(text_fragments, byte_fragments), max_size=30).map(b"".join),
)
encoders = {
    "quote_plus": lambda pairs: urlencode(pairs),
    "quote": lambda pairs: urlencode(pairs, quote_via=quote),
    "all-escaped": lambda pairs: urlencode(pairs, quote_via=lambda s, *_: quote(s, safe="")),
}


def well_formed(pairs) -> None:
    """What the receiver relies on in anything parse_body returns."""
    assert pairs and len(pairs) <= MAX_FIELDS
    assert all(type(key) is str and type(value) is str for key, value in pairs)
    assert all(key for key, _ in pairs)
    assert len({key for key, _ in pairs}) == len(pairs)  # one value per key: one signature
    for key, value in pairs:
        assert "\x00" not in key + value  # PostgreSQL stores no NUL
        (key + value).encode()  # no lone surrogate: can be hashed, stored and shown


@profile
@given(body=st.one_of(hostile_bodies, st.binary(max_size=200)))
def test_any_bytes_give_well_formed_pairs_or_the_documented_refusal(body):
    try:
        pairs = parse_body(body)
    except MalformedIPN as refusal:
        assert str(refusal) and "\n" not in str(refusal)  # one line, for the answer and the log
        return
    well_formed(pairs)


@profile
@given(pairs=pair_lists, encoder=st.sampled_from(list(encoders)))
def test_an_encoded_form_reads_back_to_its_pairs(pairs, encoder):
    # Decoded exactly once: a value holding "%41" or "+" comes back as "%41" and "+".
    assert parse_body(encoders[encoder](pairs).encode()) == pairs


@profile
@given(
    pairs=pair_lists,
    bare=st.lists(keys, max_size=3),
    nameless=st.lists(values, max_size=3),
    data=st.data(),
)
def test_empty_fields_bare_keys_and_empty_keys_read_as_php_reads_them(pairs, bare, nameless, data):
    # PHP's parse_str skips empty fields (a stray, doubled, leading or trailing &), gives a key
    # without "=" the empty value and drops a field without a key ("=v").
    bare = [key for key in dict.fromkeys(bare) if key not in dict(pairs)]
    fields = [(urlencode([pair]), pair) for pair in pairs]
    fields += [(quote(key, safe=""), (key, "")) for key in bare]
    fields += [("=" + quote(value, safe=""), None) for value in nameless]
    fields = data.draw(st.permutations(fields))
    # Each field after an "&" and up to three more; some before the first and after the last.
    gaps = data.draw(st.lists(st.integers(0, 3), min_size=len(fields), max_size=len(fields)))
    body = "".join("&" * gap + field + "&" for gap, (field, _) in zip(gaps, fields, strict=True))
    body = body.removeprefix("&" * data.draw(st.integers(0, 1)))
    expected = [pair for _, pair in fields if pair is not None]
    assert parse_body(body.encode()) == expected  # in the order received


@profile
@given(pairs=pair_lists, value=values, bare=st.booleans(), data=st.data())
def test_a_repeated_key_is_refused_whatever_its_values(pairs, value, bare, data):
    # PHP keeps the last of them, so which one was signed is ambiguous.
    key = data.draw(st.sampled_from([key for key, _ in pairs]))
    again = quote(key, safe="") if bare else urlencode([(key, value)])
    position = data.draw(st.integers(0, len(pairs)))
    fields = [urlencode([pair]) for pair in pairs]
    fields.insert(position, again)
    with pytest.raises(MalformedIPN, match="appears more than once"):
        parse_body("&".join(fields).encode())


@profile
@given(pairs=pair_lists, nul=st.sampled_from(["%00", "\x00"]), in_key=st.booleans(), data=st.data())
def test_a_nul_anywhere_is_refused(pairs, nul, in_key, data):
    index = data.draw(st.integers(0, len(pairs) - 1))
    fields = [urlencode([pair]) for pair in pairs]
    key, value = fields[index].split("=", 1)
    at = data.draw(st.integers(0, len(key if in_key else value)))
    if in_key:
        key = key[:at] + nul + key[at:]
    else:
        value = value[:at] + nul + value[at:]
    fields[index] = f"{key}={value}"
    with pytest.raises(MalformedIPN):
        parse_body("&".join(fields).encode())


@profile
@given(
    pairs=pair_lists,
    # Each is invalid wherever it lands, also next to an escape of the body's own.
    invalid=st.sampled_from([b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf5\x80\x80\x80"]),
    escaped=st.booleans(),
    data=st.data(),
)
def test_anything_that_is_not_utf8_is_refused(pairs, invalid, escaped, data):
    # Raw or percent-encoded: decoded once as UTF-8 either way, never guessed at as Latin-1.
    body = urlencode(pairs).encode()
    at = data.draw(st.integers(0, len(body)))
    bad = quote(invalid).encode() if escaped else invalid
    hypothesis.assume(not (escaped and body[:at].endswith(b"%")))  # "%" + "%ff" is "%%ff"
    with pytest.raises(MalformedIPN, match="not valid UTF-8"):
        parse_body(body[:at] + bad + body[at:])


@profile
@given(count=st.integers(MAX_FIELDS - 5, MAX_FIELDS + 5), empty=st.integers(0, 5))
def test_at_most_max_fields_parameters_counting_fields_not_separators(count, empty):
    body = "&".join([f"k{i}=v" for i in range(count)] + [""] * empty).encode()
    if count <= MAX_FIELDS:
        assert len(parse_body(body)) == count
    else:
        with pytest.raises(MalformedIPN, match=f"more than {MAX_FIELDS} parameters"):
            parse_body(body)


@profile
@given(
    key=st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=8),
    value=st.lists(
        st.sampled_from(["%", "%4", "%G1", "%zz", "%%", "%41", "%7e", "x", "Z", "2", "-", "~"]),
        max_size=8,
    ).map("".join),
)
def test_a_malformed_escape_stays_as_it_is(key, value):
    # PHP's urldecode leaves a "%" without two hex digits alone; so does this, and decodes the
    # valid escapes around it.
    [(parsed_key, parsed_value)] = parse_body(f"{key}={value}".encode())
    assert parsed_key == key
    expected, rest = "", value
    while rest:
        if rest[0] == "%" and len(rest) >= 3 and all(c in string.hexdigits for c in rest[1:3]):
            expected, rest = expected + chr(int(rest[1:3], 16)), rest[3:]
        else:
            expected, rest = expected + rest[0], rest[1:]
    assert parsed_value == expected
