"""The subject's neutral baseline: what each AU signal reads on their resting face.

Every AU measure is a change from this baseline, so a person whose resting face
looks "frowny" does not score as in pain. Two ways to get it:

- a known neutral stretch (``neutral=(start_s, end_s)``): the median of each signal
  over the frames in it;
- automatic (default): the mode of each signal over the whole recording, i.e. the
  assumption, as in OpenFace's person calibration, that the subject's most frequent
  expression is neutral. It holds for recordings that are mostly not pain; for a
  recording that is mostly a pain face, give a neutral stretch instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from painvision.errors import InputError
from painvision.features.geometry import SIGNAL_NAMES

__all__ = ["Baseline", "estimate_baseline", "signal_mode"]

#: The automatic neutral needs this many usable frames.
MIN_AUTO_FRAMES = 10
#: A known neutral stretch must hold this many usable frames (0.2 s at 25 fps).
MIN_NEUTRAL_FRAMES = 5


@dataclass(frozen=True, slots=True)
class Baseline:
    """Neutral value of each signal (``values (S,) float32``, ``SIGNAL_NAMES`` order)."""

    values: np.ndarray
    method: str
    n_frames: int
    neutral_s: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.values.shape != (len(SIGNAL_NAMES),):
            raise InputError(
                f"baseline values must be ({len(SIGNAL_NAMES)},), got {self.values.shape}"
            )

    def to_dict(self) -> dict[str, object]:
        return {
            "method": self.method,
            "neutral_s": list(self.neutral_s) if self.neutral_s else None,
            "n_frames": self.n_frames,
            "values": {  # null where there is none (JSON has no NaN)
                n: round(float(v), 6) if np.isfinite(v) else None
                for n, v in zip(SIGNAL_NAMES, self.values, strict=True)
            },
        }


def signal_mode(values: np.ndarray, max_samples: int = 3000) -> float:
    """Mode of a 1-D sample by Gaussian kernel density (Scott's bandwidth)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan")
    if v.size < 3 or np.ptp(v) < 1e-9:
        return float(np.median(v))
    if v.size > max_samples:
        v = v[np.linspace(0, v.size - 1, max_samples).astype(int)]
    lo, hi = np.percentile(v, [0.5, 99.5])
    grid = np.linspace(lo, hi, 512)
    density = _kde(v, grid)
    return float(grid[int(np.argmax(density))])


def _kde(v: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of ``v`` on ``grid`` with Scott's bandwidth, unnormalised:
    what ``scipy.stats.gaussian_kde(v)(grid)`` gives up to a constant factor (tested),
    without importing scipy.stats (0.4 s of every start-up)."""
    sigma2 = np.var(v, ddof=1) * v.size ** (-2.0 / 5.0)
    d = grid[:, None] - v[None, :]
    return np.exp(-0.5 * d * d / sigma2).sum(axis=1)


def estimate_baseline(
    signals: np.ndarray,
    t: np.ndarray,
    valid: np.ndarray,
    neutral: tuple[float, float] | None = None,
) -> Baseline:
    """Neutral value of every signal.

    Args:
        signals: ``(T, S)`` from ``geometry.au_signals``.
        t: ``(T,)`` frame times in seconds.
        valid: ``(T,) bool`` frames that can be trusted (face found, pose within limits).
        neutral: optional (start_s, end_s) of a stretch known to be neutral.

    Raises:
        InputError: the neutral stretch is malformed or has no usable frame.
    """
    sig = np.asarray(signals, dtype=np.float32)
    ok = np.asarray(valid, dtype=bool) & np.isfinite(sig).all(axis=1)
    if neutral is not None:
        start, end = neutral
        if not (np.isfinite(start) and np.isfinite(end)) or end <= start or start < 0:
            raise InputError(
                f"neutral stretch must be START:END seconds with START < END, got {start}:{end}"
            )
        sel = ok & (t >= start) & (t <= end)
        if not sel.any():
            raise InputError(
                f"no usable face in the neutral stretch {start:g}-{end:g} s (no face, head "
                "turned, or too dark, blurred or covered to read: see the CSV's "
                "quality_flags); choose seconds where the face is clearly visible and at rest"
            )
        if sel.sum() < MIN_NEUTRAL_FRAMES:
            raise InputError(
                f"the neutral stretch {start:g}-{end:g} s has {int(sel.sum())} usable "
                f"frame(s); at least {MIN_NEUTRAL_FRAMES} are needed, or one frame's mesh "
                "jitter becomes the baseline: give a longer stretch"
            )
        return Baseline(np.median(sig[sel], axis=0).astype(np.float32), "neutral_range",
                        int(sel.sum()), (float(start), float(end)))
    if ok.sum() < MIN_AUTO_FRAMES:
        return Baseline(np.full(len(SIGNAL_NAMES), np.nan, dtype=np.float32), "auto_mode",
                        int(ok.sum()))
    values = np.array([signal_mode(sig[ok, k]) for k in range(sig.shape[1])], dtype=np.float32)
    return Baseline(values, "auto_mode", int(ok.sum()))
