import uuid

from django.db import models
from django.utils import timezone

from connections.client import redact_key
from ds24site.crypto import EncryptedTextField


class Connection(models.Model):
    """A named Digistore24 API key (the integrators' "connection").

    The key is stored encrypted and never shown again after entry: everything displays
    `key_hint` (numeric key id + last 4 characters), kept beside it so that lists need no
    decryption.
    """

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        GERMAN = "de", "German"

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", "Unverified"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Failed"

    class Access(models.TextChoices):
        UNKNOWN = "", "Unknown"
        READ_ONLY = "readonly", "Read-only"
        FULL = "full", "Full access"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100, unique=True)
    api_key = EncryptedTextField()
    key_hint = models.CharField(max_length=32, editable=False)
    language = models.CharField(
        max_length=2,
        choices=Language.choices,
        default=Language.ENGLISH,
        help_text="Language of Digistore24's API messages.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.UNVERIFIED, editable=False
    )
    last_verified = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    # What verification learned about the account behind the key.
    ds24_user_id = models.CharField("Digistore24 user id", max_length=32, blank=True)
    ds24_user_name = models.CharField("Digistore24 user name", max_length=100, blank=True)
    granted_roles = models.CharField(max_length=255, blank=True)
    access = models.CharField(
        max_length=10,
        choices=Access.choices,
        blank=True,
        editable=False,
        help_text="Learned from calls: a refused write means read-only, an accepted one full.",
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def set_key(self, api_key: str) -> None:
        """Replace the key; what was learned about the old one no longer holds."""
        self.api_key = api_key.strip()
        self.key_hint = redact_key(self.api_key)
        self.status = self.Status.UNVERIFIED
        self.access = self.Access.UNKNOWN
        self.last_error = ""
