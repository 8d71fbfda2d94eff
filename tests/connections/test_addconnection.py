"""`manage.py addconnection`: a connection made and verified without the browser, printed as
one JSON line; the key never printed, not even in errors."""

import json

import pytest

from connections.models import Connection
from tests.conftest import ARABIC_INDIC, READ_ONLY_KEY, in_digits, run_command

# run_from_argv closes every connection at its end, as manage.py would; only a transactional
# test database survives that.
pytestmark = pytest.mark.django_db(transaction=True)

UNKNOWN_KEY = "1999-UnknownKeyThatMustStaySecret00000"


def run(*args):
    code, out, err = run_command("addconnection", *args)
    for key in (READ_ONLY_KEY, UNKNOWN_KEY, "1234-NotAKey!!", "5678-PositionalKey0000"):
        assert key not in out + err
    return code, out, err


def test_creates_verifies_and_prints_one_json_line(ds24):
    code, out, err = run("Shop", "--key", READ_ONLY_KEY, "--language", "de")
    assert code == 0 and err == ""
    assert out.count("\n") == 1
    connection = Connection.objects.get()
    assert json.loads(out) == {
        "id": str(connection.public_id),
        "name": "Shop",
        "status": "verified",
        "message": "OK as demo-vendor",
    }
    assert (connection.api_key, connection.language) == (READ_ONLY_KEY, "de")
    assert [call.function for call in ds24.calls()] == ["ping", "getUserInfo"]


def test_a_key_digistore24_rejects_is_kept_as_failed(ds24):
    code, out, _ = run("Shop", "--key", UNKNOWN_KEY)
    data = json.loads(out)
    assert code == 0
    assert data["status"] == "failed" and data["message"].startswith("Key rejected")
    assert Connection.objects.get().status == "failed"


def test_unreachable_digistore24_is_reported_in_the_status(settings):
    settings.DS24_API_URL = "http://127.0.0.1:9/api/call/"
    settings.DS24_API_RETRIES = 0
    code, out, _ = run("Shop", "--key", READ_ONLY_KEY)
    assert code == 0
    assert json.loads(out)["message"].startswith("Digistore24 unreachable")


def test_a_duplicate_name_is_refused(ds24):
    assert run("Shop", "--key", READ_ONLY_KEY)[0] == 0
    code, out, err = run("Shop", "--key", UNKNOWN_KEY)
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and "Connection with this Name already exists" in err
    assert Connection.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("Shop", "--key", ""), "--key must not be empty"),
        (("Shop", "--key", "   "), "--key must not be empty"),
        (("Shop", "--key", "1234-NotAKey!!"), "does not look like a Digistore24 API key"),
        (
            ("Shop", "--key", in_digits("1234", ARABIC_INDIC) + "-AbCdEfGh12345678"),
            "does not look like a Digistore24 API key",
        ),
        (("Shop",), "the following arguments are required: --key"),
        (("--key", READ_ONLY_KEY), "the following arguments are required: name"),
        (("Shop", "5678-PositionalKey0000"), "the following arguments are required: --key"),
        (("Shop", "--key", READ_ONLY_KEY, "5678-PositionalKey0000"), "unexpected arguments"),
        (("Shop", "--key", READ_ONLY_KEY, "--language", "fr"), "invalid choice: 'fr'"),
        (("", "--key", READ_ONLY_KEY), "name: This field cannot be blank."),
        (("S" * 101, "--key", READ_ONLY_KEY), "at most 100 characters"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line_and_no_key(ds24, args, why):
    code, out, err = run(*args)
    assert code != 0 and out == ""
    assert err.count("\n") == 1, err
    assert why in err
    assert Connection.objects.count() == 0
    assert ds24.calls() == []
