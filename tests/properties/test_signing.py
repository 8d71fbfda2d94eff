"""Properties of sha_sign (webhooks/signing.py) that follow from the algorithm Digistore24's PHP
function implements (shared/digistore24.md §2.1; tests/payloads/php/make_signatures.php): the
pairs are sorted before hashing, `sha_sign`/`SHASIGN` and empty values are left out, every
signed character of a value and of the passphrase is in the hashed message, and the documented
variants (upper-cased keys, HTML-decoded values) are the plain signature of transformed pairs.
The last group starts from the sets PHP itself signed, so the properties are anchored to PHP's
output rather than to our own signer.
"""

import json
import string
from pathlib import Path

import hypothesis
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import PROPERTIES
from webhooks.php_html import html_entity_decode
from webhooks.signing import signature, verify

profile = hypothesis.settings.get_profile(PROPERTIES)

FIXTURE = json.loads(
    (Path(__file__).parent.parent / "payloads" / "php" / "signatures.json").read_text()
)
PHP_SETS = FIXTURE["sets"]
PHP_PASSPHRASE = FIXTURE["passphrase"]
VARIANTS = {
    "plain": {"uppercase_keys": False, "html_decode": False},
    "uppercase_keys": {"uppercase_keys": True, "html_decode": False},
    "html_decode": {"uppercase_keys": False, "html_decode": True},
    "uppercase_keys_html_decode": {"uppercase_keys": True, "html_decode": True},
}
# Variants in which every character of a value reaches the hash. HTML decoding maps several
# spellings to one character (`&#x41;`, `&#X41;` and `A` all sign as "A"), as PHP's does.
RAW_VARIANTS = ["plain", "uppercase_keys"]
SIGNATURE_KEYS = ("sha_sign", "SHASIGN")
ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)

# Text the parser can hand over: any Unicode but lone surrogates (parse_body refuses those).
unicode_text = st.characters(blacklist_categories=("Cs",))
# Keys are biased towards ones that sort close together and upper-case alike (`t`, `T`, `_t`,
# `_T`), where the tie-breaking of PHP's array_multisort decides the order; some are non-ASCII,
# which PHP's strtoupper leaves alone.
keys = st.one_of(
    st.text(alphabet="tT_", min_size=1, max_size=2),
    st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=12),
    st.text(alphabet=unicode_text, min_size=1, max_size=6),
).filter(lambda key: key not in SIGNATURE_KEYS)
# Values include "0" (signed: not empty), "" (skipped with its key) and HTML references.
values = st.one_of(
    st.sampled_from(["", "0", " ", "&amp;", "&lt;3", "&#65;", "&#x41;", "&copy", "&apos;"]),
    st.text(alphabet=unicode_text, max_size=12),
    st.text(alphabet="&#;xX0aml1Ap ", max_size=10),
)
pair_lists = st.dictionaries(keys, values, max_size=8).map(lambda params: list(params.items()))
signed_pair_lists = pair_lists.filter(lambda pairs: any(value for _, value in pairs))
passphrases = st.text(alphabet=unicode_text, min_size=1, max_size=20)
variants = st.sampled_from(list(VARIANTS))


@st.composite
def one_character_changed(draw, text: str) -> str:
    """`text` with one character replaced, inserted or deleted: always a different string."""
    position = draw(st.integers(0, len(text)))
    edit = draw(st.sampled_from(["insert", "replace", "delete"] if text else ["insert"]))
    if edit != "insert":
        position = min(position, len(text) - 1)
    if edit == "delete":
        return text[:position] + text[position + 1 :]
    # White space and letter case first: what a careless normalisation would lose.
    other = draw(st.one_of(st.sampled_from(" \t\nAa0&;"), unicode_text))
    if edit == "replace":
        hypothesis.assume(other != text[position])
        return text[:position] + other + text[position + 1 :]
    return text[:position] + other + text[position:]


@profile
@given(pairs=pair_lists, variant=variants, data=st.data())
def test_the_order_the_pairs_arrive_in_does_not_matter(pairs, variant, data):
    # PHP signs a sorted array, ties between keys that upper-case alike included.
    shuffled = data.draw(st.permutations(pairs))
    assert signature(shuffled, "pass", **VARIANTS[variant]) == signature(
        pairs, "pass", **VARIANTS[variant]
    )


@profile
@given(
    pairs=pair_lists,
    empty_keys=st.lists(keys, max_size=3),
    received=st.lists(st.tuples(st.sampled_from(SIGNATURE_KEYS), values), max_size=2),
    variant=variants,
    data=st.data(),
)
def test_empty_values_and_the_signature_fields_are_not_signed(
    pairs, empty_keys, received, variant, data
):
    present = {key for key, _ in pairs}
    extra = [(key, "") for key in dict.fromkeys(empty_keys) if key not in present]
    padded = data.draw(st.permutations([*pairs, *extra, *received]))
    assert signature(padded, "pass", **VARIANTS[variant]) == signature(
        pairs, "pass", **VARIANTS[variant]
    )


@profile
@given(pairs=pair_lists, key=keys, value=values.filter(bool), variant=st.sampled_from(RAW_VARIANTS))
def test_every_non_empty_value_is_signed(pairs, key, value, variant):
    # "0" and " " count: PHP skips only null, false and "".
    hypothesis.assume(key not in {k for k, _ in pairs})
    assert signature([*pairs, (key, value)], "pass", **VARIANTS[variant]) != signature(
        pairs, "pass", **VARIANTS[variant]
    )


