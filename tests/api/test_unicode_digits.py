"""Numbers in the API's parameters are ASCII digits: Arabic-Indic and fullwidth digits, which
Python's int() reads as numbers, are a clear 400 naming the parameter, never a number."""

import base64
from urllib.parse import urlencode

import pytest

from tests.conftest import ARABIC_INDIC, FULLWIDTH, in_digits, on_payment, signed

pytestmark = pytest.mark.django_db
EVENTS, FOLLOW = "/api/v1/events/", "/api/v1/events/follow/"
FIVE = [in_digits("5", ARABIC_INDIC), in_digits("5", FULLWIDTH)]


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def assert_400(response, parameter):
    assert response.status_code == 400, response.content
    assert response.json()["message"].startswith(f"{parameter}: ")


@pytest.fixture
def events(post_ipn, webhook):
    for n in range(3):
        post_ipn(webhook, signed(on_payment(transaction_id=str(n), order_id=f"O{n}")))


@pytest.mark.parametrize("five", FIVE)
def test_follow_limit(api_get, events, five):
    assert_400(api_get(FOLLOW, {"limit": five}), "limit")


@pytest.mark.parametrize(
    "cursor",
    [
        "v1." + in_digits("0.1", ARABIC_INDIC),
        "v1.0." + in_digits("1", FULLWIDTH),
        "v1.0.1_0",
        "v1.0. 1",
        "v1.+0.1",
    ],
)
def test_follow_cursor(api_get, events, cursor):
    assert api_get(FOLLOW, {"cursor": b64("v1.0.1")}).status_code == 200  # the ASCII one
    assert_400(api_get(FOLLOW, {"cursor": b64(cursor)}), "cursor")


@pytest.mark.parametrize("size", [*FIVE, "0", "-1", "many"])
def test_page_size(api_get, events, size):
    assert_400(api_get(EVENTS, {"page_size": size}), "page_size")


@pytest.mark.parametrize(
    "tokens",
    [
        {"o": in_digits("1", ARABIC_INDIC)},
        {"r": in_digits("1", FULLWIDTH)},
        {"o": "1_0"},
        {"p": in_digits("2026", ARABIC_INDIC) + "-01-01T00:00:00Z"},
    ],
)
def test_page_cursor(api_get, events, tokens):
    assert api_get(EVENTS, {"cursor": b64(urlencode({"o": "1"}))}).status_code == 200
    assert_400(api_get(EVENTS, {"cursor": b64(urlencode(tokens))}), "cursor")


@pytest.mark.parametrize(
    "moment", [in_digits("2026", zero) + "-01-01T00:00:00Z" for zero in (ARABIC_INDIC, FULLWIDTH)]
)
def test_date_filters(api_get, events, moment):
    assert_400(api_get(EVENTS, {"received_after": moment}), "received_after")
