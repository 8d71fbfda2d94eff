"""README's promise: on a fresh clone, `make run` sets everything up and serves the admin; run
again, it serves again without re-creating anything. Exercises the committed HEAD."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
# `make run` on a fresh clone creates a venv and installs every requirement before it serves.
STARTUP_TIMEOUT = 300
REQUEST_TIMEOUT = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_once(clone: Path, env: dict, run: int) -> str:
    """Start `make run`, wait for the admin login page, stop it; returns what make printed."""
    # Output goes to a file, not a pipe: nobody reads a pipe while make runs, and a full one
    # would stall it; the file can also be read while make is still running. One file a run:
    # the servers of the run before may still be writing their goodbyes to theirs.
    log_path = clone.parent / f"make-run-{run}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["make", "run"],
            cwd=clone,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{env['PORT']}"
    try:
        login = wait_until_served(url + "/admin/login/", process, log_path)
        assert login.status_code == 200
        assert "ds24site" in login.text
        static = requests.get(url + "/static/admin/css/base.css", timeout=REQUEST_TIMEOUT)
        assert static.status_code == 200  # collected and served by whitenoise
        assert requests.get(url + "/healthz", timeout=REQUEST_TIMEOUT).text == "ok\n"
    finally:
        # make may have exited already (a failure reported above), its gunicorn with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        # make exits at once; gunicorn and the worker (their own sessions, stopped by `serve`)
        # take a moment longer. Until the port is free, the next run would find this server.
        wait_until_closed(int(env["PORT"]))
    return log_path.read_text()


def wait_until_closed(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.2)
    pytest.fail(f"the server on port {port} was still listening 60 s after make run stopped")


def wait_until_served(url: str, process: subprocess.Popen, log_path: Path) -> requests.Response:
    """The first response from url, while `make run` installs, migrates and starts gunicorn.
    Any requests error until then is part of starting up: refused before gunicorn listens,
    reset or slow while its workers boot."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    error = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"make run exited with {process.returncode} before serving {url}; "
                f"make printed:\n{log_path.read_text()}"
            )
        try:
            return requests.get(url, timeout=REQUEST_TIMEOUT)
        except requests.RequestException as exc:
            error = exc
            time.sleep(0.5)
    pytest.fail(
        f"make run did not serve {url} within {STARTUP_TIMEOUT} s (last error: {error}); "
        f"make printed:\n{log_path.read_text()}"
    )


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git checkout")
@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="the fresh clone always sets up its own SQLite, whatever DATABASE_URL says: it runs "
    "in the pass without DATABASE_URL, which this one would only repeat",
)
def test_make_run_on_a_fresh_clone(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    # Nothing from this process's environment (the test settings) may leak into the clone.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PORT": str(free_port())}
    for name in ("PYENV_ROOT", "PYENV_VERSION", "LANG"):
        if name in os.environ:
            env[name] = os.environ[name]

    first = serve_once(clone, env, run=1)
    assert "Created admin account 'admin' with password:" in first
    assert (clone / ".env").exists() and (clone / "var" / "db.sqlite3").exists()
    env_file = (clone / ".env").read_text()
    assert "SECRET_KEY=" in env_file and "FIELD_ENCRYPTION_KEY=" in env_file

    second = serve_once(clone, env, run=2)
    assert "An admin account exists" in second
    assert (clone / ".env").read_text() == env_file
