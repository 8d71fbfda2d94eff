"""Percentiles as the benchmark reports them."""

import math


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` of 0.95 for p95): the smallest value that at least
    that share of `values` do not exceed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * share) - 1)]
