"""Ingestion side by side: the app as `make run` serves it (`manage.py serve`: gunicorn with
gunicorn.conf.py as shipped, its access log included, and a task worker) against the baseline
(bench/baseline_app.py) under the same gunicorn config, on the same database server, the same
load, alternating runs; then a check that each stored exactly what it acknowledged."""

import json
import statistics
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from bench import baseline_app, db, servers
from bench.load import Ledger, post_ipns

WEBHOOK_NAME = "bench ingestion"


def side_by_side(
    *, database_url: str, workdir: Path, seconds: int, runs: int, connections: int, warmup: int
) -> dict:
    """`runs` runs of each, app and baseline in turn, after a warm-up of each."""
    app_port, baseline_port = servers.free_port(), servers.free_port()
    env = servers.app_environment(database_url, app_port)
    servers.manage(env, "migrate", "--noinput")
    webhook = json.loads(servers.manage(env, "addwebhook", WEBHOOK_NAME, "--kind", "payments"))
    passphrase = webhook["passphrase"]
    baseline_url = database_url
    if db.is_sqlite(database_url):  # its own file, beside the app's
        baseline_url = database_url.replace(".sqlite3", "-baseline.sqlite3")
    connection, _ = baseline_app.connect(baseline_url)
    connection.execute(baseline_app.TABLE)
    connection.close()

    targets = {
        "app": {
            "process": servers.Process(
                [servers.PYTHON, "manage.py", "serve"], env, workdir / "app.log"
            ),
            "port": app_port,
            "path": urlsplit(webhook["url"]).path,
            "ready": "/healthz",
        },
        "baseline": {
            "process": servers.Process(
                [*servers.GUNICORN, "bench.baseline_app:application"],
                {
                    **servers.app_environment(baseline_url, baseline_port),
                    "BASELINE_DATABASE": baseline_url,
                    "BASELINE_PASSPHRASE": passphrase,
                },
                workdir / "baseline.log",
            ),
            "port": baseline_port,
            "path": "/ipn",
            "ready": "/",
        },
    }
    results = {name: [] for name in targets}
    memory = []
    try:
        for target in targets.values():
            target["process"].wait_http(target["port"], target["ready"])
            target["ledger"] = Ledger()
            target["rate"] = 0.0
        for number in range(runs + 1):  # the first is the warm-up, not reported
            for name, target in targets.items():
                measured = post_ipns(
                    port=target["port"],
                    path=target["path"],
                    passphrase=passphrase,
                    ledger=target["ledger"],
                    workdir=workdir / name,
                    seconds=seconds if number else warmup,
                    connections=connections,
                    expected_rate=target["rate"],
                )
                target["rate"] = max(target["rate"], measured["requests_per_s"])
                # The requests in flight when wrk stopped still run: let them end before the
                # other target's run, which they would slow down.
                time.sleep(min(5, max(0.5, 2 * measured["p99_ms"] / 1000)))
                if name == "app":
                    # Nor may the app's workers still be putting this run's IPNs into the event
                    # log while the baseline runs: waited for here, and reported.
                    measured.update(_follow_up_drained(database_url))
                if number:
                    results[name].append(measured)
        memory = servers.process_memory(targets["app"]["process"].pid)
    finally:
        for target in targets.values():
            target["process"].stop()

    checks = {
        "app": targets["app"]["ledger"].check(*_app_stored(database_url)),
        "baseline": targets["baseline"]["ledger"].check(*_baseline_stored(baseline_url)),
    }
    return {
        "runs": results,
        "summary": summarise(results),
        "check": checks,
        "memory": memory,
        "database": _version(database_url),
        "durability": {"app": _app_durability(env), "baseline": _baseline_durability(baseline_url)},
    }


