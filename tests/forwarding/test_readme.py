"""README's Python verification example, run against a real delivery."""

import re
from pathlib import Path

import pytest

from forwarding.models import Destination
from tests.conftest import on_payment, run_tasks, signed

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example():
    text = README.read_text()
    code = re.search(r"<!-- verify-example -->\n```python\n(.*?)```", text, re.S).group(1)
    namespace = {}
    exec(code, namespace)  # noqa: S102 - our own README
    return namespace["verified_event"]


@pytest.mark.django_db
def test_the_readme_example_verifies_a_delivery(post_ipn, webhook, receiver):
    verified_event = readme_example()
    destination = Destination.objects.create(name="CRM", url=receiver.url)
    post_ipn(webhook, signed(on_payment()))
    run_tasks()
    [request] = receiver.requests
    message = verified_event(destination.secret, request.body, request.headers)
    assert message["data"]["payload"]["order_id"] == "ABC123XY"
    tampered = request.body.replace(b"ABC123XY", b"ABC123XZ")
    assert verified_event(destination.secret, tampered, request.headers) is None
    assert verified_event(destination.secret, request.body, {}) is None
