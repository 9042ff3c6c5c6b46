"""Random timelines: pain episodes among the ordinary things faces do.

Rates and ranges (per minute unless said), chosen to put several of each event in a
few minutes of data:

| event | rate | what happens | labels |
|---|---|---|---|
| pain episode | 1.2 | onset-apex-offset, 0.5-10 s; AU4 with AU6/7, AU9/10 often together, eyes squeezed shut in strong ones | PSPI AUs, ``pain`` = 1 |
| blink | 15 (human rate 10-20) | lids close and reopen in 0.1-0.4 s | AU45 only; PSPI 0 |
| talking | 1 | 2-8 s of jaw cycles at 3-5 Hz | AU25/26 |
| smile | 1 | 1-5 s AU12; half of them Duchenne (with AU6) | AU12 (+AU6: PSPI > 0 by FACS, ``pain`` = 0) |
| brow raise | 1 | 0.5-3 s AU1+2 | AU1, AU2 |
| yawn | 0.3 | 3-6 s wide jaw drop, eyes narrowed | AU26; PSPI 0 |
| chewing | 0.5 | 3-10 s jaw cycles at 1.2-1.8 Hz with sideways jaw | AU26 |
| head turn | 2 | to a yaw within +-30 deg (pitch +-12) in 0.5-1.5 s, held 1-4 s, back | |

The head also drifts slowly (roll, position) and the camera distance changes (scale
0.8-1.25). Intensities of facial actions are multiplied by the subject's
expressiveness; a stoic subject shows little, and ``pain`` is still 1.
"""

from __future__ import annotations

import numpy as np

from painvision.synth.sequence import DRIVE_CHANNELS, Timeline, _closure_events, profile

__all__ = ["random_timeline"]


def _events(rng: np.random.Generator, rate_per_min: float, duration_s: float) -> np.ndarray:
    n = rng.poisson(rate_per_min * duration_s / 60.0)
    return np.sort(rng.uniform(0.0, duration_s, size=n))


def _episode_peaks(rng: np.random.Generator) -> tuple[dict[str, float], bool]:
    level = rng.choice(["mild", "moderate", "strong"], p=[0.35, 0.4, 0.25])
    base = {"mild": (0.8, 2.0), "moderate": (2.0, 3.5), "strong": (3.5, 5.0)}[level]
    b = rng.uniform(*base)
    peaks = {
        "au4": b * rng.uniform(0.7, 1.1),
        "au6": b * rng.uniform(0.4, 1.0),
        "au7": b * rng.uniform(0.5, 1.1),
    }
    if rng.random() < 0.7:
        nine = b * rng.uniform(0.3, 0.9)
        peaks["au9"] = nine
        peaks["au10"] = nine * rng.uniform(0.5, 1.2)
    eyes = level == "strong" and rng.random() < 0.6
    return {k: float(min(v, 5.0)) for k, v in peaks.items()}, bool(eyes)


