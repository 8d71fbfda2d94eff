import json

import pytest

from tests.conftest import run_command
from webhooks.models import Webhook

# run_from_argv closes every connection at its end, as manage.py would; only a transactional
# test database survives that.
pytestmark = pytest.mark.django_db(transaction=True)


def run(*args):
    return run_command("addwebhook", *args)


def test_creates_a_webhook_and_prints_one_json_line():
    code, out, err = run("Shop payments", "--kind", "payments")
    assert code == 0 and err == ""
    assert out.count("\n") == 1
    data = json.loads(out)
    webhook = Webhook.objects.get()
    assert data["name"] == "Shop payments"
    assert data["kind"] == "payments"
    assert data["url"] == f"https://ds24.example.com/ipn/{webhook.token}"
    assert data["passphrase"] == webhook.passphrase and len(webhook.passphrase) == 32
    assert data["events"] == webhook.events
    assert "on_payment" in data["events"] and "on_refund" in data["events"]


def test_given_passphrase_is_stored():
    code, out, _ = run("Tickets", "--kind", "etickets", "--passphrase", "from-ds24-its-ipn-form")
    assert code == 0
    assert json.loads(out)["passphrase"] == "from-ds24-its-ipn-form"
    assert Webhook.objects.get().events == ["eticket"]


def test_unsigned():
    code, out, _ = run("Open", "--kind", "all", "--unsigned")
    data = json.loads(out)
    assert code == 0 and data["passphrase"] == "" and data["accept_unsigned"] is True


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("X", "--kind", "groceries"), "invalid choice: 'groceries'"),
        (("X",), "the following arguments are required: --kind"),
        ((), "the following arguments are required: name"),
        (("X", "--kind", "all", "--passphrase", "p", "--unsigned"), "not allowed with argument"),
        (("X", "--kind", "all", "--passphrase", ""), "--passphrase must not be empty"),
        (("X", "--kind", "all", "--passphrase", "p" * 64), "at most 63 characters"),
        (
            ("X", "--kind", "all", "--passphrase", "p" * 15),
            "passphrase: Use at least 16 characters",
        ),
        (
            ("X", "--kind", "all", "--passphrase", " " * 20),
            "passphrase: Use at least 16 characters",
        ),
        (("", "--kind", "all"), "name: This field cannot be blank."),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_line(args, why):
    code, out, err = run(*args)
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1, err
    assert why in err
    assert Webhook.objects.count() == 0
