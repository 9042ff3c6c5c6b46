"""The analytic PSPI scorer: AU intensities from geometric signals relative to the
subject's neutral baseline, combined by the PSPI formula. Interpretable by design:
each AU is a weighted sum of named mesh distances (``geometry.py``).

Besides the PSPI AUs it measures the movements that tell pain from its look-alikes
(``EXPRESSION_AUS``): AU1+2 brow raise, AU12 lip-corner pull (smile, laughter), AU15
lip-corner depressor (crying), AU20 lip stretch, AU25 lips apart, AU26 jaw drop (talking,
yawning, laughter), and AU45 blinks (closures shorter than AU43's minimum). They do not
enter PSPI; the pain evidence (``features.evidence``) reads them.
"""

from __future__ import annotations

import json
import warnings
from collections import deque
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from painvision.errors import InputError
from painvision.features.baseline import Baseline
from painvision.features.geometry import SIGNAL_NAMES
from painvision.types import AU_NAMES, AUScores, AUSeries

__all__ = ["ALL_GRADED", "EXPRESSION_AUS", "GRADED_AUS", "AnalyticScorer", "AnalyticStream",
           "Calibration", "blinks", "eyes_closed", "smooth"]

#: The PSPI AUs scored 0-5 (AU43 is 0/1, from the eye aperture).
GRADED_AUS: tuple[str, ...] = tuple(a for a in AU_NAMES if a != "au43")
#: Movements outside PSPI, scored 0-5 like the PSPI AUs: AU1+2 brow raise, AU12 lip-corner
#: pull, AU15 lip-corner depressor, AU20 lip stretch, AU25 lips apart, AU26 jaw drop.
EXPRESSION_AUS: tuple[str, ...] = ("au1_2", "au12", "au15", "au20", "au25", "au26")
#: Every graded AU, in the column order of ``AnalyticScorer.raw``.
ALL_GRADED: tuple[str, ...] = GRADED_AUS + EXPRESSION_AUS

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
            if au not in ALL_GRADED:
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


