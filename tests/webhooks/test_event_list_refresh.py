"""The event list's "Refresh every 10 s" toggle: offered on the first page only, with its
script served from this site."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.conftest import on_payment, signed
from webhooks.admin.events import EventAdmin

pytestmark = pytest.mark.django_db

LIST = "admin:webhooks_event_changelist"
TOGGLE = 'data-refresh-every="10"'


@pytest.fixture
def two_pages(post_ipn, webhook, monkeypatch):
    monkeypatch.setattr(EventAdmin, "list_per_page", 1)
    post_ipn(webhook, signed(on_payment()))
    post_ipn(webhook, signed(on_payment(order_id="SECOND", transaction_id="2")))


def page(client, **params) -> str:
    response = client.get(reverse(LIST), params)
    assert response.status_code == 200
    return response.content.decode()


def test_first_page_offers_the_toggle_off_by_default(staff_client, two_pages):
    html = page(staff_client)
    assert f'<input type="checkbox" {TOGGLE}>' in html  # not checked: the script decides
    assert "ds24site/refresh.js" in html


def test_a_filtered_first_page_offers_it_too(staff_client, two_pages):
    assert TOGGLE in page(staff_client, event="on_payment")


def test_later_pages_do_not(staff_client, two_pages):
    assert TOGGLE not in page(staff_client, p="2")


def test_the_script_is_a_static_file_that_requests_nothing_else():
    script = Path(finders.find("ds24site/refresh.js")).read_text(encoding="utf-8")
    assert "location.reload()" in script
    assert "fetch(" not in script and "http" not in script
