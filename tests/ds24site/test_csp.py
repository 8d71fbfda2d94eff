"""Every page carries a Content-Security-Policy that allows scripts from this site only, and no
page of the project needs an inline script (which the policy would block)."""

import re

import pytest
from django.urls import reverse

INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>\s*\S", re.IGNORECASE)


def test_pages_carry_the_policy(client):
    response = client.get(reverse("admin:login"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


@pytest.mark.django_db
def test_the_api_docs_need_no_inline_script(admin_client):
    """drf-spectacular's split view serves Swagger UI's set-up as a script file of its own."""
    response = admin_client.get(reverse("api:docs"))
    assert response.status_code == 200
    assert not INLINE_SCRIPT.search(response.content)
    assert "Content-Security-Policy" in response
