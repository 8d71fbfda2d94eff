"""Admin pages over a large event log: seeds N events (default 1,000,000) once, then times the
event list, every filter and search, the trigger lists, a detail page, the webhook list, the
rejected-delivery list and the first rows of a CSV export, in-process through Django's test
client (server time: queries + rendering, no network).

    .venv/bin/python bench/admin_scale.py [--events 1000000] [--runs 5]
                                          [--database-url postgres://…/scratch]

Without --database-url the data lives in var/bench/admin.sqlite3 and is reused by later runs.
With one, point it at a scratch database: it is migrated and filled.
"""

import argparse
import hashlib
import json
import os
import random
import resource
import statistics
import string
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EVENT_MIX = [  # (event, weight)
    ("on_payment", 80),
    ("on_refund", 5),
    ("on_chargeback", 1),
    ("on_payment_missed", 2),
    ("on_rebill_cancelled", 2),
    ("last_paid_day", 2),
    ("eticket", 5),
    ("on_affiliation", 3),
]


# Buyer names: about 1 in 100 events is a Müller, as in a German customer base.
FIRST_NAMES = ["Jörg", "Anna", "Lena", "Hans", "Sören", "Maria", "Jürgen", "Eva", "Paul", "Zoë"]
LAST_NAMES = ["Müller", "Schmidt", "Weiß", "Schäfer", "Köhler", "Groß", "Nagel", "Becker"] + [
    f"Name{n:03d}" for n in range(92)
]


def configure(database_url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "ds24site.settings",
            "DJANGO_READ_DOT_ENV_FILE": "false",
            "SECRET_KEY": "bench-" + "x" * 60,
            "FIELD_ENCRYPTION_KEY": "dGVzdC1rZXktbmV3ZXN0LTAxMjM0NTY3ODlhYmNkZWY=",
            "SITE_URL": "http://testserver",
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": database_url,
            "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "LOG_LEVEL": "ERROR",
        }
    )
    import django

    django.setup()