def blinks(aperture_ratio: np.ndarray, t: np.ndarray, threshold: float,
           min_s: float) -> np.ndarray:
    """AU45 per frame: 1 inside closures shorter than ``min_s`` (those that are not AU43).

    Returns:
        ``(T,) float32`` of 0/1, NaN where the ratio is NaN.
    """
    closed = (np.nan_to_num(aperture_ratio, nan=np.inf) < threshold).astype(np.float32)
    held = np.nan_to_num(eyes_closed(aperture_ratio, t, threshold, min_s), nan=0.0)
    out = np.clip(closed - held, 0.0, 1.0)
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
    # a window no longer than the clip: np.convolve(mode="same") returns the longer of
    # the two, so a clip shorter than the window would come back longer than it went in
    h = min(_half_window(t, mean_s), (x.size - 1) // 2)
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

    def raw(self, signals: np.ndarray, valid: np.ndarray, baseline: Baseline
            ) -> tuple[np.ndarray, np.ndarray]:
        """Unsmoothed, unclipped intensities of every graded AU and the eye aperture ratio.

        Args:
            signals: ``(T, S)`` from ``geometry.au_signals``.
            valid: ``(T,) bool`` frames to score.
            baseline: the subject's neutral values.

        Returns:
            ``(T, 11)`` for ``ALL_GRADED`` (the PSPI AUs first) and ``(T,)`` aperture /
            baseline aperture, both NaN where the frame is not valid.
        """
        sig = np.atleast_2d(np.asarray(signals, dtype=np.float64))
        if sig.shape[1] != len(SIGNAL_NAMES):
            raise InputError(f"signals must be (T, {len(SIGNAL_NAMES)}), got {sig.shape}")
        ok = np.asarray(valid, dtype=bool).reshape(-1) & np.isfinite(sig).all(axis=1)
        drop = baseline.values[None, :].astype(np.float64) - sig  # > 0: signal fell
        drop[~ok] = np.nan
        lid = np.maximum(drop[:, _SIG["upper_lid_height"]], 0.0)
        for s, k in self.calibration.lid_compensation.items():
            drop[:, _SIG[s]] -= k * lid
        out = np.zeros((sig.shape[0], len(ALL_GRADED)))
        for j, au in enumerate(ALL_GRADED):
            for s, gain in self.calibration.gains.get(au, {}).items():
                out[:, j] += gain * drop[:, _SIG[s]]
        ap = sig[:, _SIG["eye_aperture"]] / max(float(baseline.values[_SIG["eye_aperture"]]), 1e-6)
        ap[~ok] = np.nan
        return out, ap

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
        return self.series_from_raw(*self.raw(sig, valid, baseline), t)

    def series_from_raw(self, raw: np.ndarray, ap: np.ndarray, t: np.ndarray) -> AUSeries:
        """``score`` from ``raw``'s output (for callers that also need the raw values)."""
        out = {}
        for j, au in enumerate(GRADED_AUS):
            out[au] = np.clip(smooth(raw[:, j], t, self.median_s, self.mean_s), 0.0, 5.0)
        out["au43"] = eyes_closed(ap, t, self.calibration.closed_ratio,
                                  self.calibration.closed_min_s)
        return AUSeries(*(np.asarray(out[n], dtype=np.float32) for n in AU_NAMES))

    def expressions(self, signals: np.ndarray, t: np.ndarray, valid: np.ndarray,
                    baseline: Baseline) -> dict[str, np.ndarray]:
        """The movements outside PSPI (``EXPRESSION_AUS``, 0-5, smoothed as the PSPI AUs)
        and ``au45`` (blinks, 0/1), each ``(T,) float32``, NaN where not valid."""
        return self.expressions_from_raw(*self.raw(signals, valid, baseline), t)

    def expressions_from_raw(self, raw: np.ndarray, ap: np.ndarray, t: np.ndarray
                             ) -> dict[str, np.ndarray]:
        """``expressions`` from ``raw``'s output."""
        out = {}
        for j, au in enumerate(ALL_GRADED):
            if au in EXPRESSION_AUS:
                out[au] = np.clip(smooth(raw[:, j], t, self.median_s, self.mean_s), 0.0,
                                  5.0).astype(np.float32)
        out["au45"] = blinks(ap, t, self.calibration.closed_ratio, self.calibration.closed_min_s)
        return out


class AnalyticStream:
    """The analytic scorer one frame at a time, for a live camera.

    Same gains and lid compensation as ``AnalyticScorer``; what cannot be the same is
    the smoothing, which here looks only at the past: a running median over the last
    ``median_s`` seconds (removes blinks, at the price of about half that in lag), then
    a running mean over the last ``mean_s``. AU43 turns on once a closure has lasted
    ``closed_min_s`` (offline, the whole closure is marked from its first frame).
    State is bounded: two short windows and the start of the current closure.
    """

    def __init__(self, scorer: AnalyticScorer | None = None, max_window: int = 256) -> None:
        self.scorer = scorer or AnalyticScorer()
        self._raw: deque[tuple[float, np.ndarray]] = deque(maxlen=max_window)
        self._med: deque[tuple[float, np.ndarray]] = deque(maxlen=max_window)
        self._closed_since: float | None = None
        self._last_t: float | None = None
        self._dt = 0.0
        #: the last scored frame's ``EXPRESSION_AUS`` (smoothed as the PSPI AUs) and ``au45``
        #: (1 while the eyes are shut for less than AU43's minimum: a blink in progress)
        self.expressions: dict[str, float] | None = None

    def reset(self) -> None:
        """Forget the past (after a gap in the video, or a new subject)."""
        self._raw.clear()
        self._med.clear()
        self._closed_since = None
        self._last_t = None
        self._dt = 0.0
        self.expressions = None

    @staticmethod
    def _prune(window: deque, t: float, span: float) -> None:
        while window and window[0][0] < t - span - 1e-9:
            window.popleft()

    def update(self, t: float, signals: np.ndarray, valid: bool,
               baseline: Baseline) -> AUScores | None:
        """Scores of the frame at ``t`` (seconds, increasing), or None if not valid."""
        raw, ap = self.scorer.raw(np.asarray(signals)[None, :], np.array([valid]), baseline)
        return self.update_raw(t, raw[0], float(ap[0]))

    def update_raw(self, t: float, raw: np.ndarray, ap: float) -> AUScores | None:
        """``update`` from the frame's row of ``AnalyticScorer.raw`` (``(11,)``, NaN when
        the frame is not valid) and its aperture ratio."""
        raw = np.asarray(raw)[None, :]
        ap = np.array([ap])
        if self._last_t is not None and t > self._last_t:
            self._dt = t - self._last_t
        self._last_t = t
        if not np.isfinite(raw).all():
            self._closed_since = None  # a missing frame ends a closure, as offline
            return None
        self._raw.append((t, raw[0]))
        self._prune(self._raw, t, self.scorer.median_s)
        med = np.median(np.stack([v for _, v in self._raw]), axis=0)
        self._med.append((t, med))
        self._prune(self._med, t, self.scorer.mean_s)
        val = np.clip(np.mean(np.stack([v for _, v in self._med]), axis=0), 0.0, 5.0)
        cal = self.scorer.calibration
        if ap[0] < cal.closed_ratio:
            if self._closed_since is None:
                self._closed_since = t
            au43 = float(t - self._closed_since + self._dt >= cal.closed_min_s - 1e-9)
        else:
            self._closed_since = None
            au43 = 0.0
        n = len(GRADED_AUS)
        self.expressions = {au: float(v) for au, v in zip(EXPRESSION_AUS, val[n:], strict=True)}
        self.expressions["au45"] = float(ap[0] < cal.closed_ratio and au43 == 0.0)
        return AUScores(*(float(v) for v in val[:n]), au43)
