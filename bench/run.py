"""`make bench`: IPN ingestion side by side with a bare baseline (SQLite, then PostgreSQL),
the admin and the REST API over 1,000,000 events, forwarding by the task workers, and the
memory of every process; prints the tables and writes them to docs/benchmarks.md.

    python -m bench.run [--postgres postgres://…/ds24bench] [--database-url URL]
                        [--sections ingest-sqlite,ingest-postgresql,scale,worker]
                        [--smoke] [--markdown PATH] [--json PATH] [--workdir DIR]

--postgres names a scratch database for the PostgreSQL pair; it is created and dropped (without
it, that pair is skipped). The scale and forwarding sections run on SQLite (the 1M-event log is
kept in var/bench/scale.sqlite3 for the next run; delete it to seed afresh), or on
--database-url, which must be a scratch database: they fill it. --smoke runs everything at toy
sizes in about a minute (tests/test_bench_smoke.py) and writes no docs unless asked.
"""

import argparse
import json
import shutil
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench import db, ingest, load, payloads, report, scale, servers, worker

SECTIONS = ("ingest-sqlite", "ingest-postgresql", "scale", "worker")
# Sizes: (full, smoke).
SIZES = {
    "connections": (16, 16),
    "runs": (3, 3),
    "ingest_seconds": (15, 1),
    "warmup_seconds": (3, 1),
    "events": (1_000_000, 2_000),
    "repeats": (20, 2),
    "backlog_seconds": (6, 1),
    "paced_seconds": (10, 2),
    # IPNs a second while the delay to the first attempt is measured: half of what each of two
    # workers must deliver for 200/s, so a worker that meets its target does not fall behind.
    "paced_rate": (50, 20),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--postgres", default="")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
    chosen = args.sections.split(",")
    if unknown := set(chosen) - set(SECTIONS):
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if load.WRK is None and set(chosen) - {"scale"}:
        parser.error("the load comes from wrk, which is not installed (apt-get install wrk)")
    if args.markdown is None and not args.smoke:
        args.markdown = servers.ROOT / report.DOCS
    size = {name: sizes[args.smoke] for name, sizes in SIZES.items()}
    workdir = args.workdir or servers.ROOT / "var" / "bench" / ("smoke" if args.smoke else "last")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)

    started = time.monotonic()
    results = {
        "smoke": args.smoke,
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(),
        "settings": {**size, "fields": len(payloads.on_payment(0))},
        "sections": {},
    }
    # Once, as `make run` does before serving: the admin pages need the collected static files.
    servers.manage(servers.app_environment("", 0), "collectstatic", "--noinput", "--verbosity", "0")
    for name in chosen:
        print(f"== {name}", file=sys.stderr, flush=True)
        section_dir = workdir / name
        section_dir.mkdir()
        began = time.monotonic()
        results["sections"][name] = run_section(name, args, size, section_dir)
        results["sections"][name]["seconds"] = time.monotonic() - began
    results["wall_seconds"] = time.monotonic() - started
    results["targets"] = report.targets(results["sections"])

    text = report.markdown(results)
    print(text)
    if args.markdown:
        report.write(args.markdown, text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    failed = [name for name, section in results["sections"].items() if "error" in section]
    return 1 if failed else 0


def run_section(name: str, args, size: dict, workdir: Path) -> dict:
    """One section's results; {"skipped": why} or {"error": traceback} instead when it could
    not run, so that the others still do."""
    try:
        if name == "ingest-sqlite":
            return _ingest(f"sqlite:///{workdir / 'app.sqlite3'}", size, workdir)
        if name == "ingest-postgresql":
            if not args.postgres:
                return {"skipped": "no --postgres scratch database given"}
            if why := db.postgres_available(args.postgres):
                return {"skipped": why}
            with db.scratch_postgres(args.postgres) as url:
                return _ingest(url, size, workdir)
        if name == "scale":
            kept = servers.ROOT / "var" / "bench" / "scale.sqlite3"
            return scale.measure(
                database_url=args.database_url
                or f"sqlite:///{workdir / 'scale.sqlite3' if args.smoke else kept}",
                events=size["events"],
                workdir=workdir,
                repeats=size["repeats"],
            )
        return worker.forwarding(
            database_url=args.database_url or f"sqlite:///{workdir / 'worker.sqlite3'}",
            workdir=workdir,
            backlog_seconds=size["backlog_seconds"],
            paced_seconds=size["paced_seconds"],
            paced_rate=size["paced_rate"],
            connections=size["connections"],
        )
    except Exception:  # reported, and the other sections still run
        traceback.print_exc()
        return {"error": traceback.format_exc()}


def _ingest(url: str, size: dict, workdir: Path) -> dict:
    return ingest.side_by_side(
        database_url=url,
        workdir=workdir,
        seconds=size["ingest_seconds"],
        runs=size["runs"],
        connections=size["connections"],
        warmup=size["warmup_seconds"],
    )


if __name__ == "__main__":
    sys.exit(main())