def summarise(results: dict[str, list[dict]]) -> dict:
    """Medians over the runs, and the median of the ratios of runs made side by side."""
    ratios = [
        app["requests_per_s"] / baseline["requests_per_s"]
        for app, baseline in zip(results["app"], results["baseline"], strict=True)
    ]
    summary = {"ratio": statistics.median(ratios)}
    app = results["app"]
    # Everything the app does for a run's IPNs, the workers' follow-up included: the IPNs it
    # acknowledged over the run and the drain after it.
    summary["app_end_to_end_per_s"] = statistics.median(
        run["requests_per_s"] * run["seconds"] / (run["seconds"] + run["follow_up_drain_s"])
        for run in app
    )
    summary["app_follow_up_backlog"] = statistics.median(run["follow_up_backlog"] for run in app)
    summary["app_follow_up_drain_s"] = statistics.median(run["follow_up_drain_s"] for run in app)
    for name, runs in results.items():
        summary[name] = {
            key: statistics.median(run[key] for run in runs)
            for key in ("requests_per_s", "p50_ms", "p99_ms", "redelivered_share")
        }
        summary[name]["non2xx"] = sum(run["non2xx"] for run in runs)
        summary[name]["socket_errors"] = sum(run["socket_errors"] for run in runs)
        summary[name]["bodies_ran_out"] = any(run["bodies_ran_out"] for run in runs)
    return summary


def _follow_up_drained(url: str, timeout: float = 600) -> dict:
    """Wait until the app's task workers have put every received IPN into the event log
    (webhooks_inboundipn is empty); returns how many were waiting when the run ended and how
    long the workers then took, with the machine to themselves."""

    def waiting() -> int:
        return db.rows(url, "SELECT COUNT(*) FROM webhooks_inboundipn")[0][0]

    backlog, started = waiting(), time.monotonic()
    left = backlog
    while left and time.monotonic() - started < timeout:
        time.sleep(0.25)
        left = waiting()
    if left:
        raise RuntimeError(f"the app's workers left {left} IPNs unprocessed after {timeout} s")
    return {"follow_up_backlog": backlog, "follow_up_drain_s": time.monotonic() - started}


def _app_stored(url: str) -> tuple[dict[int, int], int]:
    stored = db.rows(
        url,
        "SELECT e.transaction_id, e.delivery_count FROM webhooks_event e"
        " JOIN webhooks_webhook w ON w.id = e.webhook_id WHERE w.name = %s",
        (WEBHOOK_NAME,),
    )
    return {int(tid): count for tid, count in stored}, len(stored)


def _baseline_stored(url: str) -> tuple[dict[int, int], int]:
    stored = db.rows(url, "SELECT body, delivery_count FROM baseline_ipn")
    by_id = {int(dict(parse_qsl(body))["transaction_id"]): count for body, count in stored}
    return by_id, len(stored)


# What "committed" means on each database: asked of a connection as each target makes them.
DURABILITY = {"sqlite": "PRAGMA synchronous", "postgresql": "SHOW synchronous_commit"}
SQLITE_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def _app_durability(env: dict[str, str]) -> str:
    code = (
        "from django.db import connection; from bench.ingest import DURABILITY as D;"
        "c = connection.cursor(); c.execute(D[connection.vendor]); print(c.fetchone()[0])"
    )
    return _label(env["DATABASE_URL"], servers.manage(env, "shell", "-c", code).split()[-1])


def _baseline_durability(url: str) -> str:
    connection, _ = baseline_app.connect(url)
    (value,) = connection.execute(
        DURABILITY["sqlite" if db.is_sqlite(url) else "postgresql"]
    ).fetchone()
    connection.close()
    return _label(url, str(value))


def _version(url: str) -> str:
    if db.is_sqlite(url):
        return f"SQLite {db.rows(url, 'SELECT sqlite_version()')[0][0]}"
    return f"PostgreSQL {db.rows(url, 'SHOW server_version')[0][0]}"


def _label(url: str, value: str) -> str:
    if db.is_sqlite(url):
        return f"synchronous={SQLITE_SYNCHRONOUS.get(int(value), value)}"
    return f"synchronous_commit={value}"
