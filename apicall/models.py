import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.db import models
from django.utils import timezone

from apicall import rules


class ApiCall(models.Model):
    """One call made from the API-call console (browser or REST API): who, what was sent, what
    came back. Append-only; pruned by `pruneapicalls`.

    Holds what a user typed and what Digistore24 answered, so every text is untrusted: shown
    escaped, never interpreted. It never holds the API key: the key is added by the client and
    not recorded, secret-looking headers and parameters are stored as "[redacted]", and any
    occurrence of the key's text is replaced before saving (`apicall.services.apicall_record`).
    Request and response bodies are cut to the console's caps.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    # Who: a signed-in user, or an API token (and its user).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    token = models.ForeignKey(
        "api.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, verbose_name="API token"
    )
    # The name is copied so the history still says which key was used after it is deleted.
    connection = models.ForeignKey(
        "connections.Connection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
    )
    connection_name = models.CharField(max_length=100)
    # The request
    function = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255, help_text="The URL path the request went to.")
    query = models.JSONField(default=list, blank=True, help_text="[name, value] pairs.")
    request_headers = models.JSONField(default=list, blank=True, help_text="[name, value] pairs.")
    request_body = models.TextField(blank=True, help_text="name=value lines, or a JSON object.")
    is_write = models.BooleanField("write", default=False)
    # The answer
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: no answer.")
    duration_ms = models.PositiveIntegerField("duration (ms)", null=True, blank=True)
    response_headers = models.JSONField(default=list, blank=True, help_text="[name, value] pairs.")
    response_body = models.TextField(blank=True)
    response_truncated = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "API call"
        permissions = [("use_console", "Can run API calls")]
        indexes = [
            # The history, newest first; and pruneapicalls' created < cutoff.
            models.Index(fields=["-created", "-id"], name="apicall_created"),
            # Admin filters, each newest first. Also serve SET_NULL when a user or a
            # connection is deleted (the token's own foreign key index does that for tokens).
            models.Index(fields=["connection", "-created", "-id"], name="apicall_connection"),
            models.Index(fields=["user", "-created", "-id"], name="apicall_user"),
            models.Index(fields=["function", "-created", "-id"], name="apicall_function"),
            # The status class filter is a range (400 <= status < 500) or IS NULL: a rare class
            # is found here and sorted; a common one is read from apicall_created and filtered.
            models.Index(fields=["status", "-created"], name="apicall_status"),
        ]

    def __str__(self):
        return f"{self.method} {self.function} ({self.status or 'no answer'})"

    @property
    def url(self) -> str:
        """The URL relative to the API base, as the console's form takes it."""
        query = urlencode([tuple(pair) for pair in self.query])
        return f"{self.function}?{query}" if query else self.function

    def rerun_initial(self) -> dict:
        """The console form's initial data for "Run again": the same request, to be sent only
        when the user submits it. Redacted values stay "[redacted]" for the user to re-enter."""
        return {
            # The instance, which a ModelChoiceField shows by pk or by its to_field_name.
            "connection": self.connection,
            "method": self.method,
            "url": self.url,
            "headers": rules.headers_text([tuple(pair) for pair in self.request_headers]),
            "body": self.request_body,
        }


class ApiConsole(ApiCall):
    """The API-call console's own entry in the admin index, beside the history: a proxy with no
    table and no permissions of its own (the console is guarded by apicall.use_console)."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "API console"
        default_permissions = ()
