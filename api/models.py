import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "ds24_"


def token_digest(token: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 is enough: there is nothing to guess.
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def for_token(self, token: str):
        """The token row for a presented token, or None. Looks up the digest only."""
        try:
            return self.select_related("user").get(digest=token_digest(token))
        except self.model.DoesNotExist:
            return None


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 digest is stored; the token itself is
    shown once, when it is made. Read-only unless `writable`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'CRM sync'.")
    prefix = models.CharField(max_length=16, editable=False, help_text="Its first characters.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    writable = models.BooleanField(
        default=False, help_text="Also allow requests that change data (none exist yet)."
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def issue(self) -> str:
        """Give the token a new secret value and return it: the only time it is seen."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.prefix = token[: len(TOKEN_PREFIX) + 6]
        self.digest = token_digest(token)
        return token

    @property
    def active(self) -> bool:
        return self.revoked is None and self.user.is_active
