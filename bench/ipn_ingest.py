"""IPN ingestion throughput: signed, distinct on_payment IPNs posted to the receiver served by
gunicorn, as Digistore24 would, from concurrent keep-alive clients on this machine.

    .venv/bin/python bench/ipn_ingest.py [--requests 3000] [--clients 8] [--workers 2]
                                         [--database-url postgres://…/scratch]

Without --database-url it runs on a fresh SQLite file in a temporary directory. With one, it
migrates that database and adds a webhook to it: point it at a scratch database.
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webhooks.signing import signature  # noqa: E402  (after the path tweak, no Django needed)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def payload(n: int) -> dict[str, str]:
    """A realistic on_payment of ~45 fields, distinct per n."""
    params = {
        "event": "on_payment",
        "api_mode": "live",
        "ipn_version": "1.6",
        "ipn_config_id": "4711",
        "order_id": f"B{n:07d}",
        "order_item_id": str(n),
        "order_date": "2026-11-29",
        "order_time": "12:00:00",
        "transaction_id": str(10_000_000 + n),
        "transaction_type": "payment",
        "product_id": "12345",
        "product_name": "Online-Kurs Jörg Müller",
        "quantity": "1",
        "amount": "41.18",
        "amount_brutto": "49.00",
        "amount_netto": "41.18",
        "amount_vat": "7.82",
        "currency": "EUR",
        "pay_method": "creditcard",
        "billing_type": "subscription",
        "billing_status": "paying",
        "pay_sequence_no": str(n % 12),
        "number_of_installments": "0",
        "email": f"buyer{n}@example.com",
        "buyer_id": str(n),
        "buyer_first_name": "Jörg",
        "buyer_last_name": "Müller",
        "address_street": "Hauptstraße 1",
        "address_city": "Köln",
        "address_zipcode": "50667",
        "address_country": "DE",
        "address_phone_no": "",
        "affiliate_name": "",
        "campaignkey": "",
        "custom": f"user-{n}",
        "language": "de",
        "invoice_url": f"https://www.digistore24.com/invoice/B{n:07d}",
        "receipt_url": f"https://www.digistore24.com/receipt/B{n:07d}",
        "renew_url": "https://www.digistore24.com/renew/x",
        "vat_rate": "19.00",
        "next_payment_at": "2026-12-29",
        "merchant_id": "1234",
        "merchant_name": "vendor",
        "placeholder_TITLE": "Dr.",
        "is_gdpr_country": "Y",
    }
    return params


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ds24bench-"))
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_READ_DOT_ENV_FILE": "false",
        "SECRET_KEY": "bench-" + "x" * 60,
        "FIELD_ENCRYPTION_KEY": "dGVzdC1rZXktbmV3ZXN0LTAxMjM0NTY3ODlhYmNkZWY=",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}",
        "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "LOG_LEVEL": "WARNING",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(args.workers),
    }
    python = sys.executable
    run = dict(cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    subprocess.run([python, "manage.py", "migrate", "--noinput"], **run)
    created = subprocess.run(
        [python, "manage.py", "addwebhook", f"bench-{port}", "--kind", "all"], **run
    )
    webhook = json.loads(created.stdout)
    path = urlsplit(webhook["url"]).path
    bodies = [
        urlencode({**p, "sha_sign": signature(p.items(), webhook["passphrase"])}).encode()
        for p in map(payload, range(args.requests))
    ]

    server = subprocess.Popen(
        [
            python,
            "-m",
            "gunicorn",
            "ds24site.wsgi",
            "-c",
            "gunicorn.conf.py",
            "--access-logfile",
            "/dev/null",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)

        latencies, failures = [], []
        next_index = iter(range(args.requests))
        lock = threading.Lock()

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            while True:
                with lock:
                    i = next(next_index, None)
                if i is None:
                    break
                started = time.perf_counter()
                conn.request("POST", path, body=bodies[i], headers=headers)
                response = conn.getresponse()
                text = response.read()
                latencies.append(time.perf_counter() - started)
                if response.status != 200 or text != b"OK":
                    failures.append((response.status, text[:80]))
            conn.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    latencies.sort()
    database = "postgresql" if args.database_url else "sqlite"
    print(
        f"ipn_ingest db={database} workers={args.workers} clients={args.clients} "
        f"requests={args.requests} failures={len(failures)} "
        f"throughput={args.requests / elapsed:.0f}/s "
        f"p50={statistics.median(latencies) * 1000:.1f}ms "
        f"p99={latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f}ms"
    )
    if failures:
        print("first failures:", failures[:3])
        raise SystemExit(1)


if __name__ == "__main__":
    main()
