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

__all__ = ["alarm_metrics", "detect_episodes", "episode_metrics", "runs"]


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


def alarm_metrics(alarm: np.ndarray, pain: np.ndarray, t: np.ndarray,
                  pspi: np.ndarray | None = None, shown_threshold: float = 3.0
                  ) -> dict[str, float | int | list[float]]:
    """Episodes as a monitor's alarms announce them, for one recording.

    ``alarm`` is ``(T,) bool``, on while the monitor has an episode open. Each switch-on is
    an announcement. A labelled episode is found when an announcement falls inside it (its
    delay: announcement time minus the episode's start), or when an alarm raised for an
    earlier labelled episode is still on when it starts (delay 0); an alarm raised outside
    every labelled episode (a false alarm) finds nothing, even if it lasts into one. An
    episode is *shown* when its labelled ``pspi`` reaches ``shown_threshold``.
    """
    alarm = np.asarray(alarm, dtype=bool)
    true = runs(np.asarray(pain) > 0.5)
    inside = np.zeros(alarm.size, dtype=bool)
    for a, b in true:
        inside[a:b] = True
    on = runs(alarm)
    genuine = [(a, b) for a, b in on if inside[a]]
    found, delays, shown, shown_found = 0, [], 0, 0
    for a, b in true:
        starts = [s for s, _ in genuine if a <= s < b]
        carried = any(s < a < e for s, e in genuine)
        hit = bool(starts) or carried
        if hit:
            found += 1
            delays.append(float(t[starts[0]] - t[a]) if starts else 0.0)
        if pspi is not None and np.nanmax(np.asarray(pspi)[a:b]) >= shown_threshold:
            shown += 1
            shown_found += int(hit)
    dt = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    return {
        "true_episodes": len(true), "detected_episodes": len(on), "found": found,
        "false_alarms": len(on) - len(genuine),
        "calm_hours": float((np.asarray(pain) <= 0.5).sum() * dt / 3600.0),
        "delays_s": delays, "shown_episodes": shown, "shown_found": shown_found,
    }
