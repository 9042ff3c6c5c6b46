"""Episode-level evaluation: what a nurse's alert depends on.

A true episode is a run of frames labelled ``pain``; the detected ones are the alarms a
monitor raised (``live.alerts.alarm_series``), matched to the true ones by when they were
raised (``alarm_metrics``). False alarms are counted per hour of frames outside true
episodes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["alarm_metrics", "runs"]


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` index pairs of the True runs of a boolean array."""
    m = np.asarray(mask, dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], m.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


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
        coded = np.asarray(pspi)[a:b] if pspi is not None else np.zeros(0)
        coded = coded[np.isfinite(coded)]  # BioVid codes no PSPI: no episode is "shown"
        if coded.size and coded.max() >= shown_threshold:
            shown += 1
            shown_found += int(hit)
    dt = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    return {
        "true_episodes": len(true), "detected_episodes": len(on), "found": found,
        "false_alarms": len(on) - len(genuine),
        "calm_hours": float((np.asarray(pain) <= 0.5).sum() * dt / 3600.0),
        "delays_s": delays, "shown_episodes": shown, "shown_found": shown_found,
    }
