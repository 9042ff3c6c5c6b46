"""Timelines of facial action: what the face does frame by frame, and its ground truth.

A ``Timeline`` holds the intensities that drive the deformation fields (PSPI AUs and
the confounders), the lid closure, the head pose, and the labels derived from them.
``Script`` describes a hand-written clip (the bundled sample, tests, calibration);
``synth.scenario`` draws random ones.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from painvision.datasets.generic import ACTIVITIES
from painvision.types import AU_NAMES, AUSeries

__all__ = [
    "ACTIVITIES",
    "held_closures",
    "one_action_script",
    "write_labels",
    "DRIVE_CHANNELS",
    "EXTRA_LABELS",
    "Blink",
    "Episode",
    "HeadMotion",
    "Script",
    "Timeline",
    "profile",
    "ramp",
    "sample_script",
]

#: Channels that drive ``synth.fields`` (FACS 0-5): PSPI AUs and confounders.
DRIVE_CHANNELS: tuple[str, ...] = ("au1", "au4", "au6", "au7", "au9", "au10", "au12", "au26",
                                   "jaw_side", "au15", "au20")
#: Label columns beyond the PSPI AUs (allowed by the dataset format).
EXTRA_LABELS: tuple[str, ...] = ("au1", "au2", "au12", "au15", "au20", "au25", "au26", "au45",
                                 "activity")



def ramp(x: np.ndarray) -> np.ndarray:
    """Smooth 0 -> 1 over x in [0, 1] (raised cosine)."""
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def profile(t: np.ndarray, start: float, apex: float, apex_end: float, end: float) -> np.ndarray:
    """Onset (start -> apex), apex (apex -> apex_end), offset (apex_end -> end), in [0, 1]."""
    rise = ramp((t - start) / max(apex - start, 1e-6))
    fall = 1.0 - ramp((t - apex_end) / max(end - apex_end, 1e-6))
    return np.where(t < apex_end, rise, fall)


@dataclass(frozen=True)
class Timeline:
    """Frame-by-frame facial action of one clip.

    Attributes:
        fps: frame rate.
        drive: channel (``DRIVE_CHANNELS``) -> ``(T,)`` FACS intensity 0-5 shown.
        closure: ``(T,)`` lid closure 0-1 (blinks, held closures, yawns).
        au43: ``(T,)`` 1 while the eyes are held closed (not blinks).
        au45: ``(T,)`` 1 during blinks.
        pain: ``(T,)`` 1 inside a pain episode (from onset to offset).
        head: ``(T, 6)`` yaw, pitch, roll (degrees), dx, dy (face widths), scale.
        activity: ``(T,) int8`` code into ``ACTIVITIES`` (None: pain or nothing).
    """

    fps: float
    drive: dict[str, np.ndarray]
    closure: np.ndarray
    au43: np.ndarray
    au45: np.ndarray
    pain: np.ndarray
    head: np.ndarray
    activity: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.closure.shape[0])

    @property
    def t(self) -> np.ndarray:
        return np.arange(len(self)) / self.fps

    def labels(self) -> AUSeries:
        """PSPI AUs as FACS codes them: what the face shows (AU6 of a smile included)."""
        cols = {n: self.drive[n] for n in AU_NAMES if n != "au43"} | {"au43": self.au43}
        return AUSeries(*(np.round(np.clip(cols[n], 0, 5), 3).astype(np.float32)
                          for n in AU_NAMES))

    def extra_labels(self) -> dict[str, np.ndarray]:
        """Confounder AUs: au1/au2 (brow raise), au12, au15, au20, au25 (lips apart), au26,
        au45, and the ``activity`` code."""
        au26 = np.round(self.drive["au26"], 3)
        activity = (self.activity if self.activity is not None
                    else self.pain.astype(np.int8) * ACTIVITIES.index("pain"))
        return {
            "au1": np.round(self.drive["au1"], 3),
            "au2": np.round(self.drive["au1"], 3),
            "au12": np.round(self.drive["au12"], 3),
            "au15": np.round(self.drive["au15"], 3),
            "au20": np.round(self.drive["au20"], 3),
            "au25": (au26 >= 0.5).astype(np.float32),
            "au26": au26,
            "au45": self.au45.astype(np.float32),
            "activity": activity.astype(np.float32),
        }


@dataclass(frozen=True)
class Episode:
    """A pain episode: AU intensities at apex, reached between ``apex`` and ``apex_end``.

    ``eyes_closed`` (start, end) seconds, if given, closes the eyes (AU43) inside it.
    """

    start: float
    apex: float
    apex_end: float
    end: float
    peak: dict[str, float]
    eyes_closed: tuple[float, float] | None = None


@dataclass(frozen=True)
class Blink:
    """A blink (AU45): the lids close and reopen within ``duration`` seconds."""

    at: float
    duration: float = 0.25


@dataclass(frozen=True)
class HeadMotion:
    """Slow in-plane head motion: roll (deg), shift (fraction of face width), scale."""

    roll_deg: float = 2.5
    shift: float = 0.04
    scale: float = 0.02
    periods_s: tuple[float, float, float, float] = (7.0, 5.0, 6.3, 9.0)

    def at(self, t: np.ndarray) -> np.ndarray:
        """``(T, 6)``: yaw, pitch (0 here), roll degrees, dx, dy (face widths), scale."""
        p = self.periods_s
        zeros = np.zeros_like(t)
        return np.stack(
            [
                zeros,
                zeros,
                self.roll_deg * np.sin(2 * np.pi * t / p[0]),
                self.shift * np.sin(2 * np.pi * t / p[1]),
                0.7 * self.shift * np.sin(2 * np.pi * t / p[2] + 1.0),
                1.0 + self.scale * np.sin(2 * np.pi * t / p[3]),
            ],
            axis=1,
        )


def held_closures(closure: np.ndarray, t: np.ndarray, level: float = 0.9,
                  min_s: float = 0.5) -> np.ndarray:
    """AU43 from a closure curve: 1 where the lids are at least ``level`` shut for
    ``min_s`` or longer (a squeezed laugh, a yawn, sleep); shorter closures are blinks."""
    shut = np.asarray(closure) >= level
    out = np.zeros(shut.shape, dtype=np.float64)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], shut.astype(np.int8), [0]])))
    dt = float(t[1] - t[0]) if t.size > 1 else 0.0
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if t[b - 1] - t[a] + dt >= min_s:
            out[a:b] = 1.0
    return out


def _closure_events(t: np.ndarray, blinks, held) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    closure = np.zeros_like(t)
    au43 = np.zeros_like(t)
    au45 = np.zeros_like(t)
    for a, b in held:
        c = profile(t, a, a + 0.15, b - 0.15, b)
        closure = np.maximum(closure, c)
        au43 = np.maximum(au43, (c >= 0.9).astype(float))
    for at, duration in blinks:
        half = duration / 2
        c = profile(t, at - half, at - 0.02, at + 0.02, at + half)
        closure = np.maximum(closure, c)
        au45 = np.maximum(au45, (c >= 0.5).astype(float))
    return closure, au43, au45


@dataclass(frozen=True)
class Script:
    """A hand-written clip."""

    duration_s: float
    fps: float
    episodes: tuple[Episode, ...] = ()
    blinks: tuple[Blink, ...] = ()
    motion: HeadMotion = field(default_factory=HeadMotion)

    @property
    def t(self) -> np.ndarray:
        """``(T,) float64`` frame times."""
        return np.arange(int(round(self.duration_s * self.fps))) / self.fps

    def timeline(self) -> Timeline:
        t = self.t
        drive = {name: np.zeros_like(t) for name in DRIVE_CHANNELS}
        pain = np.zeros(t.shape, dtype=np.int8)
        held = []
        for ep in self.episodes:
            prof = profile(t, ep.start, ep.apex, ep.apex_end, ep.end)
            for name, peak in ep.peak.items():
                drive[name] = np.maximum(drive[name], peak * prof)
            pain[(t >= ep.start) & (t <= ep.end)] = 1
            if ep.eyes_closed:
                held.append(ep.eyes_closed)
        closure, au43, au45 = _closure_events(t, [(b.at, b.duration) for b in self.blinks], held)
        return Timeline(self.fps, drive, closure.astype(np.float32), au43.astype(np.float32),
                        au45.astype(np.float32), pain, self.motion.at(t))


def sample_script(duration_s: float = 16.0, fps: float = 25.0) -> Script:
    """The bundled sample: neutral, a moderate episode, neutral, a strong one with the
    eyes squeezed shut, neutral; three blinks; slow head motion."""
    return Script(
        duration_s=duration_s,
        fps=fps,
        episodes=(
            Episode(3.0, 4.2, 5.4, 6.6,
                    {"au4": 2.5, "au6": 1.5, "au7": 2.0, "au9": 1.0, "au10": 1.5}),
            Episode(8.2, 9.6, 11.6, 13.0,
                    {"au4": 4.0, "au6": 3.5, "au7": 3.0, "au9": 3.0, "au10": 2.5},
                    eyes_closed=(10.0, 11.2)),
        ),
        blinks=(Blink(1.4), Blink(7.4), Blink(14.6, 0.3)),
    )


def one_action_script(action: str, intensity: float = 4.0) -> Script:
    """3.2 s at 15 fps: neutral until 1.2 s, then one drive channel alone, at ``intensity``
    from 1.9 s to the end, with slight head motion; ``"closure"`` shuts the eyes instead
    (from 1.3 s). The AU-response checks and fits read its apex, 2.1-2.8 s, against its
    first second."""
    if action == "closure":
        ep = Episode(1.2, 1.4, 2.9, 3.0, {}, eyes_closed=(1.3, 3.0))
    else:
        ep = Episode(1.2, 1.9, 3.2, 3.3, {action: intensity})
    return Script(duration_s=3.2, fps=15.0, episodes=(ep,),
                  motion=HeadMotion(roll_deg=1.0, shift=0.01, scale=0.01))


def write_labels(path: Path, timeline: Timeline) -> None:
    """``frame,pspi,au4,au6,au7,au9,au10,au43,pain`` then the extra AU columns."""
    labels = timeline.labels()
    extra = timeline.extra_labels()
    pspi = labels.pspi
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["frame", "pspi", *AU_NAMES, "pain", *EXTRA_LABELS])
        for i in range(len(labels)):
            w.writerow([i, f"{pspi[i]:.3f}", *(f"{getattr(labels, n)[i]:.3f}" for n in AU_NAMES),
                        int(timeline.pain[i]), *(f"{extra[n][i]:g}" for n in EXTRA_LABELS)])
