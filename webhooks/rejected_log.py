"""How the log of rejected deliveries stays bounded without letting one sender's junk push
out another's rejections (a real one, from Digistore24, that the vendor wants to re-verify).

Rows are grouped by sender network and kind of rejection, and a full log gives up rows from
its largest groups first. The kind is the status code rather than the reason's text: the text
can name the sender's own parameters, and a sender must not get a group per request."""

import functools
import ipaddress


@functools.lru_cache(maxsize=4096)
def sender_network(address: str | None) -> str:
    """What one sender controls as a whole: its IPv4 address, or its IPv6 /64 (the usual
    allocation to one customer; a host may post from any address in it). "" when unknown."""
    if not address:
        return ""
    ip = ipaddress.ip_address(address)
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped:  # an IPv4 client of a dual-stack socket
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


def kept_ids(rows, keep: int) -> set[int]:
    """Of `rows` (id, sender_ip, status_code), newest first, the ids of the `keep` to keep.

    Each group (sender network, status code) keeps its newest rows up to a common level, the
    highest at which all of them fit, so the largest groups give up rows first; the room left
    goes to the next row of the groups above that level whose rows are newest. A flood from
    one sender thus pushes out only its own rows while any other group fits; only more groups
    than `keep` (an attacker with that many addresses, or IPv6 /64s) push out whole groups,
    those whose newest row is oldest."""
    groups: dict[tuple[str, int], list[int]] = {}
    for row_id, sender_ip, status_code in rows:
        groups.setdefault((sender_network(sender_ip), status_code), []).append(row_id)
    level = _fair_level(sorted(len(ids) for ids in groups.values()), keep)
    kept = {row_id for ids in groups.values() for row_id in ids[:level]}
    next_rows = sorted((ids[level] for ids in groups.values() if len(ids) > level), reverse=True)
    kept.update(next_rows[: keep - len(kept)])
    return kept


def _fair_level(sizes: list[int], keep: int) -> int:
    """The highest level L at which sum(min(size, L) for size in sizes) <= keep; `sizes` in
    ascending order."""
    left = keep
    for index, size in enumerate(sizes):
        groups_left = len(sizes) - index
        if size * groups_left > left:
            return left // groups_left
        left -= size
    return sizes[-1] if sizes else 0
