"""What to enter in Digistore24's IPN form for a webhook (shared/digistore24.md §4): Settings >
Integrations (IPN) > Add new connection > Webhook."""

from dataclasses import dataclass

from webhooks import ipn
from webhooks.models import Webhook
from webhooks.services import public_url_problem


@dataclass(frozen=True)
class Step:
    field: str
    value: str
    copy: str = ""  # text for a Copy button
    warning: bool = False
    note: str = ""  # shown under the value (with `warning`, what is wrong and what to do)


def order_event_checkbox(event: str) -> str:
    """The checkbox to tick under "For order events" for an event; "" for an event without
    one (not an order event, or, like on_payment_subscription_signup, not in the form)."""
    known = ipn.EVENT_TYPES.get(event)
    if not known or not known.ds24_label:
        return ""
    if not known.ds24_preselected:
        return f"{known.ds24_label} (off by default in Digistore24)"
    return known.ds24_label


def receive_url_warning(webhook: Webhook) -> str:
    """Why Digistore24 would refuse the webhook's receive URL, with what to do; "" when it
    looks public. For every place that shows the URL for entering in Digistore24."""
    return public_url_problem(webhook.get_receive_url()) or ""


def setup_steps(webhook: Webhook, *, reveal_secrets: bool) -> list[Step]:
    """The form's fields in order, with what to enter. `reveal_secrets`: the receive URL and
    the passphrase, for those who may change the webhook; others are told where they are."""
    takes_orders = webhook.kind in (ipn.KIND_PAYMENTS, ipn.KIND_ALL)
    url_warning = receive_url_warning(webhook)
    if webhook.kind == ipn.KIND_ALL:
        order_events = "All of them"
    elif takes_orders:
        order_events = ", ".join(filter(None, map(order_event_checkbox, webhook.events)))
    else:
        order_events = "Not shown for this category; nothing to choose"
    if webhook.passphrase and reveal_secrets:
        passphrase = Step(
            "IPN passphrase", "The passphrase of this webhook (above):", copy=webhook.passphrase
        )
    elif webhook.passphrase:
        passphrase = Step(
            "IPN passphrase", "This webhook's passphrase (shown to users who may change it)"
        )
    else:
        passphrase = Step(
            "IPN passphrase",
            "Leave empty. This webhook accepts UNSIGNED IPNs: anyone who learns its URL can post "
            "fake events. Set a passphrase here and in Digistore24 instead.",
            warning=True,
        )
    return [
        Step("Name", f"{webhook.name} (ds24site) — only you see it"),
        Step(
            "For products",
            f"Only these: {webhook.product_ids.replace(',', ', ')}"
            if webhook.product_ids
            else "All products, or the ones this webhook is for",
        ),
        Step("For add-ons", "Yes, if sales as add-ons should be sent too"),
        Step("For orders in these languages", "All languages"),
        Step("Send notifications for", ipn.KINDS[webhook.kind].ds24_categories),
        Step("For order events", order_events),
        Step(
            "Webhook URL",
            webhook.get_receive_url()
            if reveal_secrets
            else "This webhook's receive URL (shown to users who may change it)",
            copy=webhook.get_receive_url() if reveal_secrets else "",
            warning=bool(url_warning),
            note=url_warning,
        ),
        Step(
            "Perform also for follow-up payments",
            "Yes — otherwise subscription rebills and instalments never arrive"
            if takes_orders
            else "Not relevant for this kind",
        ),
        Step("GET parameter names", "Leave empty; the URL already identifies this webhook"),
        Step("Success check", "Text \u201cOK\u201d (HTTP 200 works too: both are answered)"),
        Step("Active", "Yes"),
        Step(
            "Email address for error notifications",
            "Your address: Digistore24 mails it when deliveries keep failing",
        ),
        passphrase,
    ]
