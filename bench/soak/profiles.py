"""What a soak pass does, and when: the full run of `make soak` and the short one in `make test`.

Attacks are timed from the start of the IPN load, which is paced (an open arrival rate, as
Digistore24's notifications arrive whatever the server's state), so that every attack meets
traffic on a fast machine as on a slow one.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Attack:
    at: float  # seconds after the load starts
    kind: str  # slowloris, login_flood, kill_web_worker, kill_task_worker, database
    seconds: float = 0.0  # how long it lasts (slow-loris, login flood)
    size: int = 0  # connections (slow-loris) or threads (login flood)


@dataclass(frozen=True)
class Profile:
    name: str
    ipns: int
    connections: int
    rate: float  # IPNs started per second at most
    attacks: tuple[Attack, ...]
    restart_postgres: bool  # the database attack on PostgreSQL; SQLite is always locked
    sqlite_lock_extra: float  # seconds the SQLite lock outlasts the busy timeout
    load_seconds: float  # no IPN is sent for the first time after this (a slow machine)
    client_timeout: float  # seconds the sender waits for an answer
    max_attempts: int  # sends of one IPN at most (Digistore24: 20+ over 10 days)
    drain_seconds: float  # deadline for forwarding to finish after the load
    # Share of the unique IPNs that are test purchases, which both destinations take (the
    # rest are live and forwarded nowhere): one task worker makes ~20 delivery attempts a
    # second here (each is ~5 commits), so forwarding all 14,000 events of a full run to a
    # destination failing half the time (~42,000 attempts) would take it half an hour.
    forwarded: float


FULL = Profile(
    name="full",
    ipns=20_000,
    connections=32,
    rate=150,
    # One after another, so that each shows in the latency of its own window, and the kills
    # come while IPNs flow (slow clients stall them all on sync gunicorn workers).
    attacks=(
        Attack(15, "slowloris", seconds=30, size=8),
        Attack(50, "login_flood", seconds=30, size=6),
        Attack(85, "kill_web_worker"),
        Attack(95, "kill_task_worker"),
        Attack(105, "database"),
    ),
    restart_postgres=True,
    # Twice the busy timeout and more: a request that was already waiting when the lock was
    # taken cannot slip through at its end.
    sqlite_lock_extra=6,
    # Two passes of at most ~7 minutes each: `make soak` stays under 15 on a loaded machine,
    # where the load may then be cut short (a failed check that says so).
    load_seconds=270,
    client_timeout=30,
    max_attempts=12,
    drain_seconds=90,
    forwarded=0.08,
)

SHORT = Profile(
    name="short",
    ipns=600,
    connections=8,
    rate=40,
    attacks=(
        Attack(2, "slowloris", seconds=4, size=2),
        Attack(4, "login_flood", seconds=4, size=2),
        Attack(9, "kill_web_worker"),
        Attack(11, "database"),
    ),
    restart_postgres=False,
    sqlite_lock_extra=1,
    load_seconds=60,
    client_timeout=10,
    max_attempts=10,
    drain_seconds=40,
    forwarded=0.1,
)

PROFILES = {profile.name: profile for profile in (FULL, SHORT)}
