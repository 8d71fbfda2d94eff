"""The WSGI entry point itself (what gunicorn serves), called as a server would call it: a
Content-Type Django cannot build a request from, or whose charset no text can be read in, is
a 4xx with a message on every path, never a 500."""

import json

import pytest
from django.contrib.auth.models import User

from api.models import ApiToken
from ds24site.wsgi import application
from tests.conftest import wsgi_environ
from webhooks.models import RejectedDelivery

pytestmark = pytest.mark.django_db(transaction=True)  # the real handler closes connections
FORM = "application/x-www-form-urlencoded"
# A CSRF cookie and the same token in the header: what a browser that loaded the login page
# sends, so that the login view (not the CSRF check) reads the body.
CSRF = "abcdefghijklmnopqrstuvwxyzABCDEF"
MULTIPART = (
    b'--XX\r\nContent-Disposition: form-data; name="username"\r\n\r\nadmin\r\n'
    b'--XX\r\nContent-Disposition: form-data; name="password"\r\n\r\nx\r\n--XX--\r\n'
)


def call(path, content_type, body=b"x=1", **headers):
    seen = {}

    def start_response(status, response_headers):
        seen["status"], seen["headers"] = status, dict(response_headers)

    environ = wsgi_environ(path, body, content_type=content_type, **headers)
    content = b"".join(application(environ, start_response))
    return seen["status"], seen["headers"]["Content-Type"], content


@pytest.fixture
def token():
    user = User.objects.create_superuser("root", password="pw-for-tests")
    token = ApiToken(user=user, name="tests", writable=True)
    secret = token.issue()
    token.save()
    return f"Bearer {secret}"


def entry_points(token, webhook):
    """(path, Content-Type without charset, body, headers) for each way a body gets read: the
    receiver, an admin form (Django's request.POST), the API's parsers (form, multipart, JSON)."""
    receiver = webhook.get_receive_url().removeprefix("https://ds24.example.com")
    api = {"HTTP_AUTHORIZATION": token}
    login = {"HTTP_COOKIE": f"csrftoken={CSRF}", "HTTP_X_CSRFTOKEN": CSRF}
    entries = [
        (receiver, FORM, b"event=on_payment", {}),
        ("/admin/login/", "multipart/form-data; boundary=XX", MULTIPART, login),
        ("/api/v1/destinations/", FORM, b"name=CRM&url=https://crm.example.com/", api),
        ("/api/v1/destinations/", "multipart/form-data; boundary=XX", MULTIPART, api),
        ("/api/v1/destinations/", "application/json", b'{"name": "CRM"}', api),
    ]
    return [(label, *entry) for label, entry in zip(LABELS, entries, strict=True)]


LABELS = ["receiver", "admin form", "API form", "API multipart", "API JSON"]


def answers(token, webhook, parameter) -> dict[str, tuple[str, str]]:
    """Each entry point's status line and message for a Content-Type with `parameter`."""
    result = {}
    for label, path, media_type, body, headers in entry_points(token, webhook):
        status, content_type, content = call(path, f"{media_type}; {parameter}", body, **headers)
        result[label] = (status, message(path, content_type, content))
    return result


@pytest.mark.parametrize("parameter", ["charset*=bogus''utf-8", "boundary*=x-unknown''XX"])
def test_a_malformed_rfc2231_content_type_is_400(token, webhook, parameter):
    expected = ("400 Bad Request", "malformed Content-Type header")
    assert answers(token, webhook, parameter) == dict.fromkeys(LABELS, expected)


@pytest.mark.parametrize("charset", ["idna", "punycode", "undefined", "zlib", "base64"])
def test_a_charset_no_text_can_be_read_in_is_415(token, webhook, charset):
    """Python knows these codecs, so Django reads the body in them, and fails with errors it
    does not catch: some are no text encodings, the others refuse the error handling Django
    asks for or raise errors that are not decoding errors."""
    expected = ("415 Unsupported Media Type", "unsupported charset in Content-Type")
    assert answers(token, webhook, f"charset={charset}") == dict.fromkeys(LABELS, expected)
    assert not RejectedDelivery.objects.exists()  # refused before the receiver: no IPN


def message(path, content_type, content) -> str:
    """The API answers in JSON like its other errors; everything else in plain text."""
    if path.startswith("/api/"):
        body = json.loads(content) if content_type == "application/json" else {}
        return body["message"] if body.get("detail") == body.get("message") else repr(content)
    if content_type == "text/plain; charset=utf-8":
        return content.decode().removeprefix("ERROR: ")
    return f"{content_type}: {content[:60]!r}"


@pytest.mark.parametrize("charset", ["latin-1", "no-such-charset"])
def test_other_charsets_reach_the_receiver_which_records_them(webhook, charset):
    """Charsets text can be read in, and names Python does not know (Django ignores those),
    are the application's to judge: the receiver takes UTF-8 only and records the rest."""
    receiver = webhook.get_receive_url().removeprefix("https://ds24.example.com")
    status, _content_type, content = call(receiver, f"{FORM}; charset={charset}", b"event=x")
    assert status.startswith("415")
    assert content == b"ERROR: expected application/x-www-form-urlencoded in UTF-8"
    assert RejectedDelivery.objects.get().status_code == 415


def test_ordinary_requests_pass_through(token):
    status, _content_type, content = call("/ipn/unknown-token", FORM)
    assert (status, content) == ("404 Not Found", b"ERROR: unknown webhook")
    status, _content_type, content = call(
        "/api/v1/destinations/",
        "application/json; charset=utf-8",
        b'{"name": "CRM", "url": "https://crm.example.com/"}',
        HTTP_AUTHORIZATION=token,
    )
    assert status.startswith("201"), content
