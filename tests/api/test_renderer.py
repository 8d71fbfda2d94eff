"""api.renderers.JSONRenderer writes with orjson what DRF's JSONRenderer writes, byte for byte,
and leaves indented answers to DRF."""

import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from api.renderers import JSONRenderer

pytestmark = pytest.mark.django_db
EVENTS = "/api/v1/events/"

DATA = [
    {},
    [],
    "plain",
    {"results": [], "next": None, "previous": None},
    {"text": 'Jörg Müller, Weiß, 日本語, 🎓, „quoted“, "escaped" \\ \n\t\x01\x7f'},
    {"separators": "\u2028 and \u2029 stay escaped as DRF escapes them"},
    {"numbers": [0, -1, 2**62, 1.5, True, False, None]},
    {"when": datetime(2026, 3, 29, 0, 59, 59, 123456, tzinfo=UTC)},
    {"when": datetime(2026, 3, 29, 1, 2, 3, tzinfo=timezone(timedelta(hours=2)))},
    {"when": datetime(2026, 3, 29, 1, 2, 3), "day": date(2026, 2, 28), "at": time(4, 5, 6, 7)},
    {"amount": Decimal("49.0000"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"lazy": gettext_lazy("This field is required."), "span": timedelta(minutes=90)},
    {2: "int key", None: "null key", True: "bool key"},
    {"tuple": (1, "two"), "nested": OrderedDict([("b", 1), ("a", [{"c": None}])])},
    ReturnDict({"b": 2, "a": 1}, serializer=None),
    ReturnList([{"x": "y"}], serializer=None),
]


@pytest.mark.parametrize("data", DATA)
def test_writes_what_drf_writes(data):
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)


def test_nothing_renders_as_nothing():
    assert JSONRenderer().render(None) == b""


def test_what_drf_cannot_write_it_refuses_too():
    data = {"x": object()}
    with pytest.raises(TypeError):
        renderers.JSONRenderer().render(data)
    with pytest.raises(TypeError):
        JSONRenderer().render(data)


def test_non_finite_floats_are_null():
    """Where it differs: DRF (STRICT_JSON) refuses NaN and infinities, orjson writes null. No
    answer of this API has a float."""
    with pytest.raises(ValueError, match="Out of range float values"):
        renderers.JSONRenderer().render({"x": float("nan")})
    assert JSONRenderer().render({"x": float("nan"), "y": float("inf")}) == b'{"x":null,"y":null}'


@pytest.mark.parametrize("indent", ["2", "4"])
def test_indented_answers_are_drfs(indent):
    media_type = f"application/json; indent={indent}"
    data = {"text": "Jörg \u2028", "list": [1, {"a": None}]}
    ours = JSONRenderer().render(data, media_type)
    assert ours == renderers.JSONRenderer().render(data, media_type)
    assert ours.startswith(b"{\n" + b" " * int(indent))


def test_the_api_answers_with_it(api_get, webhook):
    answer = api_get(EVENTS, {"mode": "nope"})  # an error answer, rendered the same way
    assert answer.status_code == 400
    assert type(answer.accepted_renderer) is JSONRenderer
    assert answer.content == renderers.JSONRenderer().render(answer.json())
    indented = api_get(EVENTS, HTTP_ACCEPT="application/json; indent=2")
    assert indented.content == b'{\n  "next": null,\n  "previous": null,\n  "results": []\n}'
