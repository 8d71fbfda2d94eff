"""The summary table of a soak pass, and the one-line verdict."""

import textwrap

from bench.soak.checks import Check

WIDTH = 100
NAME = 42


def table(title: str, checks: list[Check]) -> str:
    lines = [title, "-" * WIDTH]
    for check in checks:
        result = {True: "ok", False: "FAILED", None: "info"}[check.ok]
        detail = textwrap.wrap(check.detail, WIDTH - NAME - 8) or [""]
        lines.append(f"{check.name:<{NAME}} {result:<6}  {detail[0]}")
        lines += [f"{'':<{NAME}} {'':<6}  {more}" for more in detail[1:]]
    lines.append("-" * WIDTH)
    return "\n".join(lines)


def verdict(label: str, checks: list[Check]) -> str | None:
    """The first failure as one line, or None."""
    failed = next((check for check in checks if check.ok is False), None)
    return f"{label}: {failed.name}: {failed.detail}" if failed else None
