"""Encryption at rest for stored secrets (webhook passphrases, API keys).

Fernet (AES-128-CBC + HMAC-SHA256) under the keys in settings.FIELD_ENCRYPTION_KEY. The first
key encrypts; every key decrypts, so a key is rotated by putting a new one first, running
`rotatekeys`, then removing the old one.
"""

from functools import cache, lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.query_utils import DeferredAttribute


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
    return _decrypt(tuple(settings.FIELD_ENCRYPTION_KEY), token)


@lru_cache(maxsize=1024)
def _decrypt(keys: tuple[str, ...], token: str) -> str:
    """A ciphertext always decrypts to the same plaintext under the same keys, and the receiver
    decrypts its webhook's passphrase for every delivery: a Fernet decryption (HMAC, AES,
    base64) cost more than the rest of the webhook's lookup. Keyed on the keys too, so a
    changed FIELD_ENCRYPTION_KEY decrypts afresh (and fails where it must); a failure is
    never cached. Plaintexts stay in the process's memory, where they are while used anyway."""
    try:
        return _fernet_for(keys).decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "a stored secret cannot be decrypted: FIELD_ENCRYPTION_KEY lacks the key it was "
            "encrypted with"
        ) from None


def reencrypt(token: str) -> str:
    """The same secret encrypted under the newest key (for `rotatekeys`)."""
    return fernet().rotate(token.encode()).decode()


class Sealed:
    """A secret as loaded from the database: its ciphertext, decrypted only when asked for.

    Loading rows never needs the key, so a lost or wrong FIELD_ENCRYPTION_KEY breaks only what
    uses a secret (verifying an IPN, calling Digistore24, signing a forwarded event), not every
    page that lists rows. `values()` and `values_list()` of an encrypted column give these.
    """

    __slots__ = ("token",)

    def __init__(self, token: str):
        self.token = token

    def reveal(self) -> str:
        return decrypt(self.token)

    def __repr__(self):
        return "<Sealed secret>"  # never the ciphertext: it is no one's business either


class DecryptOnAccess(DeferredAttribute):
    """The model attribute of an EncryptedTextField: the first read decrypts the loaded
    ciphertext and keeps the plaintext on the instance, so a secret costs one decryption per
    loaded row, and only if it is used. A data descriptor (it has __set__), so that every read
    passes through here rather than straight to the instance's __dict__."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            value = instance.__dict__[self.field.attname] = value.reveal()
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """A text column whose value is stored Fernet-encrypted; Python code sees plaintext,
    decrypted on first use (DecryptOnAccess), so DecryptionError comes from reading the
    attribute, not from the query.

    The empty string is stored as-is so that "no secret" stays cheap to test for in SQL.
    Encrypted values cannot be searched or compared in the database.
    """

    descriptor_class = DecryptOnAccess

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return Sealed(value)

    def pre_save(self, model_instance, add):
        # The value as it is, not through the descriptor: an untouched secret is written back
        # as the same ciphertext, so saving a row needs no key.
        return model_instance.__dict__[self.attname]

    def get_prep_value(self, value):
        if isinstance(value, Sealed):
            return value.token
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


def reveal_value(value):
    """The plaintext of a value as loaded (Sealed), or the value itself if it is not sealed."""
    return value.reveal() if isinstance(value, Sealed) else value


def stored_text(instance, name: str):
    """A loaded row's secret as the database holds it (its ciphertext), before it is revealed."""
    value = instance.__dict__[instance._meta.get_field(name).attname]
    return value.token if isinstance(value, Sealed) else value


def reveal(instance, *names: str) -> None:
    """Decrypt these secrets of a loaded row now, so that a DecryptionError surfaces here, where
    the caller handles it, rather than at the first use further on."""
    for name in names:
        getattr(instance, name)
