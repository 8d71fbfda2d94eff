"""Digistore24's IPN signature (`sha_sign`), per shared/digistore24.md §2.

SHA-512 over `key=value<passphrase>` for every parameter with a non-empty value, keys sorted by
their bytes (PHP SORT_STRING), upper-case hex. Live accounts sign with the keys as sent; the
official signing function can also upper-case the keys and HTML-decode the values (its older
example always decoded), so those variants are accepted too. Each still needs the passphrase,
so accepting them costs no security. Both variants use PHP's functions (strtoupper,
html_entity_decode) exactly: tests/payloads/php/signatures.json was signed by PHP.
"""

import hashlib
import hmac
import re
import string
from collections.abc import Iterable

from webhooks.php_html import html_entity_decode

SIGNATURE_KEYS = frozenset({"sha_sign", "SHASIGN"})
# PHP's strtoupper changes ASCII letters only; str.upper would also turn "ü" into "Ü".
_PHP_STRTOUPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
# The form of Digistore24's signatures: SHA-512 in hex.
_SIGNATURE_FORM = re.compile(r"[0-9A-Fa-f]{128}")


def signature(
    params: Iterable[tuple[str, str]],
    passphrase: str,
    *,
    uppercase_keys: bool = False,
    html_decode: bool = False,
) -> str:
    """The signature Digistore24 computes over `params` (pairs; sha_sign/SHASIGN ignored)."""
    items = []
    for key, value in params:
        if key in SIGNATURE_KEYS:
            continue
        if html_decode:
            value = html_entity_decode(value)  # PHP decodes before its emptiness test
        if value == "":
            continue  # empty values are skipped with their key; "0" is not empty
        items.append((key.translate(_PHP_STRTOUPPER) if uppercase_keys else key, key, value))
    # PHP's array_multisort orders by the keys signed and breaks ties by the keys as sent, both
    # by their bytes; UTF-8 keeps code point order, so comparing the str tuples is the same.
    items.sort()
    message = "".join(f"{signed_key}={value}{passphrase}" for signed_key, _, value in items)
    return hashlib.sha512(message.encode()).hexdigest().upper()


def received_signature(params: dict[str, str]) -> str:
    return params.get("sha_sign") or params.get("SHASIGN") or ""


def looks_signed(params: dict[str, str]) -> bool:
    """Whether the parameters carry a signature of the form Digistore24's have, right or
    wrong. Junk posts rarely do; a forger has to know the format."""
    return bool(_SIGNATURE_FORM.fullmatch(received_signature(params).strip()))


def verify(params: dict[str, str], passphrase: str) -> bool:
    """True when the request's sha_sign matches `passphrase`; fails closed on either missing."""
    # Bytes, because compare_digest refuses non-ASCII str and the value is untrusted input.
    received = received_signature(params).strip().upper().encode()
    if not received or not passphrase:
        return False
    if not any(value for key, value in params.items() if key not in SIGNATURE_KEYS):
        return False  # nothing is signed: the digest would not depend on the passphrase
    pairs = params.items()
    variants = [(False, False), (True, False)]
    if any("&" in value for value in params.values()):  # only then can decoding matter
        variants += [(False, True), (True, True)]
    # Each comparison takes constant time. Stopping at the first match (the keys as sent, in
    # practice) only tells which variant a sender used who already knows the passphrase; a
    # forged signature is compared with every variant, so its time does not depend on it.
    return any(
        hmac.compare_digest(
            received,
            signature(pairs, passphrase, uppercase_keys=upper, html_decode=decode).encode(),
        )
        for upper, decode in variants
    )
