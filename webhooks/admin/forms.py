"""The webhook form: its event choices, and the passphrase with a Copy button."""

from django import forms
from django.utils.html import format_html

from webhooks import ipn
from webhooks.models import Webhook


class CopyableTextInput(forms.TextInput):
    """A text input with a Copy button next to it (for the passphrase)."""

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        element_id = (attrs or {}).get("id", f"id_{name}")
        button = format_html(
            ' <button type="button" class="button" data-copy-from="{}">Copy</button>', element_id
        )
        return html + button


class WebhookForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        # Connection tests are always stored (marked as tests), so they are not a choice.
        choices=ipn.event_choices(name for name in ipn.KNOWN_EVENTS if name != ipn.CONNECTION_TEST),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Left empty, the kind's defaults are used. Ignored for 'All events'.",
    )

    class Meta:
        model = Webhook
        fields = [
            "name",
            "kind",
            "connection",
            "events",
            "product_ids",
            "passphrase",
            "accept_unsigned",
            "active",
        ]
        widgets = {
            "passphrase": CopyableTextInput(attrs={"size": 64, "autocomplete": "off"}),
        }

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind and not cleaned.get("events"):
            cleaned["events"] = list(ipn.KIND_DEFAULT_EVENTS[kind])
        return cleaned
