"""Building blocks for change-list cells that carry several fields: a list with fewer, richer
columns fits 1280 px with the sidebar and filters open, where one field per column did not."""

from django.utils import timezone
from django.utils.html import format_html, format_html_join


def stacked(main, *details):
    """A cell: the main value, and under it each non-empty detail on its own smaller line."""
    lines = format_html_join(
        "", '<br><span class="ds24-sub">{}</span>', ((d,) for d in details if d)
    )
    return format_html("{}{}", main, lines)


def when(value, empty="—"):
    """A local time to the second on two lines (date, time): narrow, and exact enough to tell
    a redelivery from the first delivery."""
    if value is None:
        return empty
    local = timezone.localtime(value)
    return stacked(f"{local:%Y-%m-%d}", f"{local:%H:%M:%S}")


def marks(*labels):
    """Small markers side by side (unsigned, revision …); each is (css class, text) or None."""
    return format_html_join(
        " ", '<span class="ds24-mark {}">{}</span>', (label for label in labels if label)
    )
