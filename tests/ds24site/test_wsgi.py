"""The WSGI entry point itself (what gunicorn serves), called as a server would call it."""

import io

import pytest

from ds24site.wsgi import application


def call(path, content_type, body=b"x=1"):
    seen = {}

    def start_response(status, headers):
        seen["status"] = status

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    content = b"".join(application(environ, start_response))
    return seen["status"], content


@pytest.mark.django_db(transaction=True)  # the real handler closes connections per request
@pytest.mark.parametrize("path", ["/ipn/any-token", "/admin/login/"])
def test_malformed_rfc2231_content_type_is_400_not_500(path):
    status, content = call(path, "application/x-www-form-urlencoded; charset*=bogus''utf-8")
    assert status.startswith("400")
    assert content == b"ERROR: malformed Content-Type header"


@pytest.mark.django_db(transaction=True)  # the real handler closes connections per request
def test_ordinary_requests_pass_through():
    status, content = call("/ipn/unknown-token", "application/x-www-form-urlencoded")
    assert status.startswith("404")
    assert content == b"ERROR: unknown webhook"
