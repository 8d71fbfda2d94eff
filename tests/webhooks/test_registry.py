"""The event and kind registry (webhooks/ipn.py) and what derives from it: model choices, kind
defaults, the Payments list, set-up guide labels, samples, badges, filter choices; the receiver's
scope per kind; and the migration that gives old payments webhooks the subscription signup."""

import ast
import re
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from tests.conftest import signed
from webhooks import ipn, samples
from webhooks.admin import filters as admin_filters
from webhooks.admin.forms import WebhookForm
from webhooks.api import EventFilter
from webhooks.models import AffiliationEvent, ETicketEvent, Event, PaymentEvent, Webhook
from webhooks.services import webhook_create
from webhooks.setup_guide import order_event_checkbox, setup_steps

ROOT = Path(__file__).resolve().parents[2]
SIGNUP = "on_payment_subscription_signup"
OLD_PAYMENTS_DEFAULTS = [
    "on_payment",
    "on_refund",
    "on_chargeback",
    "on_payment_missed",
    "payment_denial",
    "on_rebill_cancelled",
    "on_rebill_resumed",
    "last_paid_day",
]


# --- The registry is consistent -----------------------------------------------------------------


def test_every_event_names_a_registered_kind_or_none_and_every_kind_its_registered_events():
    for event in ipn.EVENT_TYPES.values():
        assert event.kind is None or event.kind in ipn.KINDS, event
        assert event.label, event
    for kind in ipn.KINDS.values():
        assert set(kind.events) <= set(ipn.KNOWN_EVENTS), kind
        assert kind.label and kind.ds24_categories, kind
    assert ipn.KIND_DEFAULT_EVENTS[ipn.KIND_ALL] == ()  # it accepts everything instead


def test_the_payments_kind_takes_every_payment_event_including_the_subscription_signup():
    assert ipn.KIND_DEFAULT_EVENTS[ipn.KIND_PAYMENTS] == (
        "on_payment",
        SIGNUP,
        *OLD_PAYMENTS_DEFAULTS[1:],
    )
    assert ipn.KIND_DEFAULT_EVENTS[ipn.KIND_ETICKETS] == ("eticket",)
    assert ipn.KIND_DEFAULT_EVENTS[ipn.KIND_AFFILIATIONS] == ("on_affiliation",)


def test_lists_choices_and_filters_derive_from_the_registry():
    assert Webhook.Kind.choices == [(kind.name, kind.label) for kind in ipn.KINDS.values()]
    lists = [PaymentEvent.EVENTS, ETicketEvent.EVENTS, AffiliationEvent.EVENTS]
    assert lists == [ipn.KINDS[kind].events for kind in ("payments", "etickets", "affiliations")]
    choosable = [name for name, _label in WebhookForm.base_fields["events"].choices]
    assert choosable == [name for name in ipn.KNOWN_EVENTS if name != ipn.CONNECTION_TEST]
    api_choices = [name for name, _label in EventFilter.base_filters["event"].extra["choices"]]
    assert api_choices == list(ipn.KNOWN_EVENTS)
    assert admin_filters.KindFilter.options == Webhook.Kind.choices
    assert ("on_refund", "on_refund \u2014 Refund") in ipn.event_choices()


@pytest.mark.parametrize("name", list(ipn.EVENT_TYPES))
def test_every_event_has_a_sample_that_carries_its_name(name):
    params = samples.BY_EVENT[name]()
    assert params["event"] == name
    assert params["api_mode"] == "test"
    assert all(isinstance(value, str) for value in params.values())
    assert samples.BY_EVENT[name](order_id="OVERRIDE").get("order_id") == "OVERRIDE"


def test_samples_name_only_registered_events_and_each_kind_has_one_of_its_own():
    assert set(samples.ORDER_EVENT_FIELDS) <= set(ipn.KIND_DEFAULT_EVENTS[ipn.KIND_PAYMENTS])
    assert set(samples.OWN_SHAPE) <= set(ipn.KNOWN_EVENTS)
    for name, kind in ipn.KINDS.items():
        sent = samples.SAMPLE_FOR_KIND[name]()["event"]
        assert sent in kind.events or name == ipn.KIND_ALL, name


