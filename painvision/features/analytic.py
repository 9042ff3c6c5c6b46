"""The analytic PSPI scorer: AU intensities from geometric signals relative to the
subject's neutral baseline, combined by the PSPI formula. Interpretable by design:
each AU is a weighted sum of named mesh distances (``geometry.py``)."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from painvision.errors import InputError
from painvision.features.baseline import Baseline
from painvision.features.geometry import SIGNAL_NAMES
from painvision.types import AU_NAMES, AUSeries

__all__ = ["AnalyticScorer", "Calibration", "eyes_closed", "smooth"]

_SIG = {name: k for k, name in enumerate(SIGNAL_NAMES)}


@dataclass(frozen=True)
class Calibration:
    """How signal changes map to AU intensities.

    Attributes:
        gains: AU -> {signal: intensity units per IOD that the signal *falls* below
            its baseline}. Only the signals named for an AU count towards it.
        closed_ratio: eyes count as closed when the aperture is below this share of
            its baseline.
        closed_min_s: a closure must last this long to be AU43 (eyes closed); shorter
            ones are blinks (AU45), which PSPI does not count.
        lid_compensation: signal -> how much of the upper lid's descent (the fall of
            ``upper_lid_height``) the face mesh passes on to that signal. When the
            eyes close, MediaPipe's mesh also shortens the nose and shifts the brows
            and cheeks; this share is subtracted before the gains apply, so closing
            the eyes (sleep, blinks) does not read as nose wrinkling or brow lowering.
            Shares are >= 0: compensation only removes evidence, it never adds any.
        source: where the gains came from.
    """

    gains: dict[str, dict[str, float]]
    closed_ratio: float = 0.35
    closed_min_s: float = 0.5
    lid_compensation: dict[str, float] = field(default_factory=dict)
    source: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for au, g in self.gains.items():
            if au not in AU_NAMES or au == "au43":
                raise InputError(f"calibration gains: unknown AU {au!r}")
            for s in g:
                if s not in _SIG:
                    raise InputError(f"calibration gains for {au}: unknown signal {s!r}")
        for s, k in self.lid_compensation.items():
            if s not in _SIG or k < 0:
                raise InputError(f"lid compensation: unknown signal or negative share {s!r}: {k}")

    @classmethod
    def load_default(cls) -> Calibration:
        path = resources.files("painvision.features") / "data" / "analytic_calibration.json"
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, d: dict) -> Calibration:
        return cls(
            gains={au: {s: float(v) for s, v in g.items()} for au, g in d["gains"].items()},
            closed_ratio=float(d.get("closed_ratio", 0.35)),
            closed_min_s=float(d.get("closed_min_s", 0.5)),
            lid_compensation={s: float(v) for s, v in d.get("lid_compensation", {}).items()},
            source=str(d.get("source", "")),
            extra=dict(d.get("extra", {})),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "gains": self.gains,
            "closed_ratio": self.closed_ratio,
            "closed_min_s": self.closed_min_s,
            "lid_compensation": self.lid_compensation,
            "source": self.source,
            "extra": self.extra,
        }


def eyes_closed(aperture_ratio: np.ndarray, t: np.ndarray, threshold: float,
                min_s: float) -> np.ndarray:
    """AU43 per frame: 1 inside runs of closure lasting at least ``min_s`` seconds.

    Args:
        aperture_ratio: ``(T,)`` eye aperture over its baseline; NaN ends a run.
        t: ``(T,)`` frame times.

    Returns:
        ``(T,) float32`` of 0/1, NaN where the ratio is NaN.
    """
    closed = np.nan_to_num(aperture_ratio, nan=np.inf) < threshold
    out = np.zeros(closed.shape, dtype=np.float32)
    i = 0
    n = closed.size
    while i < n:
        if not closed[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and closed[j + 1]:
            j += 1
        # Duration of the run: from its first frame to the frame after its last.
        end_t = t[j + 1] if j + 1 < n else t[j] + (t[j] - t[j - 1] if j > 0 else 0.0)
        if end_t - t[i] >= min_s:
            out[i : j + 1] = 1.0
        i = j + 1
    out[~np.isfinite(aperture_ratio)] = np.nan
    return out


def _half_window(t: np.ndarray, window_s: float) -> int:
    dt = float(np.nanmedian(np.diff(t))) if t.size > 1 else 0.0
    return int(round(window_s / dt / 2)) if dt > 0 and window_s > 0 else 0


def smooth(x: np.ndarray, t: np.ndarray, median_s: float, mean_s: float) -> np.ndarray:
    """NaN-aware centred running median, then running mean, windows in seconds.

    The median removes transients shorter than half its window (a blink moves the
    whole mesh for ~0.1-0.3 s, which would otherwise flash up as brow or nose
    movement); the mean removes tracking jitter. Frame-rate aware via ``t``.
    """
    finite = np.isfinite(x)
    out = x.astype(np.float64).copy()
    h = _half_window(t, median_s)
    if h >= 1 and x.size > 2:
        # NaN padding: the ends are medians of the frames that exist, not of copies
        # of the first / last frame (MediaPipe's first frame, before tracking, is
        # often an outlier).
        padded = np.pad(np.where(finite, out, np.nan), h, constant_values=np.nan)
        windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * h + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows stay NaN
            out = np.nanmedian(windows, axis=1)
    h = _half_window(t, mean_s)
    if h >= 1 and x.size > 2:
        k = np.ones(2 * h + 1)
        ok = np.isfinite(out)
        num = np.convolve(np.where(ok, out, 0.0), k, mode="same")
        den = np.convolve(ok.astype(float), k, mode="same")
        with np.errstate(invalid="ignore", divide="ignore"):
            out = num / den
    out[~finite] = np.nan
    return out


class AnalyticScorer:
    """Geometric AU intensities and PSPI, relative to a neutral baseline.

    Args:
        calibration: signal-to-intensity gains; default: the shipped calibration.
        median_s: centred running-median window applied to each AU (removes blinks).
        mean_s: centred running-mean window applied after it (removes jitter).
    """

    name = "analytic-v1"

    def __init__(self, calibration: Calibration | None = None, median_s: float = 0.5,
                 mean_s: float = 0.2) -> None:
        self.calibration = calibration or Calibration.load_default()
        self.median_s = median_s
        self.mean_s = mean_s

    def score(self, signals: np.ndarray, t: np.ndarray, valid: np.ndarray,
              baseline: Baseline) -> AUSeries:
        """AU intensities for every frame.

        Args:
            signals: ``(T, S)`` from ``geometry.au_signals``.
            t: ``(T,)`` seconds.
            valid: ``(T,) bool`` frames to score; the others get NaN.
            baseline: the subject's neutral values.

        Returns:
            AUSeries, FACS 0-5 (AU43 0/1), NaN where not valid.
        """
        sig = np.asarray(signals, dtype=np.float64)
        if sig.ndim != 2 or sig.shape[1] != len(SIGNAL_NAMES):
            raise InputError(f"signals must be (T, {len(SIGNAL_NAMES)}), got {sig.shape}")
        ok = np.asarray(valid, dtype=bool) & np.isfinite(sig).all(axis=1)
        drop = baseline.values[None, :].astype(np.float64) - sig  # > 0: signal fell
        drop[~ok] = np.nan
        lid = np.maximum(drop[:, _SIG["upper_lid_height"]], 0.0)
        for s, k in self.calibration.lid_compensation.items():
            drop[:, _SIG[s]] -= k * lid
        out = {}
        for au in AU_NAMES:
            if au == "au43":
                continue
            g = self.calibration.gains.get(au, {})
            val = np.zeros(sig.shape[0])
            for s, gain in g.items():
                val = val + gain * drop[:, _SIG[s]]
            val = smooth(val, t, self.median_s, self.mean_s)
            out[au] = np.clip(val, 0.0, 5.0)
        ap = sig[:, _SIG["eye_aperture"]] / max(float(baseline.values[_SIG["eye_aperture"]]), 1e-6)
        ap[~ok] = np.nan
        out["au43"] = eyes_closed(ap, t, self.calibration.closed_ratio,
                                  self.calibration.closed_min_s)
        return AUSeries(*(np.asarray(out[n], dtype=np.float32) for n in AU_NAMES))
