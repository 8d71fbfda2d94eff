"""Browser fixtures: Debian's Chromium (the `chromium` package, never a downloaded browser)
driven headless by Playwright for Python, against the app on pytest-django's live server with
the Digistore24 stand-in. Each test's screenshots go to var/artifacts/browser/<test>/ (var/ is
gitignored), so a failure in CI can be looked at.

The tests skip, saying why, without playwright or /usr/bin/chromium, and under DATABASE_URL:
they test the pages, not the database, and `make test`'s SQLite pass already ran them."""

import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "browser"
# The background-networking flags matter: Chromium otherwise phones home at start-up, and on a
# closed network those refused connections disturb its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous, so a busy CI machine does not fail a test, and bounded, so a broken page does.
TIMEOUT_MS = 20_000
PASSWORD = "pw-for-browser-tests"

# The test modules take `expect` from here, so that without playwright they are collected
# and skipped with the reason rather than failing to import.
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # depends on the machine
    expect = sync_playwright = None


def _missing_browser() -> str | None:
    if sync_playwright is None:
        return "playwright is not installed (pip install -r requirements/dev.txt)"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    ours = [item for item in items if item.path.is_relative_to(here)]
    if not ours:
        return
    if os.environ.get("DATABASE_URL"):
        reason = (
            "browser tests run once per CI, in the SQLite pass: they test pages, which do "
            "not change with the database"
        )
    elif (reason := _missing_browser()) and os.environ.get("BROWSER_TESTS") == "required":
        # CI (.ci/run) installs Chromium: there, a browser test that cannot run fails.
        raise pytest.UsageError(f"BROWSER_TESTS=required, but {reason}")
    if reason:
        for item in ours:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="package")
def browser(django_db_setup):
    """One Chromium for the browser tests. Playwright's sync API keeps an event loop running in
    this thread while it is open, and Django refuses database access from a thread with a
    running loop unless told it is safe (it is: nothing here is async). So the browser is
    closed after this package, for the rest of the suite to run as usual, and it starts after
    the test database is set up, which is torn down without a loop at the end."""
    expect.set_options(timeout=TIMEOUT_MS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture(scope="package")
def standin():
    """A stand-in that, like the demo's, takes http:// and 127.0.0.1 IPN URLs."""
    from ds24standin.server import StandIn

    standin = StandIn(allow_local_ipn_urls=True).start()
    yield standin
    standin.stop()


@pytest.fixture
def site(live_server, standin, settings, transactional_db):
    """The app on the live server, as `make demo` sets it up: receive URLs on the live server,
    Digistore24 is the stand-in, local IPN and forwarding URLs allowed. Returns the site's
    URL, on 127.0.0.1 (the live server listens there, under the name localhost)."""
    standin.reset()
    url = live_server.url.replace("://localhost:", "://127.0.0.1:")
    settings.SITE_URL = url
    settings.DS24_API_URL = standin.api_url
    settings.DS24_API_BACKOFF = 0.01
    settings.DS24_IPN_ALLOW_LOCAL_URLS = True
    settings.DESTINATIONS_ALLOW_LOCAL = True
    settings.DESTINATIONS_TIMEOUT = 5.0
    return url


BUYER = "Kunde.Eins@example.com"


@pytest.fixture
def sales(site):
    """The stand-in posts four live events, signed, to a webhook for every event (as
    Digistore24 would, and as `make demo` does), and they are followed up (as a worker would);
    returns what it sent, by event."""
    from ds24standin.ipn import send_ipn
    from tests.conftest import PASSPHRASE, follow_up
    from webhooks.services import webhook_create

    webhook = webhook_create(name="Shop", kind="all", passphrase=PASSPHRASE)
    sent = {
        "on_payment": {"order_id": "PAYORDER1", "amount_brutto": "49.00", "email": BUYER},
        "on_refund": {"order_id": "PAYORDER1", "amount_brutto": "19.00", "email": BUYER},
        "eticket": {"eticket_id": "77770000000000000001", "email": "fan@example.com"},
        "on_affiliation": {"affiliate_name": "partner42"},
    }
    for event, fields in sent.items():
        answer = send_ipn(webhook.get_receive_url(), event, PASSPHRASE, api_mode="live", **fields)
        assert (answer.status_code, answer.text) == (200, "OK")
    assert follow_up() == len(sent)
    return sent


@pytest.fixture
def admin_user(transactional_db):
    from django.contrib.auth.models import User

    return User.objects.create_superuser("vendor", "vendor@example.com", PASSWORD)


@pytest.fixture
def context(browser, site):
    context = browser.new_context(
        base_url=site,
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def logged_in(page, admin_user, site):
    """The page with the vendor's session (the login form itself is tested once)."""
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    host = re.sub(r"^https?://|:\d+$", "", site)
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "domain": host, "path": "/"}])
    return page


@pytest.fixture
def shot(request, page):
    """shot("what") saves a full-page screenshot as the test's next numbered step."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    steps = iter(range(1, 1000))

    def take(name: str, target=None):
        """The whole page, or only `target` (a locator)."""
        path = folder / f"{next(steps):02d}-{name}.png"
        if target is None:
            page.screenshot(path=str(path), full_page=True)
        else:
            target.screenshot(path=str(path))
        return path

    return take