@pytest.mark.parametrize("name", list(ipn.EVENT_TYPES))
def test_business_key_is_the_transaction_for_money_events_and_the_order_for_the_others(name):
    params = samples.BY_EVENT[name](order_id="ORDER1", product_id="7", transaction_id="555")
    key = ipn.business_key(params)
    if ipn.EVENT_TYPES[name].money:
        assert key == f"{name}:555"
    elif ipn.EVENT_TYPES[name].kind == ipn.KIND_PAYMENTS:
        assert key == f"{name}:ORDER1:7"
    else:
        assert "555" not in key.split(":")


def test_the_money_events_are_the_payments_refunds_and_chargebacks():
    money = {name for name, event in ipn.EVENT_TYPES.items() if event.money}
    assert money == {"on_payment", SIGNUP, "on_refund", "on_chargeback"}


def test_every_badge_style_has_a_colour_and_no_colour_is_keyed_by_an_event_name():
    css = (ROOT / "static/ds24site/admin.css").read_text()
    selectors = set(re.findall(r"\.ds24-badge\.([\w-]+)", css))
    styles = {event.badge for event in ipn.EVENT_TYPES.values()} - {""}
    assert styles <= selectors
    assert not selectors & set(ipn.KNOWN_EVENTS)


def test_set_up_guide_labels_are_digistore24s_checkboxes():
    assert order_event_checkbox("on_payment") == "Payment"
    assert order_event_checkbox("payment_denial") == (
        "Rejected payment (off by default in Digistore24)"
    )
    # Not a checkbox in Digistore24's form, not an order event, not an event.
    assert order_event_checkbox(SIGNUP) == ""
    assert order_event_checkbox("eticket") == ""
    assert order_event_checkbox("no_such_event") == ""


@pytest.mark.django_db
def test_set_up_guide_for_a_payments_webhook_lists_every_order_checkbox(webhook):
    steps = {step.field: step.value for step in setup_steps(webhook, reveal_secrets=False)}
    assert steps["Send notifications for"] == "Orders"
    assert steps["For order events"] == (
        "Payment, Refund, Chargeback, Missed recurring payment, "
        "Rejected payment (off by default in Digistore24), Rebilling canceled, "
        "Rebilling resumed, End of paid period"
    )


# --- The receiver accepts what the kind takes ---------------------------------------------------


@pytest.mark.django_db
def test_a_payments_webhook_accepts_the_subscription_signup(post_ipn, webhook, staff_client):
    assert SIGNUP in webhook.events
    response = post_ipn(webhook, signed(samples.BY_EVENT[SIGNUP](order_id="SIGNUP1")))
    assert response.status_code == 200 and response.content == b"OK"
    event = Event.objects.get()
    assert (event.event, event.scope) == (SIGNUP, Event.Scope.ACCEPTED)
    assert event.business_key == f"{SIGNUP}:{event.transaction_id}"
    listing = staff_client.get(reverse("admin:webhooks_paymentevent_changelist"))
    assert ">SIGNUP1<" in listing.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(ipn.EVENT_TYPES))
def test_each_kind_accepts_its_own_events_and_marks_the_rest(post_ipn, name):
    for kind in ipn.KINDS:
        hook = webhook_create(name=kind, kind=kind)
        assert post_ipn(hook, signed(samples.BY_EVENT[name](), hook.passphrase)).status_code == 200
    scopes = dict(Event.objects.values_list("webhook__kind", "scope"))
    if name == ipn.CONNECTION_TEST:
        expected = dict.fromkeys(ipn.KINDS, Event.Scope.TEST)
    else:
        belongs = {ipn.KIND_ALL, ipn.EVENT_TYPES[name].kind}
        expected = {
            kind: Event.Scope.ACCEPTED if kind in belongs else Event.Scope.IGNORED
            for kind in ipn.KINDS
        }
    assert scopes == expected


