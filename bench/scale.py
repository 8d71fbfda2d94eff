"""The admin, the dashboard and the REST API over a large event log (bench/seed.py fills it),
each page timed over HTTP through the app as `make run` serves it, logged in (admin) or with a
bearer token (API): p50, p95 and max of repeated GETs, after one untimed GET of each."""

import json
import statistics
import subprocess
import time
from pathlib import Path

import requests

from bench import servers
from bench.stats import percentile

# The benchmark's token makes far more requests a minute than API_THROTTLE_RATE allows one
# client; the throttle's cost per request does not depend on the rate.
THROTTLE = "1000000/min"


def measure(*, database_url: str, events: int, workdir: Path, repeats: int) -> dict:
    port = servers.free_port()
    env = servers.app_environment(database_url, port, API_THROTTLE_RATE=THROTTLE)
    with (workdir / "seed.log").open("a") as log:
        seeded = subprocess.run(
            [servers.PYTHON, "-m", "bench.seed", "--events", str(events)],
            cwd=servers.ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True, check=True,
        )  # fmt: skip
    plan = json.loads(seeded.stdout)
    app = servers.Process([servers.PYTHON, "manage.py", "serve"], env, workdir / "app.log")
    base = f"http://127.0.0.1:{port}"
    try:
        app.wait_http(port, "/healthz")
        admin = _logged_in(base, plan["username"], plan["password"])
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {plan['token']}"
        timed = []
        for request in plan["requests"]:
            session = admin if request["group"] == "admin" else api
            timed.append({**request, **_time(session, base + request["path"], request, repeats)})
        memory = servers.process_memory(app.pid)
    finally:
        app.stop()
    return {
        "events": events,
        "seeded": plan["seeded"],
        "seed_seconds": plan["seed_seconds"],
        "repeats": repeats,
        "requests": timed,
        "memory": memory,
    }


def _logged_in(base: str, username: str, password: str) -> requests.Session:
    """A session logged in through the admin's own login form."""
    session = requests.Session()
    login = f"{base}/admin/login/"
    session.get(login, timeout=30).raise_for_status()
    answer = session.post(
        login,
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        headers={"Referer": login},
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"admin login failed: HTTP {answer.status_code}")
    return session


def _time(session, url: str, request: dict, repeats: int) -> dict:
    """One untimed GET, then `repeats` timed ones (the whole answer read, or the first
    request["lines"] lines of a stream); every answer must be a 200."""
    lines = request.get("lines", 0)
    if lines:  # seconds each: a few tell enough
        repeats = max(2, repeats // 4)
    times = []
    for number in range(repeats + 1):
        started = time.perf_counter()
        with session.get(url, params=request["params"], stream=True, timeout=120) as answer:
            if answer.status_code != 200:
                raise RuntimeError(f"{request['label']}: HTTP {answer.status_code} from {url}")
            if lines:
                for _ in zip(range(lines + 1), answer.iter_lines(), strict=False):
                    pass
            else:
                answer.content  # noqa: B018 - read it all
        if number:
            times.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "max_ms": max(times),
    }
