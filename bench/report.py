"""The benchmark's verdict: each target of issue #12 against what was measured, and the tables
printed and kept in docs/benchmarks.md (between its markers; the rest of the file is
written by people and left alone)."""

import os
import platform
import re
import sqlite3
import subprocess
from pathlib import Path

from bench.servers import ROOT, gunicorn_settings

DOCS = "docs/benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
INGESTION = {"ingest-sqlite": "SQLite", "ingest-postgresql": "PostgreSQL"}
RATIO, P99_MS, API_P95_MS, ADMIN_P95_MS = 0.7, 50, 50, 300
DELIVERIES_PER_S, DELAY_P99_S, PROCESS_MIB = 200, 2, 150


def machine() -> dict:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo") if "model name" in line),
        platform.processor(),
    )
    memory_kib = next(
        (int(line.split()[1]) for line in _read("/proc/meminfo") if line.startswith("MemTotal")), 0
    )
    config = gunicorn_settings()  # what both targets ran with
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 2**20, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "commit": (_git("rev-parse", "--short", "HEAD") or "unknown")
        + (" with uncommitted changes" if _changed() else ""),
        "gunicorn": (
            f"{config['workers']} {config['worker_class']} workers, {config['threads']} "
            f"thread(s) each, access log {config['accesslog']!r}"
        ),
    }


def _read(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def _changed() -> bool:
    """Whether the code measured differs from the commit: changes to tracked files, but not
    to this report's own file, which every run rewrites."""
    return _git("status", "--porcelain", "--untracked-files=no", "--", ".", f":!{DOCS}") != ""


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)  # noqa: S607
    return done.stdout.strip()


def targets(sections: dict) -> list[dict]:
    """Every target: what, measured, goal, verdict (PASS, FAIL, or SKIP when not measured)."""
    found = []

    def add(what, measured, goal, passed):
        found.append({"what": what, "measured": measured, "goal": goal,
                      "verdict": "PASS" if passed else "FAIL"})  # fmt: skip

    for name, section in sections.items():
        if "skipped" in section or "error" in section:
            found.append({"what": name, "goal": "",
                          "measured": section.get("skipped") or "failed: see its traceback",
                          "verdict": "SKIP" if "skipped" in section else "ERROR"})  # fmt: skip
    sections = {name: s for name, s in sections.items() if "skipped" not in s and "error" not in s}

    for key, database in INGESTION.items():
        section = sections.get(key)
        if not section:
            continue
        summary, check = section["summary"], section["check"]["app"]
        add(f"ingestion {database}: req/s app/baseline (median)", f"{summary['ratio']:.2f}",
            f"≥ {RATIO}", summary["ratio"] >= RATIO)  # fmt: skip
        add(f"ingestion {database}: app p99", f"{summary['app']['p99_ms']:.0f} ms",
            f"≤ {P99_MS} ms", summary["app"]["p99_ms"] <= P99_MS)  # fmt: skip
        failures = summary["app"]["non2xx"] + summary["app"]["socket_errors"]
        add(f"ingestion {database}: app non-2xx and socket errors", str(failures), "0",
            failures == 0)  # fmt: skip
        add(f"ingestion {database}: lost or doubled (app, baseline)",
            f"{_faults(check)}, {_faults(section['check']['baseline'])}", "0, 0",
            check["ok"] and section["check"]["baseline"]["ok"])  # fmt: skip

    if "scale" in sections:
        requests = sections["scale"]["requests"]
        for group, goal in (("api", API_P95_MS), ("admin", ADMIN_P95_MS)):
            timed = [r for r in requests if r["group"] == group]
            worst = max(timed, key=lambda r: r["p95_ms"])
            over = sum(r["p95_ms"] > goal for r in timed)
            add(f"{group} at {sections['scale']['events']:,} events: slowest p95",
                f"{worst['p95_ms']:.0f} ms ({worst['label']}); {over} of {len(timed)} over",
                f"≤ {goal} ms", not over)  # fmt: skip

    if "worker" in sections:
        worker = sections["worker"]
        two = next(t for t in worker["throughput"] if t["workers"] == 2)
        add("forwarding with two task workers", f"{two['per_s']:.0f} deliveries/s",
            f"≥ {DELIVERIES_PER_S}/s", two["per_s"] >= DELIVERIES_PER_S)  # fmt: skip
        add("OK to first delivery attempt, p99", f"{worker['delay']['p99_s']:.2f} s",
            f"≤ {DELAY_P99_S} s", worker["delay"]["p99_s"] <= DELAY_P99_S)  # fmt: skip

    processes = memory(sections)
    if processes:
        heaviest = max(processes, key=lambda p: p["peak_mib"])
        add("largest process (peak resident)",
            f"{heaviest['peak_mib']:.0f} MiB ({heaviest['role']}, {heaviest['after']})",
            f"≤ {PROCESS_MIB} MiB", heaviest["peak_mib"] <= PROCESS_MIB)  # fmt: skip
    return found


