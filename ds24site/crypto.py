"""Encryption at rest for stored secrets (webhook passphrases, API keys).

Fernet (AES-128-CBC + HMAC-SHA256) under the keys in settings.FIELD_ENCRYPTION_KEY. The first
key encrypts; every key decrypts, so a key is rotated by putting a new one first, running
`rotatekeys`, then removing the old one.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@cache
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY is not set; generate one with `python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
        )
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be comma-separated url-safe base64 Fernet keys "
            "(32 bytes each)"
        ) from exc


def fernet() -> MultiFernet:
    # Keyed on the setting's value, so override_settings in tests takes effect.
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEY))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "a stored secret cannot be decrypted: FIELD_ENCRYPTION_KEY lacks the key it was "
            "encrypted with"
        ) from None


def reencrypt(token: str) -> str:
    """The same secret encrypted under the newest key (for `rotatekeys`)."""
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column whose value is stored Fernet-encrypted; Python code sees plaintext.

    The empty string is stored as-is so that "no secret" stays cheap to test for in SQL.
    Encrypted values cannot be searched or compared in the database.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
