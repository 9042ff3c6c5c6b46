"""Scripted AU timelines: pain episodes with onset-apex-offset, blinks, head motion."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from painvision.types import AU_NAMES, AUSeries

__all__ = ["Blink", "Episode", "HeadMotion", "Script", "sample_script"]


def _ramp(x: np.ndarray) -> np.ndarray:
    """Smooth 0 -> 1 over x in [0, 1] (raised cosine)."""
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def _profile(t: np.ndarray, start: float, apex: float, apex_end: float, end: float) -> np.ndarray:
    rise = _ramp((t - start) / max(apex - start, 1e-6))
    fall = 1.0 - _ramp((t - apex_end) / max(end - apex_end, 1e-6))
    return np.where(t < apex_end, rise, fall)


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
        """``(T, 4)``: roll degrees, dx, dy (face widths), scale factor."""
        p = self.periods_s
        return np.stack(
            [
                self.roll_deg * np.sin(2 * np.pi * t / p[0]),
                self.shift * np.sin(2 * np.pi * t / p[1]),
                0.7 * self.shift * np.sin(2 * np.pi * t / p[2] + 1.0),
                1.0 + self.scale * np.sin(2 * np.pi * t / p[3]),
            ],
            axis=1,
        )


@dataclass(frozen=True)
class Script:
    """Everything that happens in a clip."""

    duration_s: float
    fps: float
    episodes: tuple[Episode, ...] = ()
    blinks: tuple[Blink, ...] = ()
    motion: HeadMotion = field(default_factory=HeadMotion)

    @property
    def t(self) -> np.ndarray:
        """``(T,) float64`` frame times."""
        return np.arange(int(round(self.duration_s * self.fps))) / self.fps

    def timelines(self) -> tuple[AUSeries, np.ndarray, np.ndarray]:
        """Ground truth and driving signals.

        Returns:
            ``(labels, closure, pain)``: FACS labels (AU43 is 1 while the eyes are held
            closed, blinks do not count), the lid-closure fraction ``(T,)`` that drives
            the warp (blinks included), and ``(T,) int8`` 1 inside a pain episode.
        """
        t = self.t
        aus = {name: np.zeros_like(t) for name in AU_NAMES}
        closure = np.zeros_like(t)
        pain = np.zeros(t.shape, dtype=np.int8)
        for ep in self.episodes:
            prof = _profile(t, ep.start, ep.apex, ep.apex_end, ep.end)
            for name, peak in ep.peak.items():
                aus[name] = np.maximum(aus[name], peak * prof)
            pain[(t >= ep.start) & (t <= ep.end)] = 1
            if ep.eyes_closed:
                a, b = ep.eyes_closed
                c = _profile(t, a, a + 0.15, b - 0.15, b)
                closure = np.maximum(closure, c)
                aus["au43"] = np.maximum(aus["au43"], (c >= 0.9).astype(float))
        for bl in self.blinks:
            half = bl.duration / 2
            c = _profile(t, bl.at - half, bl.at - 0.02, bl.at + 0.02, bl.at + half)
            closure = np.maximum(closure, c)
        labels = AUSeries(*(np.round(aus[n], 3).astype(np.float32) for n in AU_NAMES))
        return labels, closure.astype(np.float32), pain


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