def _faults(check: dict) -> str:
    return str(check["lost"] + check["doubled"] + check["unexpected"] + check["miscounted"])


def memory(sections: dict) -> list[dict]:
    """Every process measured, with the section it had just run."""
    return [
        {**process, "after": name}
        for name, section in sections.items()
        for process in section.get("memory", [])
    ]


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def markdown(results: dict) -> str:
    """The report, as Markdown tables (printed as they are, too)."""
    m, sections = results["machine"], results["sections"]
    took = ", ".join(f"{name} {section['seconds']:.0f} s" for name, section in sections.items())
    lines = [
        f"## `make bench`{' --smoke' if results['smoke'] else ''}, {results['started']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM; Python "
        f"{m['python']}, SQLite {m['sqlite']}. Commit {m['commit']}. gunicorn.conf.py: "
        f"{m['gunicorn']}. The whole run took {results['wall_seconds'] / 60:.1f} minutes "
        f"({took}).",
        "",
        "### Targets",
        "",
        *_table(
            ["", "measured", "target", ""],
            [[t["what"], t["measured"], t["goal"], t["verdict"]] for t in results["targets"]],
        ),
    ]
    for key in INGESTION:
        if "summary" in sections.get(key, {}):
            lines += _ingestion(sections[key], results["settings"])
    if "requests" in sections.get("scale", {}):
        lines += _scale(sections["scale"])
    if "throughput" in sections.get("worker", {}):
        lines += _worker(sections["worker"])
    if processes := memory(sections):
        lines += _memory(processes)
    return "\n".join(lines)


def _ingestion(section: dict, settings: dict) -> list[str]:
    durability = section["durability"]
    runs = "; ".join(
        f"{app['requests_per_s']:.0f}/{baseline['requests_per_s']:.0f} req/s, "
        f"p99 {app['p99_ms']:.0f}/{baseline['p99_ms']:.0f} ms"
        for app, baseline in zip(section["runs"]["app"], section["runs"]["baseline"], strict=True)
    )
    header = ["", "req/s", "p50 ms", "p99 ms", "non-2xx", "acknowledged (unique)", "stored"]
    header += ["lost", "doubled"]
    rows = []
    for name in ("app", "baseline"):
        summary, check = section["summary"][name], section["check"][name]
        rows.append(
            [
                name,
                f"{summary['requests_per_s']:.0f}",
                f"{summary['p50_ms']:.1f}",
                f"{summary['p99_ms']:.1f}",
                summary["non2xx"] + summary["socket_errors"],
                f"{check['acknowledged']} ({check['unique_acknowledged']})",
                f"{check['stored_rows']} ({check['stored_unanswered']} unanswered at a stop)",
                check["lost"],
                check["doubled"],
            ]
        )
    return [
        f"### Ingestion side by side, {section['database']}",
        "",
        f"{settings['connections']} keep-alive connections (wrk), full-size signed on_payment "
        f"IPNs ({settings['fields']} fields), 10 % exact redeliveries; {settings['runs']} runs "
        f"of {settings['ingest_seconds']} s each, app and baseline in turn, after a warm-up. "
        f"Durability: app {durability['app']}, baseline {durability['baseline']}. Medians over "
        "the runs; the ratio is the median of each pair's.",
        "",
        *_table(header, rows),
        "The app's task workers put the IPNs into the event log and do their follow-up "
        "(roll-ups, forwarding) behind the receiver, at a lower CPU priority: at the end of a "
        f"run {section['summary']['app_follow_up_backlog']:.0f} IPNs were still waiting for "
        "them, on the median, "
        f"and took {section['summary']['app_follow_up_drain_s']:.1f} s more with the machine to "
        "themselves (each baseline run starts after that). Counting that time, the app took in "
        f"and finished {section['summary']['app_end_to_end_per_s']:.0f} IPNs/s end to end.",
        "",
        f"Each run (app/baseline): {runs}. Exact redeliveries among the acknowledged: "
        + ", ".join(
            f"{name} {section['summary'][name]['redelivered_share']:.0%}"
            + (" (a connection ran out of bodies and started over)" if ran_out else "")
            for name in ("app", "baseline")
            for ran_out in [section["summary"][name]["bodies_ran_out"]]
        )
        + ".",
        "",
    ]


