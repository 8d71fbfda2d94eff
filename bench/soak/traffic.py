"""The IPNs of a soak pass and the sender that delivers them as Digistore24 does.

The plan: 70 % unique notifications (payments, refunds, e-tickets, signed with their webhook's
passphrase), 20 % exact redeliveries of those (the same bytes again, at a random later or
concurrent moment), 5 % with a bad signature and 5 % malformed. The sender posts them from a
fixed number of keep-alive connections at a paced rate and, like Digistore24, sends again
whatever did not get `OK`: with backoff, at most `max_attempts` times. A 4xx is sent once more
only (the bytes are the same, so the answer is too; Digistore24 keeps trying for days, which
would only load the server here). Every attempt is recorded: when, how long, what came back.
"""

import heapq
import http.client
import random
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from webhooks import samples
from webhooks.signing import signature

FORM = "application/x-www-form-urlencoded; charset=utf-8"
UNIQUE, REDELIVERY, BAD_SIGNATURE, MALFORMED = "unique", "redelivery", "bad signature", "malformed"
# Unique notifications by event (the payments webhook takes payments and refunds).
EVENT_MIX = (("on_payment", 0.5), ("on_refund", 0.2), ("eticket", 0.3))
BACKOFF_BASE, BACKOFF_CAP = 0.5, 8.0
# Seconds after the load's time is up in which IPNs already sent may still be sent again.
RETRY_GRACE = 30.0


@dataclass(frozen=True)
class Ipn:
    index: int
    kind: str
    webhook: str  # the webhook's name in the pass (`payments`, `etickets`)
    body: bytes
    content_type: str
    expected: int  # the status it must get in the end: 200 (with OK) or the 4xx of its flaw
    flaw: str = ""  # what is wrong with a bad one
    original: int = -1  # the unique IPN a redelivery repeats (its own index if unique)
    order_id: str = ""  # valid IPNs: identifies the event (every unique IPN has its own)
    forwarded: bool = False  # valid IPNs: a test purchase, which the destinations take

    @property
    def valid(self) -> bool:
        return self.kind in (UNIQUE, REDELIVERY)


def _unique(index: int, rng: random.Random, passphrases: dict[str, str], share: float) -> Ipn:
    event = rng.choices([e for e, _ in EVENT_MIX], [w for _, w in EVENT_MIX])[0]
    order_id = f"SOAK{index:07d}"
    forwarded = rng.random() < share
    params = samples.BY_EVENT[event](
        order_id=order_id,
        transaction_id=str(900_000_000 + index),
        custom=f"soak-{index}",
        api_mode="test" if forwarded else "live",
    )
    webhook = "etickets" if event == "eticket" else "payments"
    return Ipn(
        index=index,
        kind=UNIQUE,
        webhook=webhook,
        body=samples.signed_body(params, passphrases[webhook]),
        content_type=FORM,
        expected=200,
        original=index,
        order_id=order_id,
        forwarded=forwarded,
    )


def _bad_signature(index: int, rng: random.Random, passphrases: dict[str, str]) -> Ipn:
    webhook = rng.choice(list(passphrases))
    params = samples.on_payment(order_id=f"BAD{index:07d}", custom=f"soak-{index}")
    flaw = ("wrong passphrase", "tampered after signing", "no sha_sign")[index % 3]
    if flaw == "wrong passphrase":
        body = samples.signed_body(params, passphrases[webhook] + "x")
    elif flaw == "tampered after signing":
        signed = {**params, "sha_sign": signature(params.items(), passphrases[webhook])}
        body = urlencode({**signed, "amount_brutto": "0.01"}).encode()
    else:
        body = urlencode(params).encode()
    return Ipn(index, BAD_SIGNATURE, webhook, body, FORM, 403, flaw)


def _malformed(index: int, rng: random.Random, passphrases: dict[str, str], limit: int) -> Ipn:
    """One of the flaws the receiver's contract lists, each with its status; made unique by the
    index where the body is stored, so that each rejected row can be told apart."""
    webhook = rng.choice(list(passphrases))
    tag = f"soak-{index}".encode()
    flaws = (
        ("empty body", b"", FORM, 400),
        ("repeated key", b"event=on_payment&custom=" + tag + b"&custom=x&sha_sign=AB", FORM, 400),
        ("not UTF-8", b"event=on_payment&custom=" + tag + b"&buyer_last_name=M\xfcller", FORM, 400),
        ("NUL", b"event=on_payment&custom=" + tag + b"%00&sha_sign=AB", FORM, 400),
        ("JSON", b'{"event": "on_payment", "custom": "' + tag + b'"}', "application/json", 415),
        (
            "too many fields",
            b"custom=" + tag + b"&" + b"&".join(b"f%d=1" % i for i in range(1001)),
            FORM,
            400,
        ),
        ("too large", b"event=on_payment&custom=" + tag + b"&x=" + b"y" * limit, FORM, 413),
    )
    flaw, body, content_type, status = flaws[index % len(flaws)]
    return Ipn(index, MALFORMED, webhook, body, content_type, status, flaw)