def random_timeline(rng: np.random.Generator, duration_s: float, fps: float,
                    expressiveness: float = 1.0, max_yaw_deg: float = 30.0) -> Timeline:
    """Draw one clip's facial action and head motion.

    Args:
        rng: the clip's random generator (the clip is a function of it).
        duration_s, fps: clip length and frame rate.
        expressiveness: multiplies every facial action's intensity (a subject's
            resting expression lives in their identity, not here: FACS codes change
            from the person's own neutral).
        max_yaw_deg: largest head turn.
    """
    n = int(round(duration_s * fps))
    t = np.arange(n) / fps
    drive = {c: np.zeros(n) for c in DRIVE_CHANNELS}
    pain = np.zeros(n, dtype=np.int8)
    held: list[tuple[float, float]] = []
    squint = np.zeros(n)

    for start in _events(rng, 1.2, duration_s):
        length = rng.uniform(0.5, 10.0)
        onset = length * rng.uniform(0.2, 0.4)
        apex = length * rng.uniform(0.2, 0.5)
        end = start + length
        prof = profile(t, start, start + onset, start + onset + apex, end)
        peaks, eyes = _episode_peaks(rng)
        for k, v in peaks.items():
            drive[k] = np.maximum(drive[k], v * prof)
        pain[(t >= start) & (t <= end)] = 1
        if eyes and apex > 0.8:
            a = start + onset + 0.1
            held.append((a, min(a + rng.uniform(0.6, apex), end)))

    for start in _events(rng, 1.0, duration_s):  # talking
        length = rng.uniform(2.0, 8.0)
        f = rng.uniform(3.0, 5.0)
        env = profile(t, start, start + 0.3, start + length - 0.3, start + length)
        syll = np.abs(np.sin(np.pi * f * (t - start) + rng.uniform(0, 3)))
        drive["au26"] = np.maximum(drive["au26"], env * syll * rng.uniform(1.0, 2.5))
    for start in _events(rng, 1.0, duration_s):  # smiles
        length = rng.uniform(1.0, 5.0)
        prof = profile(t, start, start + 0.4, start + length - 0.5, start + length)
        peak = rng.uniform(2.0, 5.0)
        drive["au12"] = np.maximum(drive["au12"], peak * prof)
        if rng.random() < 0.5:  # Duchenne: the cheeks rise too (AU6)
            drive["au6"] = np.maximum(drive["au6"], 0.6 * peak * prof)
    for start in _events(rng, 1.0, duration_s):  # brow raises
        length = rng.uniform(0.5, 3.0)
        prof = profile(t, start, start + 0.2, start + length - 0.2, start + length)
        drive["au1"] = np.maximum(drive["au1"], rng.uniform(1.0, 4.0) * prof)
    for start in _events(rng, 0.3, duration_s):  # yawns
        length = rng.uniform(3.0, 6.0)
        prof = profile(t, start, start + 1.2, start + length - 1.2, start + length)
        drive["au26"] = np.maximum(drive["au26"], 5.0 * prof)
        drive["au1"] = np.maximum(drive["au1"], 1.0 * prof)
        squint = np.maximum(squint, rng.uniform(0.4, 0.7) * prof)
    for start in _events(rng, 0.5, duration_s):  # chewing
        length = rng.uniform(3.0, 10.0)
        f = rng.uniform(1.2, 1.8)
        env = profile(t, start, start + 0.5, start + length - 0.5, start + length)
        phase = 2 * np.pi * f * (t - start)
        drive["au26"] = np.maximum(drive["au26"], env * (0.5 + 0.8 * (1 - np.cos(phase))))
        drive["jaw_side"] = drive["jaw_side"] + env * 1.5 * np.sin(phase)

    for k in drive:
        drive[k] = np.clip(drive[k] * expressiveness, -5.0, 5.0)
    blinks = [(float(a), float(rng.uniform(0.1, 0.4))) for a in _events(rng, 15.0, duration_s)]
    closure, au43, au45 = _closure_events(t, blinks, held)
    closure = np.maximum(closure, squint)
    return Timeline(fps, drive, closure.astype(np.float32), au43.astype(np.float32),
                    au45.astype(np.float32), pain, _head(rng, t, max_yaw_deg))


def _head(rng: np.random.Generator, t: np.ndarray, max_yaw: float) -> np.ndarray:
    """``(T, 6)`` yaw, pitch, roll, dx, dy, scale."""
    n = t.size
    head = np.zeros((n, 6))
    head[:, 5] = 1.0
    duration = t[-1] if n else 0.0
    for start in _events(rng, 2.0, duration):
        yaw = rng.uniform(-max_yaw, max_yaw)
        pitch = rng.uniform(-12.0, 12.0)
        go = rng.uniform(0.5, 1.5)
        hold = rng.uniform(1.0, 4.0)
        prof = profile(t, start, start + go, start + go + hold, start + 2 * go + hold)
        head[:, 0] += yaw * prof
        head[:, 1] += pitch * prof
    head[:, 0] = np.clip(head[:, 0], -max_yaw, max_yaw)
    head[:, 1] = np.clip(head[:, 1], -15.0, 15.0)
    for col, amp in ((2, 4.0), (3, 0.05), (4, 0.035)):
        for _ in range(2):
            period = rng.uniform(4.0, 15.0)
            head[:, col] += amp / 2 * np.sin(2 * np.pi * t / period + rng.uniform(0, 6.3))
    for _ in range(2):
        period = rng.uniform(10.0, 40.0)
        head[:, 5] *= 1.0 + 0.06 * np.sin(2 * np.pi * t / period + rng.uniform(0, 6.3))
    if n and rng.random() < 0.3:  # the camera is moved closer or farther once
        at = rng.uniform(0, duration)
        head[:, 5] *= 1.0 + rng.uniform(-0.15, 0.2) * profile(t, at, at + 1.0, 1e9, 1e9)
    return head.astype(np.float32)
