"""What a soak pass must show, judged from three sides: what the sender saw (every attempt and
its answer), what the database holds (events, rejected deliveries, forwarding deliveries), and
what the destinations received (webhook-ids, signatures).

A sent request that got no answer (the connection died: a worker was killed, a timeout) may or
may not have been stored; counts that depend on it are checked as a range.
"""

import collections
from dataclasses import dataclass
from urllib.parse import parse_qsl

from bench.soak.traffic import Ipn, Sender


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: reported, not judged
    detail: str


def _tally(sender: Sender):
    """Per IPN: OK answers, unanswered attempts, statuses."""
    oks, unanswered = collections.Counter(), collections.Counter()
    statuses = collections.defaultdict(collections.Counter)
    a = sender.attempts
    for index, status, ok in zip(a.ipn, a.status, a.ok, strict=True):
        if ok:
            oks[index] += 1
        if status is None:
            unanswered[index] += 1
        statuses[index][status] += 1
    return oks, unanswered, statuses


def _within(windows, moment: float) -> bool:
    return any(start <= moment <= end for start, end in windows)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _server_error(status: int | None) -> bool:
    """A 5xx other than 503, which is the receiver's documented "not stored, retry later"."""
    return status is not None and status >= 500 and status != 503


def answers(sender: Sender, login_statuses: collections.Counter) -> Check:
    """`login_statuses`: the login flood's tally, keyed "GET 200", "POST 200", "<error>"."""
    a = sender.attempts
    ipn_500 = sum(1 for s in a.status if _server_error(s))
    login_500 = sum(
        n
        for key, n in login_statuses.items()
        if (code := key.rpartition(" ")[2]).isdigit() and _server_error(int(code))
    )
    by_status = collections.Counter("none" if s is None else s for s in a.status)
    detail = (
        f"{ipn_500} of {len(a.status)} IPN answers, {login_500} of "
        f"{sum(login_statuses.values())} login answers; IPN answers: "
        + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items(), key=lambda kv: str(kv[0])))
    )
    return Check("no 500 answers", ipn_500 == 0 and login_500 == 0, detail)


def load(sender: Sender, seconds: float, loadavg: tuple[float, float]) -> Check:
    """Whether every IPN was sent and settled within the pass's time."""
    finals = collections.Counter(sender.final.values())
    cut = finals["not sent"] + finals["unfinished"]
    sent = len(sender.ipns) - finals["not sent"]
    return Check(
        "load sent in time",
        cut == 0,
        f"{sent} of {len(sender.ipns)} IPNs sent in {seconds:.0f} s ({sent / seconds:.0f}/s, "
        f"limit {sender.seconds:.0f} s), {finals['unfinished']} still being retried at the "
        f"end; {len(sender.attempts.ipn)} requests; load average {loadavg[0]:.1f} at the "
        f"start, {loadavg[1]:.1f} at the end",
    )


def valid_accepted(ipns: list[Ipn], sender: Sender) -> Check:
    valid = [ipn for ipn in ipns if ipn.valid and sender.sent(ipn)]
    missing = [ipn for ipn in valid if sender.final.get(ipn.index) != "ok"]
    detail = f"{len(valid) - len(missing)} of {len(valid)} answered OK"
    if missing:
        _, _, statuses = _tally(sender)
        first = missing[0]
        detail += f"; e.g. {first.kind} #{first.index}: {dict(statuses[first.index])}"
    return Check("every valid IPN answered OK", not missing, detail)


