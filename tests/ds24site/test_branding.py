"""The product's face: a favicon everywhere (and at /favicon.ico), the API docs linked from the
admin, and the browsable API under the product's name."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db

ICON = "/static/ds24site/favicon.svg"


def test_favicon_ico_redirects_to_the_svg_without_login(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == ICON
    assert finders.find("ds24site/favicon.svg")


def test_admin_pages_name_the_icon_and_link_the_api_docs_for_staff(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert f'<link rel="icon" href="{ICON}" type="image/svg+xml">' in html
    assert f'<a href="{reverse("api:docs")}">API docs</a>' in html


def test_the_login_page_has_the_icon_but_no_user_tools(client):
    html = client.get(reverse("admin:login")).content.decode()
    assert ICON in html
    assert "API docs" not in html


def test_browsable_api_is_branded_as_the_product(admin_client):
    html = admin_client.get("/api/v1/events/", HTTP_ACCEPT="text/html").content.decode()
    assert "<title>Event List \u2013 ds24site API</title>" in html
    assert '<a class="navbar-brand" href="/admin/">ds24site</a>' in html
    assert "Django REST framework" not in html
    assert ICON in html
