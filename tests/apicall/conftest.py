from dataclasses import dataclass

import pytest

from apicall.rules import call_spec
from apicall.services import apicall_record
from connections.models import Connection
from tests.conftest import FULL_KEY


@dataclass(frozen=True)
class Answer:
    """What the client's request() returns (connections.client.RawResponse): a stand-in for
    it until the client's raw mode is merged."""

    status: int = 200
    headers: tuple = (("Content-Type", "application/json"),)
    body: bytes = b'{"result": "success", "data": {"purchase_id": "ABC"}}'
    truncated: bool = False
    duration_ms: int = 42


@pytest.fixture
def connection(db):
    connection = Connection(name="Shop")
    connection.set_key(FULL_KEY)
    connection.save()
    return connection


@pytest.fixture
def record(connection):
    """Record a call: `record(url=..., answer=Answer(...), **apicall_record kwargs)`."""

    def record(*, url="getPurchase?purchase_id=ABC", method="POST", headers=None, body=None,
               answer=Answer(), **kwargs):  # fmt: skip
        spec = call_spec(method=method, url=url, headers=headers, body=body, confirm_write=True)
        kwargs.setdefault("connection", connection)
        return apicall_record(spec=spec, answer=answer, **kwargs)

    return record
