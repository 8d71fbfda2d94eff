"""Starting and stopping what the benchmarks measure: the app as `make run` serves it
(`manage.py serve`: gunicorn with gunicorn.conf.py plus a task worker), gunicorn alone with the
same config (the baseline, or the app when the benchmark runs its own task workers), task
workers, and the local forwarding receiver; and the memory of their processes."""

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
TASK_WORKER = [PYTHON, "manage.py", "runworker", "--no-reload"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings_names() -> set[str]:
    """Every variable the app reads (.env.example lists them all, a test makes sure)."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if "=" in line and not line.startswith("#")}


# Fixed, so that a kept database (var/bench/scale.sqlite3) can be read by the next run; they
# guard nothing but scratch data.
SECRET_KEY = "bench-" + "x" * 60
FIELD_ENCRYPTION_KEY = "dGVzdC1rZXktbmV3ZXN0LTAxMjM0NTY3ODlhYmNkZWY="


def app_environment(database_url: str, port: int, **settings: str) -> dict[str, str]:
    """The environment of an installation on `port`: the caller's environment without any of
    the app's variables (nor .env), the benchmark's secrets, the given database, and the
    settings passed; everything else at the defaults `make run` ships with."""
    env = {name: value for name, value in os.environ.items() if name not in _settings_names()}
    env.update(
        DJANGO_READ_DOT_ENV_FILE="false",
        SECRET_KEY=SECRET_KEY,
        FIELD_ENCRYPTION_KEY=FIELD_ENCRYPTION_KEY,
        SITE_URL=f"http://127.0.0.1:{port}",
        DATABASE_URL=database_url,
        PORT=str(port),
        **settings,
    )
    return env


def gunicorn_settings() -> dict:
    """What gunicorn.conf.py sets, read in the servers' environment (gunicorn's own defaults
    for what it leaves out)."""
    code = (
        "import json, runpy; c = runpy.run_path('gunicorn.conf.py'); print(json.dumps({"
        "'workers': c.get('workers', 1), 'worker_class': c.get('worker_class', 'sync'),"
        "'threads': c.get('threads', 1), 'accesslog': c.get('accesslog')}))"
    )
    env = app_environment("", free_port())
    done = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    return json.loads(done.stdout)


def manage(env: dict[str, str], *args: str) -> str:
    """Run a management command; its standard output."""
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


class Process:
    """A server or worker in its own session, its output (access log included) in `log`."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path):
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_http(self, port: int, path: str = "/", timeout: float = 60) -> None:
        """Until a worker answers anything on `path` (gunicorn listens before its workers
        have imported the app)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.log.name} exited; see {self.log}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", path)
                connection.getresponse().read()
                connection.close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nothing answered on port {port}; see {self.log}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM (graceful: `serve` passes it on to both of its children), then wait."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        found[int(entry.name)] = (parent, " ".join(a.decode(errors="replace") for a in argv))
    return found


def memory(pid: int) -> dict[str, float]:
    """Resident size now and at its peak (VmRSS, VmHWM), in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return {"rss_mib": fields["VmRSS"], "peak_mib": fields["VmHWM"]}


def process_memory(root: int) -> list[dict]:
    """The memory of the gunicorn workers and task workers under process `root` (a `serve`,
    a gunicorn master or a task worker), each labelled with its role."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found = []

    def visit(pid: int, parent_is_gunicorn: bool) -> None:
        argv = table.get(pid, (0, ""))[1]
        is_gunicorn = "gunicorn" in argv
        role = None
        if is_gunicorn and parent_is_gunicorn:
            role = "gunicorn worker"
        elif "runworker" in argv:
            role = "task worker"
        if role:
            with contextlib.suppress(OSError, KeyError):  # it exited meanwhile
                found.append({"role": role, "pid": pid, **memory(pid)})
        for child in children.get(pid, []):
            visit(child, is_gunicorn)

    visit(root, False)
    return found
