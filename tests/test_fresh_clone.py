"""README's promise: on a fresh clone, `make run` sets everything up and serves the admin; run
again, it serves again without re-creating anything. Exercises the committed HEAD."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_once(clone: Path, env: dict) -> str:
    """Start `make run`, wait for the admin login page, stop it; returns what make printed."""
    process = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{env['PORT']}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                login = requests.get(url + "/admin/login/", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "make run did not serve within 300 s"
                time.sleep(0.5)
        assert login.status_code == 200
        assert "ds24site" in login.text
        static = requests.get(url + "/static/admin/css/base.css", timeout=2)
        assert static.status_code == 200  # collected and served by whitenoise
        assert requests.get(url + "/healthz", timeout=2).text == "ok\n"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    return output


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git checkout")
def test_make_run_on_a_fresh_clone(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    # Nothing from this process's environment (the test settings) may leak into the clone.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PORT": str(free_port())}
    for name in ("PYENV_ROOT", "PYENV_VERSION", "LANG"):
        if name in os.environ:
            env[name] = os.environ[name]

    first = serve_once(clone, env)
    assert "Created admin account 'admin' with password:" in first
    assert (clone / ".env").exists() and (clone / "var" / "db.sqlite3").exists()
    env_file = (clone / ".env").read_text()
    assert "SECRET_KEY=" in env_file and "FIELD_ENCRYPTION_KEY=" in env_file

    second = serve_once(clone, env)
    assert "An admin account exists" in second
    assert (clone / ".env").read_text() == env_file