def stored_once(ipns: list[Ipn], sender: Sender, events) -> list[Check]:
    """`events`: (order_id, payload, delivery_count) of every stored event."""
    oks, unanswered, _ = _tally(sender)
    uniques = {ipn.order_id: ipn for ipn in ipns if ipn.kind == "unique"}
    sent = {ipn.order_id for ipn in ipns if ipn.valid and sender.sent(ipn)}
    accepted = {ipn.order_id for ipn in ipns if ipn.valid and oks[ipn.index]}
    by_order = collections.defaultdict(list)
    for order_id, payload, count in events:
        by_order[order_id].append((payload, count))
    doubled = [o for o, rows in by_order.items() if len(rows) > 1]
    strangers = [o for o in by_order if o not in sent]
    missing = accepted - set(by_order)

    def sent_pairs(order_id):
        return [list(pair) for pair in parse_qsl(uniques[order_id].body.decode(), True)]

    altered = [o for o, rows in by_order.items() if o in uniques and rows[0][0] != sent_pairs(o)]
    checks = [
        Check(
            "unique valid IPNs stored exactly once",
            not doubled and not strangers and not altered and not missing,
            f"{len(events)} events for {len(accepted)} unique IPNs answered OK ({len(sent)} "
            f"sent); {len(doubled)} doubled, {len(strangers)} not sent as valid, "
            f"{len(altered)} payloads differ, {len(missing)} missing",
        )
    ]
    # Each OK answer was for a stored row: the IPN's own event.
    ok_without_row = [
        ipn for ipn in ipns if oks[ipn.index] and (not ipn.valid or ipn.order_id not in by_order)
    ]
    checks.append(
        Check(
            "no IPN answered OK without its row",
            not ok_without_row,
            f"{sum(oks.values())} OK answers, {len(ok_without_row)} without a stored event",
        )
    )

    # delivery_count counts every delivery that was stored or counted: each OK answer, and
    # perhaps an unanswered attempt (stored just before its worker was killed).
    ok_by_order, unanswered_by_order = collections.Counter(), collections.Counter()
    for ipn in ipns:
        if ipn.valid:
            ok_by_order[ipn.order_id] += oks[ipn.index]
            unanswered_by_order[ipn.order_id] += unanswered[ipn.index]
    wrong = []
    for order_id, rows in by_order.items():
        count = rows[0][1]
        low, high = ok_by_order[order_id], ok_by_order[order_id] + unanswered_by_order[order_id]
        if not low <= count <= high:
            wrong.append((order_id, count, low, high))
    redelivered = sum(1 for ipn in ipns if ipn.kind == "redelivery" and sender.sent(ipn))
    total = sum(rows[0][1] for rows in by_order.values())
    detail = (
        f"delivery counts add up to {total} for {sum(ok_by_order.values())} OK answers "
        f"(+{sum(unanswered_by_order.values())} unanswered attempts); {redelivered} "
        "redeliveries sent"
    )
    if wrong:
        detail += f"; {len(wrong)} events off, e.g. {wrong[0][0]}: {wrong[0][1]} not in "
        detail += f"[{wrong[0][2]}, {wrong[0][3]}]"
    checks.append(Check("every redelivery counted", not wrong, detail))
    return checks


def rejected(ipns: list[Ipn], sender: Sender, webhooks, rows, keep: int, outage) -> list[Check]:
    """`webhooks`: {name: rejected_count}; `rows`: (webhook name, status, body) of every listed
    rejected delivery; `outage`: windows in which the database was unavailable."""
    oks, _, statuses = _tally(sender)
    bad = [ipn for ipn in ipns if not ipn.valid and sender.sent(ipn)]
    accepted = [ipn for ipn in bad if oks[ipn.index]]
    wrong_status = [
        ipn for ipn in bad
        if any(s is not None and 400 <= s < 500 and s != ipn.expected for s in statuses[ipn.index])
    ]  # fmt: skip
    unrejected = [ipn for ipn in bad if sender.final.get(ipn.index) != "rejected"]
    flaws = collections.Counter(ipn.flaw for ipn in bad)
    checks = [
        Check(
            "every bad IPN rejected with its status",
            not accepted and not wrong_status and not unrejected,
            f"{len(bad)} bad ({len(flaws)} kinds of flaw): {len(accepted)} accepted, "
            f"{len(wrong_status)} with another status, {len(unrejected)} never rejected",
        )
    ]

    # The counter counts every recorded rejection. A rejection answered while the database
    # was away may not be recorded (the receiver answers it anyway); an unanswered attempt
    # may have been.
    a = sender.attempts
    by_ipn = {ipn.index: ipn for ipn in bad}
    answered, in_outage, maybe = collections.Counter(), collections.Counter(), collections.Counter()
    for index, started, status in zip(a.ipn, a.started, a.status, strict=True):
        ipn = by_ipn.get(index)
        if ipn is None:
            continue
        if status is None:
            maybe[ipn.webhook] += 1
        elif 400 <= status < 500:
            answered[ipn.webhook] += 1
            if _within(outage, started):
                in_outage[ipn.webhook] += 1
    counted_ok = all(
        answered[name] - in_outage[name] <= webhooks[name] <= answered[name] + maybe[name]
        for name in webhooks
    )
    checks.append(
        Check(
            "every rejection counted",
            counted_ok,
            "; ".join(
                f"{name}: {webhooks[name]} counted for {answered[name]} answered "
                f"({in_outage[name]} during the outage, +{maybe[name]} unanswered)"
                for name in sorted(webhooks)
            ),
        )
    )

    # Listed: the newest `keep` per webhook; each must be a bad IPN that was sent there and
    # rejected, or perhaps rejected (no answer came back).
    sent = collections.Counter()
    for index, status in zip(a.ipn, a.status, strict=True):
        ipn = by_ipn.get(index)
        if ipn is not None and (status is None or 400 <= status < 500):
            status = status or ipn.expected
            sent[(ipn.webhook, status, b"" if status == 413 else ipn.body)] += 1
    listed = collections.Counter((name, status, bytes(body)) for name, status, body in rows)
    strangers = listed - sent
    per_webhook = collections.Counter(name for name, _, _ in rows)
    # Past the cap the log is cut back to nine tenths of it (webhooks.services.rejected_prune),
    # so at least that many are kept, and never more than were rejected.
    floor = keep - keep // 10
    sizes_ok = all(
        min(floor, webhooks[name]) <= per_webhook[name] <= webhooks[name] for name in webhooks
    )
    distinct = {body for (_, _, body) in listed}
    checks.append(
        Check(
            "rejected deliveries listed",
            not strangers and sizes_ok,
            f"{sum(listed.values())} rows ({len(distinct)} distinct bodies) for "
            f"{sum(webhooks.values())} rejections, log kept at {floor}-{keep} per webhook; "
            f"{sum(strangers.values())} not sent",
        )
    )
    return checks