def plan(
    count: int, *, passphrases: dict[str, str], max_body: int, forwarded: float, seed: int = 24
) -> list[Ipn]:
    """`count` IPNs in the order they are sent: 70 % unique, 20 % redeliveries of those,
    5 % bad signatures, 5 % malformed. A `forwarded` share of the unique ones are test
    purchases (api_mode=test), the rest live."""
    rng = random.Random(seed)
    n_bad = n_malformed = count * 5 // 100
    n_redelivered = count * 20 // 100
    n_unique = count - n_bad - n_malformed - n_redelivered
    ipns = [_unique(i, rng, passphrases, forwarded) for i in range(n_unique)]
    uniques = list(ipns)
    for _ in range(n_redelivered):
        original = rng.choice(uniques)
        ipns.append(
            Ipn(
                len(ipns), REDELIVERY, original.webhook, original.body, original.content_type,
                200, original=original.index, order_id=original.order_id,
                forwarded=original.forwarded,
            )
        )  # fmt: skip
    ipns += [_bad_signature(len(ipns) + i, rng, passphrases) for i in range(n_bad)]
    ipns += [_malformed(len(ipns) + i, rng, passphrases, max_body) for i in range(n_malformed)]
    rng.shuffle(ipns)
    return ipns


@dataclass
class Attempts:
    """Every attempt made, in parallel lists (compact for tens of thousands)."""

    ipn: list[int] = field(default_factory=list)
    started: list[float] = field(default_factory=list)  # time.monotonic()
    seconds: list[float] = field(default_factory=list)
    status: list[int | None] = field(default_factory=list)  # None: no answer
    ok: list[bool] = field(default_factory=list)  # 200 with a body starting with OK
    error: list[str] = field(default_factory=list)


class Sender:
    """Posts the plan from `connections` threads, each with its own keep-alive connection,
    starting IPN i no earlier than i / rate seconds after `run` begins, and sends again what
    did not get OK (see the module docstring)."""

    def __init__(self, ipns, *, port: int, paths: dict[str, str], connections: int,
                 rate: float, timeout: float, max_attempts: int, seconds: float):  # fmt: skip
        self.ipns = {ipn.index: ipn for ipn in ipns}
        self.port, self.paths, self.connections = port, paths, connections
        self.rate, self.timeout, self.max_attempts = rate, timeout, max_attempts
        self.seconds = seconds  # no first attempt after this; retries get RETRY_GRACE more
        self.attempts = Attempts()
        # ipn index -> ok, rejected, gave up; not sent (too late for a first attempt),
        # unfinished (still being retried when the time was up)
        self.final: dict[int, str] = {}
        self.started_at = 0.0
        self._queue: list[tuple[float, int, int, int]] = []  # (due, order, ipn index, attempt)
        self._changed = threading.Condition()
        self._in_flight = 0
        self._stopped = False
        self._random = random.Random(7)

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    def run(self) -> None:
        self.started_at = self.started_at or time.monotonic()
        with self._changed:
            for order, ipn in enumerate(self.ipns.values()):
                heapq.heappush(
                    self._queue, (self.started_at + order / self.rate, order, ipn.index, 1)
                )
        threads = [
            threading.Thread(target=self._connection, daemon=True) for _ in range(self.connections)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # What the time limit (or a stop) cut short.
        attempted = set(self.attempts.ipn)
        for index in self.ipns:
            self.final.setdefault(index, "unfinished" if index in attempted else "not sent")

    @property
    def done(self) -> int:
        return len(self.final)

    def sent(self, ipn: Ipn) -> bool:
        """Whether it was sent at all (the load's time may have run out first)."""
        return self.final.get(ipn.index) != "not sent"

    def _next(self) -> tuple[int, int] | None:
        """The next due (ipn index, attempt), waiting for it; None when all are finished."""
        with self._changed:
            while True:
                now = time.monotonic()
                if now > self.started_at + self.seconds + RETRY_GRACE:
                    self._stopped = True
                if self._stopped or (not self._queue and not self._in_flight):
                    self._changed.notify_all()
                    return None
                if self._queue:
                    wait = self._queue[0][0] - now
                    if wait <= 0:
                        _, _, index, attempt = heapq.heappop(self._queue)
                        if attempt == 1 and now > self.started_at + self.seconds:
                            self.final[index] = "not sent"
                            continue
                        self._in_flight += 1
                        return index, attempt
                    self._changed.wait(min(wait, 0.5))
                else:
                    self._changed.wait(0.5)

    def _connection(self) -> None:
        conn = None
        while (job := self._next()) is not None:
            index, attempt = job
            ipn = self.ipns[index]
            started = time.monotonic()
            status, ok, error = None, False, ""
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                conn.request(
                    "POST", self.paths[ipn.webhook], body=ipn.body,
                    headers={"Content-Type": ipn.content_type},
                )  # fmt: skip
                response = conn.getresponse()
                answer = response.read()
                status, ok = response.status, response.status == 200 and answer.startswith(b"OK")
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                error = type(exc).__name__
                conn.close()
                conn = None
            self._record(ipn, attempt, started, status, ok, error)
        if conn is not None:
            conn.close()

    def _record(self, ipn: Ipn, attempt: int, started: float, status, ok: bool, error: str):
        now = time.monotonic()
        with self._changed:
            a = self.attempts
            a.ipn.append(ipn.index)
            a.started.append(started)
            a.seconds.append(now - started)
            a.status.append(status)
            a.ok.append(ok)
            a.error.append(error)
            self._in_flight -= 1
            if ok:
                self.final[ipn.index] = "ok"
            elif status is not None and 400 <= status < 500 and attempt >= 2:
                self.final[ipn.index] = "rejected"
            elif attempt >= self.max_attempts:
                self.final[ipn.index] = "gave up"
            else:
                delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
                due = now + delay * self._random.uniform(0.5, 1.5)
                heapq.heappush(self._queue, (due, -1, ipn.index, attempt + 1))
            self._changed.notify_all()