def _scale(scale: dict) -> list[str]:
    rows = []
    for r in scale["requests"]:
        goal = API_P95_MS if r["group"] == "api" else ADMIN_P95_MS
        verdict = "PASS" if r["p95_ms"] <= goal else "FAIL"
        times = [f"{r[key]:.1f}" for key in ("p50_ms", "p95_ms", "max_ms")]
        rows.append([f"{r['group']}: {r['label']}", *times, goal, verdict])
    seeded = (
        f"seeded in {scale['seed_seconds']:.0f} s"
        if scale["seeded"]
        else "the log a previous run seeded, kept in var/bench/"
    )
    return [
        f"### Admin and REST API at {scale['events']:,} events",
        "",
        f"A year of mixed events ({seeded}). "
        "Over HTTP through gunicorn, one request at a time: one untimed GET of each, then "
        f"{scale['repeats']} timed (the CSV export fewer, to its first rows). Admin pages logged "
        "in through the login form, the API with a bearer token.",
        "",
        *_table(["request", "p50 ms", "p95 ms", "max ms", "target p95", ""], rows),
    ]


def _worker(worker: dict) -> list[str]:
    delay = worker["delay"]
    rows = [
        [f"{t['workers']} task worker(s)", f"{t['per_s']:.0f} deliveries/s ({t['deliveries']})"]
        for t in worker["throughput"]
    ]
    rows.append(
        [
            "OK to first attempt",
            f"p50 {delay['p50_s']:.2f} s, p99 {delay['p99_s']:.2f} s, max {delay['max_s']:.2f} s "
            f"({delay['events']} events)",
        ]
    )
    return [
        "### Forwarding",
        "",
        f"To a local receiver that answers 204 at once; {worker['deliveries_succeeded']} "
        f"deliveries succeeded, {worker['deliveries_not_succeeded']} did not, the receiver got "
        f"{worker['receiver_got']}. Throughput: a backlog, then task workers started; from the "
        "start of the first attempt to the end of the last. Delay: IPNs at "
        f"{worker['paced_rate']}/s with one task worker (as `make run`), from the event's "
        "`received` (set just before its row is written, so a little before the OK) to its first "
        "attempt.",
        "",
        *_table(["", "measured"], rows),
    ]


def _memory(processes: list[dict]) -> list[str]:
    rows = [
        [
            p["role"],
            p["after"],
            f"{p['rss_mib']:.0f}",
            f"{p['peak_mib']:.0f}",
            "PASS" if p["peak_mib"] <= PROCESS_MIB else "FAIL",
        ]
        for p in processes
    ]
    return [
        "### Memory",
        "",
        "Resident size (VmRSS) and its peak (VmHWM) of each process, read from /proc at the end "
        "of the section named.",
        "",
        *_table(["process", "after", "resident MiB", "peak MiB", f"≤ {PROCESS_MIB} MiB"], rows),
    ]


def write(path: Path, report: str) -> None:
    """Put the report between the markers of `path`, keeping everything else in it."""
    block = f"{BEGIN}\n{report.rstrip()}\n{END}"
    if path.exists():
        text = path.read_text()
        if BEGIN in text and END in text:
            text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text,
                          flags=re.S)  # fmt: skip
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    else:
        text = (
            "# Benchmarks\n\n`make bench` (bench/run.py) measures what issue #12 asks for and "
            "rewrites the part between the markers below; write notes outside them.\n\n"
            f"{block}\n"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
