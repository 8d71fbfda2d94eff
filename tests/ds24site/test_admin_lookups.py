"""Every change list of the admin takes only its own filters' parameters from the URL: any
other lookup (a regex that backtracks for seconds, a JSON `contains` SQLite cannot run, a list
of primary keys) is the admin's "bad filter" redirect and never reaches the database. Covers
every registered ModelAdmin, so a new one is checked without being named here."""

import re
from html import unescape

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from api.models import ApiToken
from apicall.models import ApiCall, ApiConsole
from connections.models import Connection
from ds24site.admin_tools import SafeChangeListMixin
from forwarding.models import Delivery, Destination
from tests.conftest import on_payment, signed
from webhooks import samples
from webhooks.models import Event, RejectedDelivery
from webhooks.services import webhook_create
from webhooks.tasks import notify

pytestmark = pytest.mark.django_db

# A value no real query carries: if it shows up in SQL, the lookup ran.
PROBE = "ds24probe"
# The console's admin entry has no change list: its one page is the console.
WITHOUT_CHANGE_LIST = {ApiConsole}
LISTS = [model for model in admin.site._registry if model not in WITHOUT_CHANGE_LIST]


def list_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def text_field(model) -> str:
    return next(
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
    )


def json_field(model) -> str:
    """A JSON field of the model, else `payload` (a name the probe uses either way)."""
    return next(
        (f.name for f in model._meta.concrete_fields if isinstance(f, models.JSONField)),
        "payload",
    )


@pytest.fixture
def viewer(client):
    """Staff who may view every model and nothing more (as in the finding)."""
    user = User.objects.create_user("viewer", password="pw-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(user)
    return client


@pytest.fixture
def rows(post_ipn):
    """Rows in every list, so that every filter offers its choices."""
    passphrase = "a-passphrase-of-16+"
    webhook = webhook_create(name="Payments", kind="all", passphrase=passphrase)
    post_ipn(webhook, signed(on_payment(), passphrase))
    post_ipn(webhook, signed(samples.eticket(), passphrase))
    post_ipn(webhook, on_payment())  # unsigned: rejected
    connection = Connection(name="Shop")
    connection.set_key("123-abcdefghijklmnopqrstuvwxyz")
    connection.save()
    owner = User.objects.create_user("owner", is_staff=True)
    owner.groups.add(Group.objects.create(name="Vendors"))
    token = ApiToken(user=owner, name="CRM sync")
    token.issue()
    token.save()
    ApiCall.objects.create(
        connection=connection, user=owner, function="listPurchases", method="POST", status=200
    )
    destination = Destination.objects.create(
        name="CRM", url="https://crm.example.com/hook", failing_since=timezone.now()
    )
    Delivery.objects.create(event=Event.objects.first(), destination=destination, message_id="m")
    notify.enqueue(Event.objects.first().pk)
    assert DBTaskResult.objects.exists()


def probes(model) -> list[dict[str, str]]:
    return [
        {f"{text_field(model)}__regex": f"^(a+)+{PROBE}$"},
        {f"{json_field(model)}__contains": PROBE},
        {"pk__in": f"1,2,{PROBE}"},
        {"id__gt": "0", "id__lt": PROBE},
    ]


@pytest.mark.parametrize("model", LISTS, ids=lambda model: model._meta.label)
def test_lookups_of_no_filter_are_refused_without_running(viewer, rows, model):
    for params in probes(model):
        with CaptureQueriesContext(connection) as queries:
            response = viewer.get(list_url(model), params)
        assert (response.status_code, response.get("Location")) == (
            302,
            f"{list_url(model)}?e=1",
        ), params
        assert not [q["sql"] for q in queries if PROBE in q["sql"]], params


def foreign_key(model):
    return next((f for f in model._meta.get_fields() if f.many_to_one and f.concrete), None)


@pytest.mark.parametrize(
    "model", [m for m in LISTS if foreign_key(m)], ids=lambda model: model._meta.label
)
def test_a_relation_lookup_of_no_filter_is_refused_too(viewer, rows, model):
    """Django itself refuses some lookups across relations with a bare 400; here they get the
    same redirect as any other lookup that is not a filter's."""
    relation = foreign_key(model)
    target = text_field(relation.related_model)
    response = viewer.get(list_url(model), {f"{relation.name}__{target}__regex": PROBE})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.parametrize("model", LISTS, ids=lambda model: model._meta.label)
def test_every_filter_choice_still_lists(viewer, rows, model):
    response = viewer.get(list_url(model))
    assert response.status_code == 200
    changelist = response.context["cl"]
    links = [
        choice["query_string"]
        for spec in changelist.filter_specs
        for choice in spec.choices(changelist)
    ]
    assert links or not changelist.filter_specs
    for link in links:
        answer = viewer.get(list_url(model) + link)
        assert answer.status_code == 200, link  # a refused filter would redirect to ?e=1


def test_the_search_still_searches(viewer, rows):
    response = viewer.get(list_url(Event), {"q": "ABC123XY"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_the_dashboards_links_to_lists_are_all_filters(admin_client, rows):
    """The health section links to filtered lists (failed deliveries of a destination, a
    webhook's rejections, waiting tasks): each is a filter of its list."""
    html = admin_client.get(reverse("admin:index")).content.decode()
    links = {unescape(link) for link in re.findall(r'href="(/admin/[^"]+\?[^"]+)"', html)}
    assert links
    for link in links:
        assert admin_client.get(link).status_code == 200, link


def test_every_registered_admin_is_covered():
    """Django's and django-tasks' own admins (users, groups, tasks) are registered again with
    the project's change list; the console is the one admin without a list."""
    assert {User, Group, DBTaskResult} <= set(LISTS)
    assert set(admin.site._registry) - set(LISTS) == WITHOUT_CHANGE_LIST


def test_a_date_hierarchy_still_drills_down(rf, admin_user, rows):
    """No list has one yet; the lookups its year, month and day make are its own."""

    class DatedAdmin(SafeChangeListMixin, admin.ModelAdmin):
        date_hierarchy = "received"

    dated = DatedAdmin(RejectedDelivery, admin.site)
    today = timezone.localdate()
    for params in [
        {"received__year": today.year},
        {"received__year": today.year, "received__month": today.month},
    ]:
        request = rf.get("/", params)
        request.user = admin_user
        response = dated.changelist_view(request)
        assert response.status_code == 200
        assert response.context_data["cl"].result_count == 1
    request = rf.get("/", {"received__year": today.year, "reason__regex": PROBE})
    request.user = admin_user
    assert dated.changelist_view(request).status_code == 302
