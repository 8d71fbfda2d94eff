"""The grouping and fair share that keep the rejected-deliveries log bounded (webhooks.services
.rejected_prune applies them to a webhook's rows)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webhooks.rejected_log import kept_ids, sender_network


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        (None, ""),
    ],
)
def test_a_sender_is_its_ipv4_address_or_its_ipv6_64(address, network):
    assert sender_network(address) == network


SENDERS = ["192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2", "2001:db8:0:1::1", None]
rows_strategy = st.lists(
    st.tuples(st.sampled_from(SENDERS), st.sampled_from([400, 403, 413])), max_size=80
)


@given(rows_strategy, st.integers(min_value=0, max_value=40))
def test_kept_rows_are_a_fair_share_of_each_groups_newest(senders_and_statuses, keep):
    # Newest first, as the prune reads them: the highest id first.
    rows = [(n, *row) for n, row in reversed(list(enumerate(senders_and_statuses)))]
    kept = kept_ids(rows, keep)

    assert len(kept) == min(keep, len(rows))
    groups = {}
    for row_id, sender, status in rows:
        groups.setdefault((sender_network(sender), status), []).append(row_id)
    kept_per_group = {key: [i for i in ids if i in kept] for key, ids in groups.items()}
    for key, ids in groups.items():
        # A group keeps its newest rows, none older than one it gave up.
        assert kept_per_group[key] == ids[: len(kept_per_group[key])]
    # No group gave up a row while another kept two more than it: the largest give first.
    counts = [len(ids) for ids in kept_per_group.values()]
    for key, ids in groups.items():
        if len(kept_per_group[key]) < len(ids):
            assert max(counts) <= len(kept_per_group[key]) + 1


def test_a_flood_gives_up_its_own_rows_first():
    flood = [(n, "198.51.100.7", 403) for n in range(100, 0, -1)]
    real = (0, "203.0.113.5", 403)
    assert kept_ids([*flood, real], 10) == {0, *range(100, 91, -1)}


def test_more_groups_than_room_keep_the_newest_groups_newest_row():
    rows = [(n, f"192.0.2.{n}", 403) for n in range(20, 0, -1)]
    assert kept_ids(rows, 5) == {20, 19, 18, 17, 16}
