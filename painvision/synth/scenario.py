"""Random timelines: pain episodes among the ordinary things faces do, and among the
look-alikes of pain, generated as strongly as they happen.

Rates (per minute, ``DEFAULT_RATES``) and what each event does (FACS intensities 0-5; a
closure of 1 is the eyes shut, and shut for 0.5 s or more is labelled AU43, as FACS would):

| event | rate | length (s) | what happens |
|---|---|---|---|
| pain | 1.2 | 0.5-10 | onset-apex-offset; AU4 with AU6/7, AU9/10 in 70 %; strong ones squeeze the eyes shut; a third open the mouth (AU25/26, with AU20 in 40 %), one in ten with a "pain smile" (AU12 1-2.5) |
| laugh | 0.5 | 1.5-6 | AU12 3-5, AU6 2.5-5, AU26 1.5-4.5 pulsing at 3.5-5.5 Hz, AU7 0-3, AU10 up to 3.5 in half (broad laughter), eyes squeezed (closure 0.5-1, shut in 60 %), head tilted back 5-15 deg |
| smile | 0.8 | 1-5 | AU12 2-5; half Duchenne (AU6) |
| cry | 0.25 | 4-15 | AU1+2 1.5-3.5 with AU4 1-3 (grief brows), AU15 1.5-4, AU6/7 1-3, sobbing jaw 0.5-2 at 0.8-1.5 Hz, eyes narrowed, AU9/10 up to 2 |
| yawn | 0.3 | 3-6 | AU26 4.5-5, eyes narrowed to shut (closure 0.6-1), AU6/7 up to 2, head back 5-15 deg |
| talk | 1 | 2-8 | jaw cycles at 3-5 Hz (AU26 1-2.5), light AU12, AU10 and AU20 with the syllables |
| chew | 0.4 | 3-10 | jaw cycles at 1.2-1.8 Hz with the jaw sideways |
| cough | 0.3 | 1-4 | 2-5 bursts of 0.25-0.4 s: AU26 2-4, AU4 1-2.5, AU7 1-3, AU9/10 1-2, eyes shut briefly, head forward |
| sneeze | 0.15 | 1.3-2.7 | build-up (AU1+2, mouth opening, eyes narrowing), then a burst: eyes shut, AU4 2-3, AU9 2-4, AU10 2-3, AU6/7 2-4, AU26 2-4 |
| disgust | 0.25 | 1-4 | AU9 2-4.5, AU10 2-4.5, AU4 up to 2, AU15 up to 2 |
| squint | 0.25 | 3-15 | squinting into light: AU6 1.5-3.5, AU7 2-4, eyes narrowed (closure 0.2-0.5), AU4 up to 1.5 |
| sleep | 0.1 | 10-40 | eyes shut, jaw slack (AU26 0.5-2), head down 5-15 deg |
| brow raise | 1 | 0.5-3 | AU1+2 1-4 |
| blink | 15 | 0.1-0.4 | lids close and reopen (AU45) |
| head turn | 2 | | to a yaw within +-30 deg (pitch +-12) in 0.5-1.5 s, held 1-4 s, back |

Only pain episodes are labelled ``pain`` = 1; the AU labels are what the face shows (a
laugh's AU6, AU10 and shut eyes count in its PSPI, as FACS codes them). The ``activity``
label names what the face is doing (``ACTIVITIES``, by code): the strongest event at each
frame, pain first. The head also drifts slowly (roll, position) and the camera distance
changes (scale 0.8-1.25). Intensities of facial actions are multiplied by the subject's
expressiveness; a stoic subject shows little, and ``pain`` is still 1.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from painvision.errors import InputError
from painvision.synth.sequence import (
    ACTIVITIES,
    DRIVE_CHANNELS,
    Timeline,
    _closure_events,
    held_closures,
    profile,
)

__all__ = ["DEFAULT_RATES", "random_timeline"]

#: Events per minute (see the table above).
DEFAULT_RATES: dict[str, float] = {
    "pain": 1.2, "laugh": 0.5, "smile": 0.8, "cry": 0.25, "yawn": 0.3, "talk": 1.0,
    "chew": 0.4, "cough": 0.3, "sneeze": 0.15, "disgust": 0.25, "squint": 0.25,
    "sleep": 0.1, "brow_raise": 1.0, "blink": 15.0,
}


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


class _Builder:
    """Accumulates drive channels, closures, head pitch and activity labels."""

    def __init__(self, t: np.ndarray) -> None:
        self.t = t
        n = t.size
        self.drive = {c: np.zeros(n) for c in DRIVE_CHANNELS}
        self.pain = np.zeros(n, dtype=np.int8)
        self.closure = np.zeros(n)
        self.pitch = np.zeros(n)
        self.activity = np.zeros(n, dtype=np.int8)
        self._level = np.zeros(n)
        self.held: list[tuple[float, float]] = []

    def add(self, channel: str, values: np.ndarray) -> None:
        self.drive[channel] = np.maximum(self.drive[channel], values)

    def mark(self, name: str, prof: np.ndarray) -> None:
        code = ACTIVITIES.index(name)
        sel = (prof > 0.1) & (prof > self._level) & (self.pain == 0)
        self.activity[sel] = code
        self._level[sel] = prof[sel]


def random_timeline(rng: np.random.Generator, duration_s: float, fps: float,
                    expressiveness: float = 1.0, max_yaw_deg: float = 30.0,
                    rates: Mapping[str, float] | None = None) -> Timeline:
    """Draw one clip's facial action and head motion.

    Args:
        rng: the clip's random generator (the clip is a function of it).
        duration_s, fps: clip length and frame rate.
        expressiveness: multiplies every facial action's intensity (a subject's
            resting expression lives in their identity, not here: FACS codes change
            from the person's own neutral).
        max_yaw_deg: largest head turn.
        rates: events per minute, replacing ``DEFAULT_RATES`` for the events named.
    """
    r = dict(DEFAULT_RATES)
    if rates:
        unknown = set(rates) - set(r)
        if unknown:
            raise InputError(f"unknown events {sorted(unknown)}: expected {sorted(r)}")
        r.update(rates)
    n = int(round(duration_s * fps))
    t = np.arange(n) / fps
    b = _Builder(t)
    u = rng.uniform

    for start in _events(rng, r["pain"], duration_s):
        length = u(0.5, 10.0)
        onset = length * u(0.2, 0.4)
        apex = length * u(0.2, 0.5)
        end = start + length
        prof = profile(t, start, start + onset, start + onset + apex, end)
        peaks, eyes = _episode_peaks(rng)
        style = rng.random()
        if style < 0.33:  # an open mouth: cry out, groan, or stretched lips
            peaks["au26"] = u(1.0, 3.5)
            if rng.random() < 0.4:
                peaks["au20"] = u(1.0, 3.0)
        elif style < 0.43:  # a "pain smile"
            peaks["au12"] = u(1.0, 2.5)
        for k, v in peaks.items():
            b.add(k, v * prof)
        b.pain[(t >= start) & (t <= end)] = 1
        b.activity[(t >= start) & (t <= end)] = ACTIVITIES.index("pain")
        if eyes and apex > 0.8:
            a = start + onset + 0.1
            b.held.append((a, min(a + u(0.6, apex), end)))

    for start in _events(rng, r["laugh"], duration_s):
        length = u(1.5, 6.0)
        prof = profile(t, start, start + 0.4, start + length - 0.6, start + length)
        f = u(3.5, 5.5)
        pulse = 0.55 + 0.45 * np.abs(np.sin(np.pi * f * (t - start)))
        b.add("au12", u(3.0, 5.0) * prof)
        b.add("au6", u(2.5, 5.0) * prof)
        b.add("au26", u(1.5, 4.5) * prof * pulse)
        b.add("au7", u(0.0, 3.0) * prof)
        if rng.random() < 0.5:
            b.add("au10", u(1.0, 3.5) * prof)
        if rng.random() < 0.3:
            b.add("au9", u(0.0, 1.5) * prof)
        squeeze = 1.0 if rng.random() < 0.6 else u(0.5, 0.85)
        b.closure = np.maximum(b.closure, squeeze * profile(t, start + 0.2, start + 0.7,
                                                            start + length - 0.6,
                                                            start + length - 0.2))
        b.pitch -= u(5.0, 15.0) * prof + u(1.0, 3.0) * prof * (pulse - 0.55)
        b.mark("laugh", prof)

    for start in _events(rng, r["smile"], duration_s):
        length = u(1.0, 5.0)
        prof = profile(t, start, start + 0.4, start + length - 0.5, start + length)
        peak = u(2.0, 5.0)
        b.add("au12", peak * prof)
        if rng.random() < 0.5:  # Duchenne: the cheeks rise too (AU6)
            b.add("au6", 0.6 * peak * prof)
        b.mark("smile", prof)

    for start in _events(rng, r["cry"], duration_s):
        length = u(4.0, 15.0)
        prof = profile(t, start, start + 1.0, start + length - 1.0, start + length)
        f = u(0.8, 1.5)
        sob = 0.5 + 0.5 * np.abs(np.sin(np.pi * f * (t - start)))
        b.add("au1", u(1.5, 3.5) * prof)
        b.add("au4", u(1.0, 3.0) * prof)
        b.add("au15", u(1.5, 4.0) * prof)
        b.add("au6", u(1.0, 3.0) * prof)
        b.add("au7", u(1.0, 3.0) * prof)
        b.add("au26", u(0.5, 2.0) * prof * sob)
        if rng.random() < 0.5:
            lift = u(0.5, 2.0)
            b.add("au9", lift * prof)
            b.add("au10", lift * prof)
        b.closure = np.maximum(b.closure, u(0.0, 0.6) * prof)
        b.mark("cry", prof)

    for start in _events(rng, r["yawn"], duration_s):
        length = u(3.0, 6.0)
        prof = profile(t, start, start + 1.2, start + length - 1.2, start + length)
        b.add("au26", u(4.5, 5.0) * prof)
        b.add("au1", u(0.0, 1.5) * prof)
        b.add("au6", u(0.0, 2.0) * prof)
        b.add("au7", u(0.0, 2.0) * prof)
        if rng.random() < 0.3:
            b.add("au10", u(0.0, 1.5) * prof)
        b.closure = np.maximum(b.closure, u(0.6, 1.0) * prof)
        b.pitch -= u(5.0, 15.0) * prof
        b.mark("yawn", prof)

    for start in _events(rng, r["talk"], duration_s):
        length = u(2.0, 8.0)
        f = u(3.0, 5.0)
        env = profile(t, start, start + 0.3, start + length - 0.3, start + length)
        syll = np.abs(np.sin(np.pi * f * (t - start) + u(0, 3)))
        b.add("au26", env * syll * u(1.0, 2.5))
        b.add("au12", env * u(0.0, 1.0))
        b.add("au10", env * syll * u(0.0, 1.0))
        b.add("au20", env * (1 - syll) * u(0.0, 1.0))
        if rng.random() < 0.2:
            b.add("au1", env * u(0.5, 1.5))
        b.mark("talk", env)

    for start in _events(rng, r["chew"], duration_s):
        length = u(3.0, 10.0)
        f = u(1.2, 1.8)
        env = profile(t, start, start + 0.5, start + length - 0.5, start + length)
        phase = 2 * np.pi * f * (t - start)
        b.add("au26", env * (0.5 + 0.8 * (1 - np.cos(phase))))
        b.drive["jaw_side"] = b.drive["jaw_side"] + env * 1.5 * np.sin(phase)
        b.mark("chew", env)

    for start in _events(rng, r["cough"], duration_s):
        at = start
        env = np.zeros(n)
        for _ in range(int(rng.integers(2, 6))):
            d = u(0.25, 0.4)
            burst = profile(t, at, at + 0.08, at + d - 0.1, at + d)
            b.add("au26", u(2.0, 4.0) * burst)
            b.add("au4", u(1.0, 2.5) * burst)
            b.add("au7", u(1.0, 3.0) * burst)
            lift = u(1.0, 2.0)
            b.add("au9", lift * burst)
            b.add("au10", lift * burst)
            b.closure = np.maximum(b.closure, u(0.5, 1.0) * burst)
            b.pitch += u(4.0, 10.0) * burst
            env = np.maximum(env, burst)
            at += d + u(0.1, 0.6)
        b.mark("cough", env)

    for start in _events(rng, r["sneeze"], duration_s):
        build = u(0.5, 1.5)
        burst_len = u(0.3, 0.7)
        pre = profile(t, start, start + build, start + build, start + build + 0.1)
        b.add("au1", u(1.0, 2.0) * pre)
        b.add("au26", u(1.0, 2.0) * pre)
        b.closure = np.maximum(b.closure, u(0.3, 0.5) * pre)
        a = start + build
        burst = profile(t, a, a + 0.1, a + burst_len, a + burst_len + 0.5)
        b.closure = np.maximum(b.closure, burst)
        b.add("au4", u(2.0, 3.0) * burst)
        b.add("au9", u(2.0, 4.0) * burst)
        b.add("au10", u(2.0, 3.0) * burst)
        b.add("au6", u(2.0, 4.0) * burst)
        b.add("au7", u(2.0, 4.0) * burst)
        b.add("au26", u(2.0, 4.0) * burst)
        b.pitch += u(5.0, 15.0) * burst
        b.mark("sneeze", np.maximum(pre, burst))

    for start in _events(rng, r["disgust"], duration_s):
        length = u(1.0, 4.0)
        prof = profile(t, start, start + 0.3, start + length - 0.4, start + length)
        b.add("au9", u(2.0, 4.5) * prof)
        b.add("au10", u(2.0, 4.5) * prof)
        b.add("au4", u(0.0, 2.0) * prof)
        b.add("au15", u(0.0, 2.0) * prof)
        b.mark("disgust", prof)

    for start in _events(rng, r["squint"], duration_s):
        length = u(3.0, 15.0)
        prof = profile(t, start, start + 0.8, start + length - 0.8, start + length)
        b.add("au6", u(1.5, 3.5) * prof)
        b.add("au7", u(2.0, 4.0) * prof)
        b.add("au4", u(0.0, 1.5) * prof)
        b.closure = np.maximum(b.closure, u(0.2, 0.5) * prof)
        b.mark("squint", prof)

    for start in _events(rng, r["sleep"], duration_s):
        length = u(10.0, 40.0)
        prof = profile(t, start, start + 2.0, start + length - 1.0, start + length)
        b.closure = np.maximum(b.closure, prof)
        b.add("au26", u(0.5, 2.0) * prof)
        b.pitch += u(5.0, 15.0) * prof
        b.mark("sleep", prof)

    for start in _events(rng, r["brow_raise"], duration_s):
        length = u(0.5, 3.0)
        prof = profile(t, start, start + 0.2, start + length - 0.2, start + length)
        b.add("au1", u(1.0, 4.0) * prof)
        b.mark("brow_raise", prof)

    drive = {k: np.clip(v * expressiveness, -5.0, 5.0) for k, v in b.drive.items()}
    blinks = [(float(a), float(u(0.1, 0.4))) for a in _events(rng, r["blink"], duration_s)]
    closure, au43, au45 = _closure_events(t, blinks, b.held)
    closure = np.maximum(closure, b.closure)
    au43 = np.maximum(au43, held_closures(closure, t))
    head = _head(rng, t, max_yaw_deg)
    head[:, 1] = np.clip(head[:, 1] + b.pitch, -25.0, 25.0)
    return Timeline(fps, drive, closure.astype(np.float32), au43.astype(np.float32),
                    au45.astype(np.float32), b.pain, head.astype(np.float32), b.activity)


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
