"""`make soak`: a soak pass on PostgreSQL (restarted once during it), then one on SQLite (held
locked past its busy timeout instead), each in a process of its own; the last line says
whether all checks held, or the first that failed.

    .venv/bin/python -m bench.soak [--short] [--database URL|sqlite ...] [--no-restart]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.soak.stack import ROOT

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/ds24soak"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the short pass of `make test`")
    parser.add_argument(
        "--database",
        action="append",
        help=f"a scratch PostgreSQL URL or `sqlite`; repeatable (default: {DEFAULT_POSTGRES} "
        "and sqlite). The PostgreSQL database is created and dropped.",
    )
    parser.add_argument(
        "--no-restart", action="store_true", help="leave PostgreSQL running (a shared server)"
    )
    args = parser.parse_args()
    databases = args.database or [DEFAULT_POSTGRES, "sqlite"]
    profile = "short" if args.short else "full"
    began = time.monotonic()
    summaries, failures = [], []
    for database in databases:
        with tempfile.NamedTemporaryFile(suffix=".json") as result:
            command = [sys.executable, "-m", "bench.soak.run", "--database", database,
                       "--profile", profile, "--result", result.name]  # fmt: skip
            if args.no_restart:
                command.append("--no-restart")
            code = subprocess.run(command, cwd=ROOT, check=False).returncode
            try:
                outcome = json.loads(Path(result.name).read_text() or "{}")
            except ValueError:
                outcome = {}
        label = outcome.get("label", database)
        checks = outcome.get("checks", [])
        failed = [c for c in checks if c["ok"] is False]
        summaries.append(f"{label}: {len(checks) - len(failed)} of {len(checks)} checks held")
        if failed:
            failures.append(f"{label}: {failed[0]['name']}: {failed[0]['detail']}")
        elif code or not checks:
            failures.append(f"{label}: the pass stopped (exit code {code}) before its checks")
    print("\n".join(summaries))
    elapsed = time.monotonic() - began
    if failures:
        print(f"soak FAILED after {elapsed:.0f} s: {failures[0]}")
        sys.exit(1)
    print(f"soak passed in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