@profile
@given(pairs=signed_pair_lists, variant=st.sampled_from(RAW_VARIANTS), data=st.data())
def test_any_one_character_change_of_a_value_changes_the_signature(pairs, variant, data):
    index = data.draw(st.integers(0, len(pairs) - 1))
    key, value = pairs[index]
    changed = [*pairs[:index], (key, data.draw(one_character_changed(value))), *pairs[index + 1 :]]
    assert signature(changed, "pass", **VARIANTS[variant]) != signature(
        pairs, "pass", **VARIANTS[variant]
    )


@profile
@given(pairs=signed_pair_lists, passphrase=passphrases, variant=variants, data=st.data())
def test_any_one_character_change_of_the_passphrase_changes_the_signature(
    pairs, passphrase, variant, data
):
    # The passphrase follows every signed pair, so it is in the message whenever anything is.
    # (With nothing signed the message is empty: verify refuses that, below.)
    other = data.draw(one_character_changed(passphrase))
    assert signature(pairs, other, **VARIANTS[variant]) != signature(
        pairs, passphrase, **VARIANTS[variant]
    )
    signed = dict([*pairs, ("sha_sign", signature(pairs, passphrase, **VARIANTS[variant]))])
    assert verify(signed, passphrase)
    assert not verify(signed, other)


@profile
@given(pairs=pair_lists, passphrase=passphrases, received=st.text(max_size=130))
def test_a_payload_with_nothing_signed_never_verifies(pairs, passphrase, received):
    unsigned = [(key, "") for key, _ in pairs]
    for sha_sign in (received, signature(unsigned, passphrase)):
        assert not verify(dict([*unsigned, ("sha_sign", sha_sign)]), passphrase)


@profile
@given(pairs=pair_lists)
def test_uppercase_keys_signs_the_keys_as_php_strtoupper_leaves_them(pairs):
    # strtoupper changes a-z only; where two keys then coincide, their order is decided by the
    # keys as sent, which an upper-cased pair list cannot express.
    upper = [(key.translate(ASCII_UPPER), value) for key, value in pairs]
    hypothesis.assume(len({key for key, _ in upper}) == len(upper))
    assert signature(pairs, "pass", uppercase_keys=True) == signature(upper, "pass")
    # So the variant does not care how the keys were written.
    lower = [(key.lower() if key.isascii() else key, value) for key, value in pairs]
    hypothesis.assume(len({key for key, _ in lower}) == len(lower))
    assert signature(lower, "pass", uppercase_keys=True) == signature(
        pairs, "pass", uppercase_keys=True
    )


@profile
@given(pairs=pair_lists, uppercase_keys=st.booleans())
def test_html_decode_signs_the_values_as_php_decodes_them(pairs, uppercase_keys):
    # Decoded before the emptiness test, like the official function; html_entity_decode itself
    # is checked against PHP's output in tests/webhooks/test_php_html.py.
    decoded = [(key, html_entity_decode(value)) for key, value in pairs]
    assert signature(pairs, "pass", uppercase_keys=uppercase_keys, html_decode=True) == (
        signature(decoded, "pass", uppercase_keys=uppercase_keys)
    )


@profile
@given(
    pairs=signed_pair_lists,
    passphrase=passphrases,
    variant=variants,
    field=st.sampled_from(SIGNATURE_KEYS),
    spelling=st.sampled_from([str.upper, str.lower, lambda sig: f" {sig}\n"]),
)
def test_verify_accepts_every_documented_variant_however_the_digest_is_written(
    pairs, passphrase, variant, field, spelling
):
    received = spelling(signature(pairs, passphrase, **VARIANTS[variant]))
    assert verify(dict([*pairs, (field, received)]), passphrase)


@profile
@given(pairs=signed_pair_lists, passphrase=passphrases, variant=variants, data=st.data())
def test_verify_refuses_any_one_character_change_of_the_digest(pairs, passphrase, variant, data):
    digest = signature(pairs, passphrase, **VARIANTS[variant])
    changed = data.draw(one_character_changed(digest))
    hypothesis.assume(changed.strip().upper() != digest)  # a change of letter case is no change
    assert not verify(dict([*pairs, ("sha_sign", changed)]), passphrase)


# --- anchored to PHP's own signatures -----------------------------------------------------------

php_sets = st.sampled_from(PHP_SETS)


@profile
@given(signed=php_sets, variant=variants, data=st.data())
def test_php_signed_sets_sign_the_same_however_they_arrive(signed, variant, data):
    params = signed["params"]
    empty = data.draw(st.lists(keys.filter(lambda key: key not in params), max_size=3))
    arrived = data.draw(
        st.permutations([*params.items(), *((key, "") for key in dict.fromkeys(empty))])
    )
    expected = signed["signatures"][variant]
    assert signature(arrived, PHP_PASSPHRASE, **VARIANTS[variant]) == expected
    assert verify(dict([*arrived, ("sha_sign", expected)]), PHP_PASSPHRASE)


@profile
@given(signed=php_sets, variant=st.sampled_from(RAW_VARIANTS), data=st.data())
def test_php_signed_sets_do_not_verify_after_any_one_character_change(signed, variant, data):
    params = dict(signed["params"])
    key = data.draw(st.sampled_from(sorted(params)))
    params[key] = data.draw(one_character_changed(params[key]))
    expected = signed["signatures"][variant]
    assert not verify({**params, "sha_sign": expected}, PHP_PASSPHRASE)
    passphrase = data.draw(one_character_changed(PHP_PASSPHRASE))
    assert not verify({**signed["params"], "sha_sign": expected}, passphrase)
