"""Load: signed IPNs posted by wrk (bench/ipn.lua) to one receive URL, and an exact account of
which notifications were acknowledged, for checking what got stored."""

import json
import math
import os
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import payloads

WRK = shutil.which("wrk")
SCRIPT = Path(__file__).with_name("ipn.lua")
# Requests a second assumed before a target has been measured, to size its body files; a
# connection that runs out starts over, which only adds redeliveries (and is reported).
FIRST_GUESS_RATE = 1500


@dataclass
class Ledger:
    """Everything sent to one receive URL so far: per transaction id, how many deliveries were
    acknowledged (2xx) and how many went unanswered (in flight when a run stopped, or lost
    with their connection: stored or not, nobody can tell)."""

    next_id: int = 1
    acked: Counter = field(default_factory=Counter)
    unanswered: Counter = field(default_factory=Counter)

    def check(self, stored: dict[int, int], rows: int) -> dict:
        """Compare with what the target stored: transaction id -> delivery count, and the
        number of rows (more rows than ids would be a notification stored twice)."""
        lost = [tid for tid in self.acked if tid not in stored]
        unexpected = [tid for tid in stored if tid not in self.acked and tid not in self.unanswered]
        miscounted = [
            tid
            for tid, count in stored.items()
            if not self.acked[tid] <= count <= self.acked[tid] + self.unanswered[tid]
        ]
        only_unanswered = sum(1 for tid in stored if tid not in self.acked)
        return {
            "acknowledged": sum(self.acked.values()),
            "unique_acknowledged": len(self.acked),
            "unanswered": sum(self.unanswered.values()),
            "stored_rows": rows,
            "stored_unanswered": only_unanswered,
            "lost": len(lost),
            "doubled": rows - len(stored),
            "unexpected": len(unexpected),
            "miscounted": len(miscounted),
            "ok": rows - only_unanswered == len(self.acked)
            and not lost
            and rows == len(stored)
            and not unexpected
            and not miscounted,
        }


def post_ipns(
    *,
    port: int,
    path: str,
    passphrase: str,
    ledger: Ledger,
    workdir: Path,
    seconds: int,
    connections: int,
    expected_rate: float = 0,
    delay_ms: int = 0,
) -> dict:
    """Post signed full-size on_payment IPNs (10 % exact redeliveries) for `seconds` over
    `connections` keep-alive connections, flat out or `delay_ms` apart per connection; returns
    wrk's measurements, and records in `ledger` what was acknowledged."""
    rate = connections * 1000 / delay_ms if delay_ms else expected_rate or FIRST_GUESS_RATE
    # Twice the best rate so far: a target often runs faster after its warm-up.
    per_connection = math.ceil(rate * seconds * 2 / connections) + payloads.REDELIVERY_EVERY
    bodies = workdir / "bodies"
    shutil.rmtree(bodies, ignore_errors=True)
    plan = payloads.write_connection_files(
        bodies,
        first_id=ledger.next_id,
        connections=connections,
        per_connection=per_connection,
        passphrase=passphrase,
    )
    result_path = workdir / "wrk.json"
    argv = [
        WRK, f"-t{connections}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "--latency", "-s", str(SCRIPT), f"http://127.0.0.1:{port}",
    ]  # fmt: skip
    env = {
        **os.environ,
        "BENCH_BODIES": str(bodies),
        "BENCH_PATH": path,
        "BENCH_RESULT": str(result_path),
        "BENCH_DELAY_MS": str(delay_ms),
    }
    with (workdir / "wrk.log").open("a") as log:
        subprocess.run(argv, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
    measured = json.loads(result_path.read_text())
    shutil.rmtree(bodies)

    seen = set(ledger.acked) | set(ledger.unanswered)
    acked = redelivered = non2xx = 0
    wrapped = False
    for ids, connection in zip(plan, measured["connections"], strict=True):
        unanswered = set(connection["unanswered"])
        failed = {request for request, _ in connection["failed"]}
        non2xx += len(failed)
        wrapped |= connection["sent"] > len(ids)
        for request in range(1, connection["sent"] + 1):
            tid = ids[(request - 1) % len(ids)]
            if request in unanswered:
                ledger.unanswered[tid] += 1
            elif request not in failed:
                acked += 1
                redelivered += tid in seen
                ledger.acked[tid] += 1
            seen.add(tid)
    ledger.next_id = max(max(ids) for ids in plan) + 1
    seconds_run = measured["duration_us"] / 1e6
    latency = measured["latency_us"]
    return {
        "requests": measured["requests"],
        "seconds": seconds_run,
        "requests_per_s": measured["requests"] / seconds_run,
        "p50_ms": latency["p50"] / 1000,
        "p90_ms": latency["p90"] / 1000,
        "p99_ms": latency["p99"] / 1000,
        "max_ms": latency["max"] / 1000,
        "non2xx": non2xx,
        "socket_errors": sum(
            measured["errors"][kind] for kind in ("connect", "read", "write", "timeout")
        ),
        "acknowledged": acked,
        "redelivered_share": redelivered / acked if acked else 0.0,
        "bodies_ran_out": wrapped,
    }
