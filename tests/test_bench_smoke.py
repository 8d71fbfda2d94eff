"""`make bench` in smoke mode (bench/run.py --smoke: toy sizes, seconds), so that the benchmark
code cannot rot between full runs: every section runs, reports what it should, and the stored
rows add up to what was acknowledged. Timings are not asserted (conventions #17): the full run
on a quiet machine judges them.

The load comes from Debian's wrk: without it the tests skip, unless BENCH_TESTS=required (CI
installs it), when they fail. The SQLite pass runs everything on SQLite; the PostgreSQL pass
(DATABASE_URL set) runs the ingestion pair on a scratch database named after it.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = os.environ.get("DATABASE_URL", "")


@pytest.fixture
def smoke(tmp_path):
    """Run bench/run.py --smoke with the given arguments; its JSON results."""
    if not shutil.which("wrk"):
        message = "wrk is not installed (apt-get install wrk)"
        if os.environ.get("BENCH_TESTS") == "required":
            pytest.fail(f"BENCH_TESTS=required, but {message}")
        pytest.skip(message)

    def run(*args: str) -> dict:
        out = tmp_path / "results.json"
        done = subprocess.run(
            [sys.executable, "-m", "bench.run", "--smoke", "--json", str(out),
             "--workdir", str(tmp_path / "work"), *args],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-4000:]
        return json.loads(out.read_text())

    return run


def assert_ingestion(section: dict, runs: int) -> None:
    for name in ("app", "baseline"):
        assert len(section["runs"][name]) == runs
        for run in section["runs"][name]:
            assert run["requests"] > 0 and run["acknowledged"] > 0
            assert run["requests_per_s"] > 0 and 0 < run["p50_ms"] <= run["p99_ms"]
        check = section["check"][name]
        # Nothing lost, nothing stored twice, redeliveries counted on the first row: every row
        # is an acknowledged notification, or one still in flight when a run stopped.
        assert check["ok"], check
        assert check["lost"] == check["doubled"] == check["unexpected"] == 0
        assert check["stored_rows"] - check["stored_unanswered"] == check["unique_acknowledged"]
        assert check["acknowledged"] > check["unique_acknowledged"]  # redeliveries were sent
    assert section["summary"]["ratio"] > 0
    assert {p["role"] for p in section["memory"]} == {"gunicorn worker", "task worker"}


@pytest.mark.skipif(bool(DATABASE_URL), reason="the SQLite pass runs this; see the next test")
def test_smoke_runs_every_section_on_sqlite(smoke):
    results = smoke("--sections", "ingest-sqlite,scale,worker")

    sections = results["sections"]
    assert set(sections) == {"ingest-sqlite", "scale", "worker"}
    assert_ingestion(sections["ingest-sqlite"], results["settings"]["runs"])

    scale = sections["scale"]
    assert scale["events"] == results["settings"]["events"]
    labels = {(r["group"], r["label"]) for r in scale["requests"]}
    assert {("admin", "dashboard (admin index)"), ("api", "follow, 90% deep (50)")} <= labels
    assert all(0 < r["p50_ms"] <= r["p95_ms"] <= r["max_ms"] for r in scale["requests"])

    worker = sections["worker"]
    assert [t["workers"] for t in worker["throughput"]] == [1, 2]
    assert all(t["deliveries"] > 0 and t["per_s"] > 0 for t in worker["throughput"])
    assert worker["deliveries_not_succeeded"] == 0
    assert worker["receiver_got"] == worker["deliveries_succeeded"]
    assert worker["delay"]["events"] > 0 and worker["delay"]["p50_s"] >= 0

    verdicts = {t["what"]: t["verdict"] for t in results["targets"]}
    assert set(verdicts.values()) <= {"PASS", "FAIL"}
    assert "largest process (peak resident)" in verdicts
    assert "forwarding with two task workers" in verdicts


@pytest.mark.skipif(not DATABASE_URL, reason="runs in the PostgreSQL pass (DATABASE_URL set)")
def test_smoke_runs_the_postgresql_pair(smoke):
    parts = urlsplit(DATABASE_URL)
    scratch = urlunsplit(parts._replace(path=parts.path + "_bench"))
    results = smoke("--sections", "ingest-postgresql", "--postgres", scratch)

    assert_ingestion(results["sections"]["ingest-postgresql"], results["settings"]["runs"])
    assert "synchronous_commit=" in results["sections"]["ingest-postgresql"]["durability"]["app"]
