"""Percentiles and medians, written out so the method is visible (no numpy)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; nan when empty."""
    if not values:
        return math.nan
    data = sorted(values)
    if len(data) == 1:
        return float(data[0])
    rank = (len(data) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(data) - 1)
    return float(data[low] + (data[high] - data[low]) * (rank - low))


def median(values: Iterable[float]) -> float:
    data = [v for v in values if v is not None and not math.isnan(v)]
    return percentile(data, 50) if data else math.nan


def summarize(values: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max/mean/n of one sample set."""
    if not values:
        return {"n": 0, "p50": math.nan, "p90": math.nan, "p99": math.nan,
                "max": math.nan, "mean": math.nan}
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": float(max(values)),
        "mean": float(sum(values) / len(values)),
    }


def ratio(a: float, b: float) -> float:
    """a / b, nan when either is missing or b is zero."""
    if a is None or b is None or math.isnan(a) or math.isnan(b) or b == 0:
        return math.nan
    return a / b


def spread(values: Sequence[float]) -> tuple[float, float]:
    """(min, max) of the repeats, reported beside every median."""
    data = [v for v in values if v is not None and not math.isnan(v)]
    return (min(data), max(data)) if data else (math.nan, math.nan)
