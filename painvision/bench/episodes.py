"""Episode-level evaluation: what a nurse's alert depends on.

A detected episode is a run of frames whose pain score stays at or above ``threshold``
for at least ``min_s`` seconds (runs closer than ``merge_s`` are joined). A true episode
is a run of frames labelled ``pain``. A true episode counts as found when a detected one
overlaps it; its onset delay is the detected start minus the true start (negative: the
alert came early, during a rising face). Detected episodes that overlap no true one are
false alarms, counted per hour of frames outside true episodes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["detect_episodes", "episode_metrics", "runs"]


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` index pairs of the True runs of a boolean array."""
    m = np.asarray(mask, dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], m.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def detect_episodes(score: np.ndarray, t: np.ndarray, threshold: float = 0.5,
                    min_s: float = 0.5, merge_s: float = 1.0) -> list[tuple[int, int]]:
    """Episodes ``[start, end)`` (frame indices) where ``score >= threshold``."""
    above = np.nan_to_num(np.asarray(score, float), nan=-np.inf) >= threshold
    found = runs(above)
    merged: list[list[int]] = []
    for a, b in found:
        if merged and t[a] - t[merged[-1][1] - 1] <= merge_s:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    dt = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    return [(a, b) for a, b in merged if t[b - 1] - t[a] + dt >= min_s]


def episode_metrics(score: np.ndarray, pain: np.ndarray, t: np.ndarray,
                    threshold: float = 0.5, min_s: float = 0.5, merge_s: float = 1.0
                    ) -> dict[str, float | int | None]:
    """Recall, precision, false alarms per hour and onset delays for one recording."""
    true = runs(np.asarray(pain) > 0.5)
    det = detect_episodes(score, t, threshold, min_s, merge_s)
    delays = []
    found = 0
    for a, b in true:
        hits = [d for d in det if d[0] < b and d[1] > a]
        if hits:
            found += 1
            delays.append(float(t[hits[0][0]] - t[a]))
    matched = sum(1 for d in det if any(d[0] < b and d[1] > a for a, b in true))
    false_alarms = len(det) - matched
    dt = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    calm_hours = float((np.asarray(pain) <= 0.5).sum() * dt / 3600.0)
    return {
        "true_episodes": len(true), "detected_episodes": len(det), "found": found,
        "false_alarms": false_alarms, "calm_hours": calm_hours, "delays_s": delays,
    }