# --- The migration ------------------------------------------------------------------------------

MIGRATION = ("webhooks", "0004_payments_subscription_signup")


@pytest.mark.django_db(transaction=True)
def test_migration_adds_the_signup_to_old_default_payments_webhooks_and_removes_it_again():
    executor = MigrationExecutor(connection)
    before = [
        parent
        for parent in executor.loader.get_migration(*MIGRATION).dependencies
        if parent[0] == "webhooks"
    ]
    executor.migrate(before)
    Webhook = executor.loader.project_state(before).apps.get_model("webhooks", "Webhook")

    def make(name, kind, events):
        return Webhook.objects.create(name=name, kind=kind, events=events).pk

    shuffled = list(reversed(OLD_PAYMENTS_DEFAULTS))
    rows = {
        "defaults": make("defaults", "payments", OLD_PAYMENTS_DEFAULTS),
        "shuffled": make("shuffled", "payments", shuffled),
        "chosen": make("chosen", "payments", ["on_payment", "on_refund"]),
        "more": make("more", "payments", [*OLD_PAYMENTS_DEFAULTS, "custom_form"]),
        "all kind": make("all kind", "all", OLD_PAYMENTS_DEFAULTS),
        "not a list": make("not a list", "payments", {"on_payment": True}),
        "not names": make("not names", "payments", [*OLD_PAYMENTS_DEFAULTS, 1]),
    }

    def events():
        return {name: Webhook.objects.get(pk=pk).events for name, pk in rows.items()}

    untouched = events()
    try:
        executor = MigrationExecutor(connection)
        executor.migrate([MIGRATION])
        after = events()
        assert after["defaults"] == ["on_payment", SIGNUP, *OLD_PAYMENTS_DEFAULTS[1:]]
        assert after["shuffled"] == [*shuffled, SIGNUP]  # after on_payment, which came last
        for name in ("chosen", "more", "all kind", "not a list", "not names"):
            assert after[name] == untouched[name], name

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        assert events() == untouched
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


# --- Nothing else keeps its own list ------------------------------------------------------------

# The registry and the samples (which shape each registered event) may name events.
REGISTRY_FILES = {ROOT / "webhooks/ipn.py", ROOT / "webhooks/samples.py"}
KIND_NAMES = set(ipn.KINDS)
EVENT_NAMES = set(ipn.EVENT_TYPES)


def literal_names(path: Path) -> set[str]:
    """String constants in a Python file that are exactly an event or kind name (so a field
    name like "eticket_id" or prose mentioning an event does not count)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in EVENT_NAMES | KIND_NAMES
    }


def template_names(path: Path) -> set[str]:
    """Event names as whole identifiers in a template, and kind names in quotes."""
    text = path.read_text()
    events = {name for name in EVENT_NAMES if re.search(rf"(?<![\w-]){name}(?![\w-])", text)}
    kinds = {name for name in KIND_NAMES if re.search(rf"[\"']{name}[\"']", text)}
    return events | kinds


def test_the_scans_find_names_where_there_are_some(tmp_path):
    assert literal_names(ROOT / "webhooks/ipn.py") >= {"on_payment", SIGNUP, "payments", "all"}
    template = tmp_path / "t.html"
    template.write_text('{% if kind == "etickets" %}on_refund, not eticket_id{% endif %}')
    assert template_names(template) == {"on_refund", "etickets"}


def test_no_other_webhooks_module_or_template_keeps_its_own_list_of_events_or_kinds():
    found = {}
    for path in sorted((ROOT / "webhooks").rglob("*.py")):
        if path not in REGISTRY_FILES and "migrations" not in path.parts:
            found[path] = literal_names(path)
    for path in sorted((ROOT / "templates").rglob("*.html")):
        found[path] = template_names(path)
    assert {str(path.relative_to(ROOT)): names for path, names in found.items() if names} == {}
