"""One soak pass on one database: set up a scratch database and the served app, send the
planned IPNs while the attacks of the profile run, wait for forwarding to drain, check, print
the table; exit status 1 when a check failed.

    .venv/bin/python -m bench.soak.run --database sqlite --profile short [--result out.json]
"""

import argparse
import collections
import dataclasses
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.soak import attacks, checks, drain, report, traffic
from bench.soak.profiles import PROFILES, Attack, Profile
from bench.soak.receivers import Receiver
from bench.soak.stack import App, Database

# Sweeps hand deliveries of a killed or failed worker's tasks to the next run of the worker
# (README: Workers); the default of a minute would dominate a pass's drain.
APP_ENV = {"DESTINATIONS_SWEEP_INTERVAL": "5"}
# Seconds around a database outage in which a rejection may go unrecorded (the receiver
# answers it whether or not it could be written).
OUTAGE_MARGIN = 2.0
# Seconds a SIGKILL counts as under way, for the latency during attacks (see windows()).
KILL_EFFECT = 5.0


def setup(app: App, receivers: list[Receiver]):
    """Migrate; two webhooks, a destination per receiver, an admin to guess the password of."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from forwarding.models import Destination
    from webhooks.services import webhook_create

    call_command("migrate", verbosity=0)
    webhooks = {
        "payments": webhook_create(name="Soak payments", kind="payments"),
        "etickets": webhook_create(name="Soak e-tickets", kind="etickets"),
    }
    destinations = []
    for receiver in receivers:
        destination = Destination(name=receiver.name, url=receiver.url, mode=Destination.Mode.TEST)
        destination.full_clean()
        destination.save()
        receiver.secret = destination.secret
        destinations.append((receiver.name, destination.public_id, receiver))
    User.objects.create_superuser("admin", "admin@example.com", secrets.token_urlsafe(16))
    return webhooks, destinations


def launch(attack: Attack, *, app: App, database: Database, path: str, profile: Profile):
    """Run one attack to its end; its Outcome, or None when it does not apply here."""
    from django.conf import settings

    if attack.kind == "slowloris":
        return attacks.slowloris(app, path, attack.size, attack.seconds)
    if attack.kind == "login_flood":
        return attacks.login_flood(app, attack.size, attack.seconds)
    if attack.kind == "kill_web_worker":
        return attacks.kill_web_worker(app)
    if attack.kind == "kill_task_worker":
        return attacks.kill_task_worker(app)
    if database.vendor == "sqlite":
        return attacks.lock_sqlite(database, settings.DB_BUSY_TIMEOUT + profile.sqlite_lock_extra)
    return attacks.restart_postgres() if profile.restart_postgres else None


def run_attacks(profile, start: float, outcomes: list, stop: threading.Event, **context):
    threads = []
    for attack in sorted(profile.attacks, key=lambda a: a.at):
        if stop.wait(max(0.0, start + attack.at - time.monotonic())):
            break

        def go(attack=attack):
            outcome = launch(attack, profile=profile, **context)
            if outcome is not None:
                outcomes.append(outcome)

        threads.append(threading.Thread(target=go, daemon=True))
        threads[-1].start()
    for thread in threads:
        thread.join()


def watch(app: App, sender: traffic.Sender, stop: threading.Event, problems: list, every: float):
    """Stop the sender if the app died; print progress every `every` seconds."""
    last = time.monotonic()
    while not stop.wait(0.5):
        if not app.running:
            problems.append(f"manage.py serve exited (code {app.process.returncode})")
            sender.stop()
            return
        if every and time.monotonic() - last >= every:
            last = time.monotonic()
            elapsed = last - sender.started_at
            print(f"  {elapsed:5.0f} s: {sender.done} of {len(sender.ipns)} IPNs finished, "
                  f"{len(sender.attempts.ipn)} requests", flush=True)  # fmt: skip


def windows(outcomes, kinds=None, margin=0.0):
    """When attacks of `kinds` were under way; a kill lasts KILL_EFFECT seconds (the requests
    it cut are sent again, and the new process warms up)."""
    return [
        (
            o.started - margin,
            max(o.ended, o.started + KILL_EFFECT * o.kind.startswith("kill")) + margin,
        )
        for o in outcomes
        if kinds is None or o.kind in kinds
    ]


def judge(*, ipns, sender, outcomes, problems, webhooks, destinations, drained, app, load):
    from django.conf import settings

    from webhooks.models import Event, RejectedDelivery, Webhook

    names = {webhook.pk: name for name, webhook in webhooks.items()}
    events = list(
        Event.objects.values_list("order_id", "payload", "delivery_count", "public_id", "api_mode")
    )
    login = collections.Counter()
    for outcome in outcomes:
        if outcome.kind == "login_flood":
            login.update(outcome.statuses)
    results = [
        load,
        checks.Check(
            "app up, killed processes replaced",
            not problems and app.running and not any(o.failure for o in outcomes),
            "; ".join(problems + [f"{o.kind}: {o.failure}" for o in outcomes if o.failure])
            or "serve ran throughout; " + "; ".join(f"{o.kind}: {o.detail}" for o in outcomes),
        ),
        checks.answers(sender, login),
        checks.valid_accepted(ipns, sender),
        *checks.stored_once(ipns, sender, [e[:3] for e in events]),
    ]
    counted = dict(Webhook.objects.values_list("pk", "rejected_count"))
    counts = {name: counted[webhook.pk] for name, webhook in webhooks.items()}
    rows = [
        (names[webhook_id], status, bytes(body))
        for webhook_id, status, body in RejectedDelivery.objects.values_list(
            "webhook_id", "status_code", "body"
        )
    ]
    outage = windows(outcomes, {"postgres_restart", "sqlite_lock"}, OUTAGE_MARGIN)
    results += checks.rejected(ipns, sender, counts, rows, settings.REJECTED_KEEP, outage)
    results += checks.forwarded(
        [(str(e[3]), e[4] == "test") for e in events], destinations, drained
    )
    kinds = dict.fromkeys(o.kind for o in sorted(outcomes, key=lambda o: o.started))
    results.append(checks.latency(sender, {kind: windows(outcomes, {kind}) for kind in kinds}))
    return results


def run_pass(database_url: str, profile: Profile) -> tuple[str, list[checks.Check]]:
    """Set up, load and attack, drain, judge, tear down; (label, checks)."""
    workdir = Path(tempfile.mkdtemp(prefix="ds24soak-"))
    database = Database(database_url, workdir)
    app = App(database, workdir, APP_ENV)
    receivers = [Receiver("Always 2xx", 0.0).start(), Receiver("Fails half", 0.5).start()]
    label = f"{database.vendor} ({profile.name})"
    began = time.monotonic()
    ok = False
    try:
        database.create()
        app.configure_django()
        from django.conf import settings
        from django.db import connections

        webhooks, destinations = setup(app, receivers)
        ipns = traffic.plan(
            profile.ipns,
            passphrases={name: webhook.passphrase for name, webhook in webhooks.items()},
            max_body=settings.IPN_MAX_BODY_BYTES,
            forwarded=profile.forwarded,
        )
        connections.close_all()  # nothing of this process holds the database during the run
        loadavg = (os.getloadavg()[0], 0.0)
        app.start()
        print(
            f"{label}: set up in {time.monotonic() - began:.0f} s; {len(ipns)} IPNs at "
            f"{profile.connections} connections against {app.url} (serve pid "
            f"{app.process.pid}, {len(app.web_workers())} gunicorn workers)",
            flush=True,
        )
        sender = traffic.Sender(
            ipns,
            port=app.port,
            paths={name: urlsplit(w.get_receive_url()).path for name, w in webhooks.items()},
            connections=profile.connections,
            rate=profile.rate,
            timeout=profile.client_timeout,
            max_attempts=profile.max_attempts,
            seconds=profile.load_seconds,
        )
        outcomes, problems, stop = [], [], threading.Event()
        sender.started_at = time.monotonic()
        # Slow clients do not need to know a receive URL: the login page is public.
        context = dict(app=app, database=database, path="/admin/login/")
        attacker = threading.Thread(
            target=run_attacks, args=(profile, sender.started_at, outcomes, stop), kwargs=context
        )
        watcher = threading.Thread(
            target=watch, args=(app, sender, stop, problems, 15 if profile.name == "full" else 0)
        )
        attacker.start()
        watcher.start()
        sender.run()
        load_seconds = time.monotonic() - sender.started_at
        loadavg = (loadavg[0], os.getloadavg()[0])
        attacker.join()
        print(f"{label}: load done in {load_seconds:.0f} s ({len(sender.attempts.ipn)} "
              "requests); waiting for forwarding", flush=True)  # fmt: skip
        drained = drain.Drained()  # nothing will drain if the app is gone
        if not problems:
            drained = drain.drain(
                destinations=len(destinations), deadline=time.monotonic() + profile.drain_seconds
            )
        stop.set()
        watcher.join()
        connections.close_all()
        results = judge(
            ipns=ipns, sender=sender, outcomes=outcomes, problems=problems, webhooks=webhooks,
            destinations=destinations, drained=drained, app=app,
            load=checks.load(sender, load_seconds, loadavg),
        )  # fmt: skip
        ok = all(check.ok is not False for check in results)
        return label, results
    finally:
        if app.django_ready:
            from django.db import connections

            connections.close_all()
        app.stop()
        for receiver in receivers:
            receiver.stop()
        if not ok and app.log_path.exists():
            print(f"{label}: last lines of the app's log:\n{app.log_tail()}", flush=True)
        database.drop()
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"{label}: {time.monotonic() - began:.0f} s in all", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="postgres://… (a scratch name) or sqlite")
    parser.add_argument("--profile", choices=PROFILES, default="full")
    parser.add_argument("--result", help="write the checks here as JSON")
    parser.add_argument("--no-restart", action="store_true", help="do not restart PostgreSQL")
    args = parser.parse_args()
    profile = PROFILES[args.profile]
    if args.no_restart:
        profile = dataclasses.replace(profile, restart_postgres=False)
    label, results = run_pass(args.database, profile)
    print(report.table(label, results), flush=True)
    if args.result:
        Path(args.result).write_text(
            json.dumps({"label": label, "checks": [c.__dict__ for c in results]})
        )
    failure = report.verdict(label, results)
    if failure:
        print(f"soak FAILED: {failure}", flush=True)
    sys.exit(1 if failure else 0)


if __name__ == "__main__":
    main()