def forwarded(events, destinations, drained) -> list[Check]:
    """`events`: (public id, taken by the destinations) of every stored event;
    `destinations`: (name, public id, receiver)."""
    from forwarding.models import message_id

    checks = []
    taken = [event_id for event_id, test in events if test]
    others = {event_id for event_id, test in events if not test}
    missing, changed, unsigned, strays, requests, failures = 0, 0, 0, 0, 0, 0
    for _, public_id, receiver in destinations:
        got = receiver.snapshot()
        requests += len(got)
        failures += sum(1 for r in got if r.status >= 300)
        delivered = {r.webhook_id for r in got if 200 <= r.status < 300}
        for request in got:
            expected = message_id(event_public_id=request.event_id, destination_public_id=public_id)
            changed += request.webhook_id != expected
            unsigned += not request.signed
            strays += request.event_id in others
        for event_id in taken:
            expected = message_id(event_public_id=event_id, destination_public_id=public_id)
            missing += expected not in delivered
    checks.append(
        Check(
            "every event forwarded to each destination",
            missing == 0 and strays == 0 and drained.finished,
            f"{len(taken)} test-mode events (of {len(events)}) x {len(destinations)} "
            f"destinations: {missing} never delivered, {strays} requests for live events; "
            f"{requests} requests ({failures} answered 500); drained {drained.seconds:.0f} s "
            f"after the load, {drained.fast_forwarded} waits skipped, retried now: "
            f"{drained.retried_now or 'none'}",
        )
    )
    checks.append(
        Check(
            "same webhook-id on every attempt, signed",
            changed == 0 and unsigned == 0,
            f"{changed} requests with another webhook-id, {unsigned} not verifying",
        )
    )
    reliable = [name for name, _, receiver in destinations if receiver.failure_rate == 0]
    needed_retry = {k: v for k, v in drained.retried_now.items() if k in reliable}
    checks.append(
        Check(
            "a healthy destination needs no retry",
            not needed_retry,
            f"retried now for {', '.join(reliable)}: {needed_retry or 'none'}",
        )
    )
    return checks


def latency(sender: Sender, attacks: dict[str, list[tuple[float, float]]]) -> Check:
    """IPN latency of the requests started while any attack was under way, per attack, and
    of the rest; reported, not judged (an attack is meant to hurt)."""
    a = sender.attempts
    every = [window for windows in attacks.values() for window in windows]

    def ms(values, fraction):
        return f"{percentile(values, fraction) * 1000:.0f}"

    during = [s for s, t in zip(a.seconds, a.started, strict=True) if _within(every, t)]
    calm = [s for s, t in zip(a.seconds, a.started, strict=True) if not _within(every, t)]
    per_attack = []
    for kind, windows in attacks.items():
        hit = [s for s, t in zip(a.seconds, a.started, strict=True) if _within(windows, t)]
        per_attack.append(f"{kind} {ms(hit, 0.99)} ms ({len(hit)})")
    return Check(
        "IPN latency p50 / p99",
        None,
        f"during attacks {ms(during, 0.5)} / {ms(during, 0.99)} ms ({len(during)} requests, "
        f"max {max(during, default=0) * 1000:.0f} ms); p99 per attack: "
        f"{', '.join(per_attack)}; otherwise {ms(calm, 0.5)} / {ms(calm, 0.99)} ms "
        f"({len(calm)})",
    )