def seed(total: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from dashboard.models import DailyTotal
    from dashboard.services import dailytotals_rebuild
    from webhooks import ipn
    from webhooks.models import Event, Webhook
    from webhooks.services import webhook_create

    have = Event.objects.count()
    if have >= total:
        print(f"seed: {have} events already there")
        if not DailyTotal.objects.exists():  # seeded by a version that did not build it
            dailytotals_rebuild()
        return
    webhooks = {
        kind: Webhook.objects.filter(kind=kind).first() or webhook_create(name=kind, kind=kind)
        for kind in ("payments", "etickets", "affiliations", "all")
    }
    kind_of = {"eticket": "etickets", "on_affiliation": "affiliations"}
    events, weights = zip(*EVENT_MIX, strict=True)
    rng = random.Random(have)
    now = timezone.now()
    columns = [
        "webhook_id", "event", "scope", "payload", "payload_hash", "business_key", "order_id",
        "transaction_id", "product_id", "product_name", "email", "amount", "currency",
        "billing_type", "pay_sequence_no", "affiliate_name", "eticket_id", "api_mode",
        "signature", "sender_ip", "received", "last_delivered", "delivery_count", "signal_error",
        "public_id", "buyer_first_name", "buyer_last_name", "email_normalized",
        "buyer_name_normalized", "buyer_last_name_normalized",
    ]  # fmt: skip
    sql = (
        f"INSERT INTO webhooks_event ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    public_id = Event._meta.get_field("public_id")
    started = time.monotonic()
    batch_size = 10_000
    for start in range(have, total, batch_size):
        rows = []
        for n in range(start, min(start + batch_size, total)):
            event = rng.choices(events, weights)[0]
            webhook = webhooks[kind_of.get(event, "payments" if n % 10 else "all")]
            order_id = "".join(rng.choices(string.ascii_uppercase + string.digits, k=8))
            params = {
                "event": event,
                "api_mode": "test" if n % 20 == 0 else "live",
                "order_id": order_id,
                "transaction_id": str(100_000_000 + n),
                "product_id": str(rng.randint(1, 40)),
                "product_name": "Online-Kurs",
                "email": f"Buyer{rng.randint(1, 50_000)}@example.com",
                "buyer_first_name": rng.choice(FIRST_NAMES),
                "buyer_last_name": rng.choice(LAST_NAMES),
                "amount_brutto": "49.00",
                "currency": "EUR",
                "billing_type": "subscription",
                "pay_sequence_no": str(rng.randint(0, 11)),
                "pay_method": "creditcard",
            }
            if event == "eticket":
                params["eticket_id"] = str(10**19 + n)
            if event == "on_affiliation":
                params["affiliate_name"] = f"partner{rng.randint(1, 5000)}"
            pairs = list(params.items())
            received = now - timedelta(seconds=(total - n) * 31_536_000 / total)
            fields = Event.typed_fields(params)
            rows.append(
                (
                    webhook.pk, event, "accepted", json.dumps(pairs),
                    hashlib.sha256(f"{n}".encode()).hexdigest(), ipn.business_key(params),
                    fields["order_id"], fields["transaction_id"], fields["product_id"],
                    fields["product_name"], fields["email"], fields["amount"], fields["currency"],
                    fields["billing_type"], fields["pay_sequence_no"], fields["affiliate_name"],
                    fields["eticket_id"], fields["api_mode"],
                    "unsigned" if n % 1000 == 0 else "verified", "198.51.100.7",
                    received, received, 1, "",
                    public_id.get_db_prep_value(uuid.UUID(int=rng.getrandbits(128), version=4),
                                                connection),
                    fields["buyer_first_name"], fields["buyer_last_name"],
                    fields["email_normalized"], fields["buyer_name_normalized"],
                    fields["buyer_last_name_normalized"],
                )
            )  # fmt: skip
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        done = start + len(rows)
        if done % 100_000 == 0 or done == total:
            print(f"seed: {done} events ({time.monotonic() - started:.0f} s)", flush=True)
    dailytotals_rebuild()  # the receiver keeps the roll-up; the bulk insert did not
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def pages():
    """(label, url, params) for every page and query the admin offers over the event log."""
    from django.urls import reverse
    from django.utils import timezone

    from webhooks.models import Event, RejectedDelivery, Webhook

    events = reverse("admin:webhooks_event_changelist")
    sample = Event.objects.order_by("-id")[50]
    ticket = Event.objects.filter(event="eticket").order_by("-id").first()
    affiliation = Event.objects.filter(event="on_affiliation").order_by("-id").first()
    payments = Webhook.objects.get(kind="payments")
    today = timezone.localdate()
    rejected = RejectedDelivery.objects.first()
    listed = [
        ("event list", events, {}),
        ("event list, page 50", events, {"p": "49"}),
        ("filter webhook", events, {"webhook__id__exact": payments.pk}),
        ("filter kind", events, {"kind": "etickets"}),
        ("filter event type (rare)", events, {"event": "on_chargeback"}),
        ("filter signature unsigned", events, {"signature__exact": "unsigned"}),
        ("filter test mode", events, {"mode": "test"}),
        ("filter received today", events, {"received": "today"}),
        ("filter received 30 days", events, {"received": "30d"}),
        (
            "filter custom range",
            events,
            {
                "received_from": str(today - timedelta(days=200)),
                "received_to": str(today - timedelta(days=190)),
            },
        ),
        ("search order_id", events, {"q": sample.order_id}),
        ("search transaction_id", events, {"q": sample.transaction_id}),
        ("search email", events, {"q": sample.email}),
        ("search email, other case", events, {"q": sample.email.upper()}),
        ("search order_id prefix (4)", events, {"q": sample.order_id[:4]}),
        ("search transaction_id prefix (6)", events, {"q": sample.transaction_id[:6]}),
        ("search id prefix, all rows", events, {"q": "1"}),
        ("search buyer last name", events, {"q": "müller"}),
        ("search buyer full name", events, {"q": "Jörg Müller"}),
        ("search buyer name, one letter", events, {"q": "m"}),
        ("search eticket_id", events, {"q": ticket.eticket_id}),
        ("search affiliate_name", events, {"q": affiliation.affiliate_name}),
        ("search with no match", events, {"q": "nobody@nowhere.example"}),
        ("search name, no match", events, {"q": "Nobody Nowhere"}),
        ("payments list", reverse("admin:webhooks_paymentevent_changelist"), {}),
        ("e-tickets list", reverse("admin:webhooks_eticketevent_changelist"), {}),
        ("affiliations list", reverse("admin:webhooks_affiliationevent_changelist"), {}),
        ("event detail", reverse("admin:webhooks_event_change", args=[sample.pk]), {}),
        ("webhook list (24 h health)", reverse("admin:webhooks_webhook_changelist"), {}),
        ("rejected list", reverse("admin:webhooks_rejecteddelivery_changelist"), {}),
    ]
    if rejected:
        listed.append(
            (
                "rejected detail",
                reverse("admin:webhooks_rejecteddelivery_change", args=[rejected.pk]),
                {},
            )
        )
    return listed


def prepare(description: str):
    """Parse the common options, configure Django, migrate and seed; returns the options and
    the superuser the benchmark acts as."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    path = ROOT / "var" / "bench" / "admin.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    configure(args.database_url or f"sqlite:///{path}")

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    seed(args.events)
    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", password="bench-password-not-secret"
    )
    print(f"db={connection.vendor} events={args.events} runs={args.runs} (milliseconds)")
    return args, user


def time_requests(client, requests, runs: int) -> None:
    """Median and max of `runs` GETs of each (label, url, params); every one must be a 200."""
    print(f"{'request':32} {'median':>8} {'max':>8}")
    worst = 0.0
    for label, url, params in requests:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        worst = max(worst, statistics.median(times))
        print(f"{label:32} {statistics.median(times):8.1f} {max(times):8.1f}")
    print(f"slowest median: {worst:.1f} ms")


def main():
    args, admin = prepare(__doc__.splitlines()[0])

    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(admin)
    time_requests(client, pages(), args.runs)

    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        response = client.get(reverse("admin:webhooks_event_export"))
        stream = iter(response.streaming_content)
        for _ in range(10_001):  # header + the first 10,000 rows
            next(stream)
        times.append((time.perf_counter() - started) * 1000)
        response.close()
    print(f"{'CSV export, first 10k rows':32} {statistics.median(times):8.1f} {max(times):8.1f}")

    # The whole log as CSV, once: how long, and how much memory the process grew by.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.get(reverse("admin:webhooks_event_export"))
    lines = size = 0
    for chunk in response.streaming_content:
        lines += 1
        size += len(chunk)
    response.close()
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"CSV export, all {lines - 1} rows: {elapsed:.1f} s, {size / 2**20:.0f} MiB written, "
        f"peak memory grew by {(peak - rss_before) / 1024:.0f} MiB (to {peak / 1024:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
