import re
import time

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from connections.models import Connection
from connections.services import connection_check, connection_verify
from ds24site.admin_tools import ObjectActionsMixin, SafeChangeListMixin

KEY_FORMAT = re.compile(r"[0-9]+-[A-Za-z0-9]{8,200}")  # ASCII: `\d` takes any script's digits


def api_key_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "size": 60}),
        help_text="Digistore24: Settings > Account access > API keys. Shown here never again.",
    )


def clean_api_key(value: str) -> str:
    if not KEY_FORMAT.fullmatch(value):
        raise forms.ValidationError(
            "That does not look like a Digistore24 API key (digits, a dash, then letters and "
            "digits, e.g. 123-AbC…)."
        )
    return value


class ConnectionAddForm(forms.ModelForm):
    api_key = api_key_field("API key")

    class Meta:
        model = Connection
        fields = ["name", "api_key", "language"]

    def clean_api_key(self):
        return clean_api_key(self.cleaned_data["api_key"])

    def clean(self):
        """Try the key before anything is stored: one Digistore24 does not know is a form
        error, with the rest of the input kept. Other failures (Digistore24 unreachable) do
        not stop the save; the connection is kept as not verified, with the reason."""
        cleaned = super().clean()
        if self.errors:
            return cleaned
        self.instance.set_key(cleaned["api_key"])
        self.instance.language = cleaned.get("language") or self.instance.language
        self.verification = connection_check(connection=self.instance)
        if self.verification.key_rejected:
            self.add_error("api_key", self.verification.message)
        return cleaned


class ConnectionChangeForm(forms.ModelForm):
    class Meta:
        model = Connection
        fields = ["name", "language"]


class RenewKeyForm(forms.Form):
    api_key = api_key_field("New API key")

    def clean_api_key(self):
        return clean_api_key(self.cleaned_data["api_key"])


# What Verify records, shown read-only on the change page.
VERIFICATION_FIELDS = [
    "status_badge",
    "last_verified",
    "last_error",
    "ds24_user_id",
    "ds24_user_name",
    "granted_roles",
    "access",
]


@admin.register(Connection)
class ConnectionAdmin(SafeChangeListMixin, ObjectActionsMixin, admin.ModelAdmin):
    list_display = ["name", "key_hint", "status_badge", "ds24_user_name", "access", "last_verified"]
    list_filter = ["status", "access"]
    search_fields = ["name", "ds24_user_name"]
    list_select_related = []
    readonly_fields = ["key_hint", *VERIFICATION_FIELDS, "created", "updated"]
    actions = ["verify_selected"]
    change_form_template = "admin/connections/connection/change_form.html"

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ConnectionChangeForm if obj else ConnectionAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["name", "api_key", "language"]})]
        return [
            (None, {"fields": ["name", "key_hint", "language"]}),
            ("Verification", {"fields": VERIFICATION_FIELDS}),
            ("Record", {"fields": ["created", "updated"]}),
        ]

    def save_model(self, request, obj, form, change):
        # A new key was tried by the form; the outcome is saved with the connection.
        super().save_model(request, obj, form, change)
        if not change:
            self._report(request, obj, form.verification)

    def response_add(self, request, obj, post_url_continue=None):
        # Django adds "was added successfully"; when the key did not verify, the error alone
        # says what happened (a green message beside a red one reads as "all fine").
        if obj.status != Connection.Status.VERIFIED:
            return redirect(reverse("admin:connections_connection_change", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    @admin.display(description="Status")
    def status_badge(self, connection):
        css = {"verified": "receiving", "failed": "rejecting"}.get(connection.status, "silent")
        return format_html(
            '<span class="ds24-badge {}">{}</span>', css, connection.get_status_display()
        )

    def _report(self, request, connection, outcome):
        level = messages.SUCCESS if outcome.ok else messages.ERROR
        self.message_user(request, f"{connection.name}: {outcome.message}", level)

    @admin.action(description="Verify selected connections", permissions=["change"])
    def verify_selected(self, request, queryset):
        # Each verification has the interactive budget, but all of them share one request: once
        # that budget has gone by, the rest waits, or a hanging Digistore24 would hold the page
        # (and the web worker) for a budget per connection.
        deadline = time.monotonic() + settings.DS24_API_INTERACTIVE_BUDGET
        skipped = []
        for connection in queryset:
            if time.monotonic() >= deadline:
                skipped.append(connection.name)
                continue
            self._report(request, connection, connection_verify(connection=connection))
        if skipped:
            self.message_user(
                request,
                f"Not verified, to answer in time: {', '.join(skipped)}. Verify them again.",
                messages.WARNING,
            )

    def get_urls(self):
        return [
            *self.object_urls(
                ("verify", "verify", self.verify_view),
                ("renew-key", "renew", self.renew_key_view),
            ),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    def verify_view(self, request, object_id):
        connection = self.changeable_object(request, object_id)
        self._report(request, connection, connection_verify(connection=connection))
        return redirect(reverse("admin:connections_connection_change", args=[connection.pk]))

    def renew_key_view(self, request, object_id):
        """Replace the key (as when Digistore24 asks for reauthorisation), then verify it."""
        connection = self.changeable_object(request, object_id)
        form = RenewKeyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            connection.set_key(form.cleaned_data["api_key"])
            connection.save()
            self.log_change(request, connection, "Renewed the API key")
            self._report(request, connection, connection_verify(connection=connection))
            return redirect(reverse("admin:connections_connection_change", args=[connection.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Renew the API key of {connection.name}",
            "form": form,
            "opts": self.opts,
            "original": connection,
        }
        return TemplateResponse(request, "admin/connections/connection/renew_key.html", context)
