"""The patient's neutral face for a live stream, and how it may change over weeks.

Every AU is measured as a change from the patient's neutral, so the neutral decides
what reads as pain. A live monitor gets it in one of three ways:

- ``calibrate(frames)``: frames known to show the patient at rest; the neutral is the
  median of their signals (the same rule as ``painvision analyze --neutral``).
- ``calibrate(seconds=S)``: the next ``S`` seconds of the stream are at rest (a nurse
  says so at setup); median again.
- automatic (default): the first ``warmup_s`` seconds in which the patient's face is
  seen; the neutral is the per-signal mode (as offline), which holds as long as the
  patient is mostly at rest during that time.

Then it adapts slowly (posture in bed, a nudged camera, light): an exponential moving
average with time constant ``adapt_tau_s``, fed only by frames that cannot be pain:

1. the patient's face was scored, and the smoothed PSPI is below ``rest_pspi``;
2. no episode is in progress, and the last one ended at least ``rest_after_episode_s``
   ago;
3. every signal is within ``max_step_au`` AU-intensity units of the current neutral.

A pain face (PSPI >= the alert threshold) therefore never feeds the neutral, and the
total drift away from the calibrated neutral is capped per signal at what would move
its AU by ``max_drift_au`` intensity units, so not even a grimace that creeps in over
hours can become "neutral".

The neutral also depends on the head's pose (``features.posefit``): how the patient's
signals move when the head turns on the pillow is fitted on the patient's own frames,
one every ``pose_sample_s`` outside episodes (and not within ``rest_after_episode_s``
after one, nor while the smoothed PSPI is at ``pose_rest_pspi`` or above), from the last
``pose_window`` of them, refitted every ``pose_refit_s``. The pose at which the neutral
was taken is where nothing is subtracted (for a neutral given from elsewhere without a
pose coupling of its own: the median pose of the first fit). Until enough frames are
there (``posefit.MIN_FRAMES``, about 20 s), nothing is corrected.

State is bounded: a fixed-size reservoir during warm-up, a fixed ring for the pose fit,
two arrays for the neutral.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from painvision.errors import InputError
from painvision.features import SIGNAL_NAMES, Baseline
from painvision.features.analytic import Calibration
from painvision.features.baseline import signal_mode
from painvision.features.inputs import Neutral
from painvision.features.posefit import PoseCoupling, fit_pose_coupling
from painvision.landmarks.appearance import LookSchedule

__all__ = ["AdaptiveNeutral", "NeutralPolicy"]

_APERTURE = SIGNAL_NAMES.index("eye_aperture")


@dataclass(frozen=True)
class NeutralPolicy:
    """How the live neutral is found and adapted (see the module docstring).

    Attributes:
        warmup_s: 10.0. Seconds of the patient's face for the automatic neutral: long
            enough for a mode over blinks and small movements, short enough to start
            scoring soon after the box is switched on.
        adapt: True. Follow slow changes after calibration.
        adapt_tau_s: 600.0. Time constant of the adaptation (10 minutes of rest frames
            move the neutral 63 % of the way): far slower than any pain episode.
        rest_pspi: 0.5. Only frames whose smoothed PSPI is below this feed the neutral.
        rest_after_episode_s: 60.0. Nor frames within this long after an episode.
        max_step_au: 0.5. Nor frames with any signal this far (in AU units) from it.
        max_drift_au: 1.0. Total drift from the calibrated neutral, per signal, in AU
            intensity units of the AU that signal drives most.
        reservoir: 1024. Frames kept (uniformly sampled) during warm-up.
        pose_coupling: True. Read the signals against the neutral at the head's pose.
        pose_sample_s: 0.2. One frame this often feeds the pose fit.
        pose_window: 900. The pose fit uses the last this many of them (3 minutes).
        pose_refit_s: 5.0. The pose fit is redone this often (a few milliseconds).
        pose_rest_pspi: 3.0. Frames whose smoothed PSPI is this high (a face on its way to
            an alarm) do not feed the pose fit. Not ``rest_pspi``: a turned head alone
            reads 1-2 PSPI, and those are the frames the fit must see.
    """

    warmup_s: float = 10.0
    adapt: bool = True
    adapt_tau_s: float = 600.0
    rest_pspi: float = 0.5
    rest_after_episode_s: float = 60.0
    max_step_au: float = 0.5
    max_drift_au: float = 1.0
    reservoir: int = 1024
    pose_coupling: bool = True
    pose_sample_s: float = 0.2
    pose_window: int = 900
    pose_refit_s: float = 5.0
    pose_rest_pspi: float = 3.0

    def __post_init__(self) -> None:
        if not (self.warmup_s > 0 and self.adapt_tau_s > 0 and self.reservoir >= 10):
            raise InputError("neutral policy: warmup_s and adapt_tau_s must be > 0, "
                             "reservoir >= 10")
        if not (self.pose_sample_s >= 0 and self.pose_refit_s > 0 and self.pose_window >= 10):
            raise InputError("neutral policy: pose_sample_s must be >= 0, pose_refit_s > 0, "
                             "pose_window >= 10")


def _signal_units(calibration: Calibration) -> np.ndarray:
    """Per signal: how much change is one AU intensity unit (for the AU it drives most,
    whichever way: the mouth signals' gains are mostly negative, they rise with their AU).
    Signals no AU reads (the eye aperture, read as a ratio for AU43) get 1 % of an IOD,
    the scale of the others."""
    units = np.full(len(SIGNAL_NAMES), 0.01)
    for gains in calibration.gains.values():
        for s, g in gains.items():
            if g != 0:
                k = SIGNAL_NAMES.index(s)
                units[k] = min(units[k], 1.0 / abs(g))
    return units


def _median_pose(ypr: np.ndarray) -> np.ndarray | None:
    """The median of the known poses among ``(N, 3)`` (NaN rows: unknown), or None."""
    known = np.isfinite(ypr).all(axis=1)
    return np.median(ypr[known], axis=0).astype(np.float64) if known.any() else None


class AdaptiveNeutral:
    """The neutral of one patient in a live stream.

    Args:
        policy: warm-up and adaptation settings.
        calibration: the analytic calibration, whose gains turn AU units into signal units.
    """

    def __init__(self, policy: NeutralPolicy | None = None,
                 calibration: Calibration | None = None) -> None:
        self.policy = policy or NeutralPolicy()
        self._units = _signal_units(calibration or Calibration.load_default())
        self._neutral: Neutral | None = None
        self._anchor_values: np.ndarray | None = None
        self._anchor_mesh: np.ndarray | None = None
        self._method = "auto"
        self._collect_until: float | None = None
        self._collect_for: float | None = None
        self._buf_sig: np.ndarray | None = None
        self._buf_mesh: np.ndarray | None = None
        self._buf_box: np.ndarray | None = None
        self._buf_ypr: np.ndarray | None = None
        self._seen = 0
        self._first_t: float | None = None
        self._last_adapt_t: float | None = None
        self._rng = np.random.default_rng(0)
        self.box: tuple[float, float, float] | None = None
        self.adapted_frames = 0
        self._reset_pose()

    # -- state ---------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self._neutral is not None

    @property
    def neutral(self) -> Neutral | None:
        return self._neutral

    @property
    def method(self) -> str:
        return self._method

    def drift_au(self) -> float:
        """Largest drift of any signal from the calibrated neutral, in AU units."""
        if self._neutral is None or self._anchor_values is None:
            return 0.0
        d = np.abs(self._neutral.baseline.values - self._anchor_values) / self._units
        return float(np.nanmax(d))

    @property
    def coupling(self) -> PoseCoupling | None:
        """The pose coupling in use (None until it has been fitted)."""
        return self._coupling

    def to_dict(self) -> dict[str, object]:
        return {"ready": self.ready and not self.collecting, "method": self._method,
                "frames": self._neutral.baseline.n_frames if self._neutral else self._seen,
                "adapted_frames": self.adapted_frames, "drift_au": round(self.drift_au(), 3),
                "pose_frames": self._coupling.n_frames if self._coupling else 0}

    # -- pose coupling -------------------------------------------------------
    def _reset_pose(self, ref: np.ndarray | None = None) -> None:
        n = self.policy.pose_window
        self._pose_sig = np.full((n, len(SIGNAL_NAMES)), np.nan)
        self._pose_ypr = np.full((n, 3), np.nan)
        self._pose_t = np.full(n, np.nan)
        self._pose_next = 0
        self._pose_sample = LookSchedule(self.policy.pose_sample_s, slack=1e-9)
        self._pose_refit = LookSchedule(self.policy.pose_refit_s)
        self._pose_ref = ref
        self._coupling: PoseCoupling | None = None

    def correct(self, t: float, signals: np.ndarray, ypr: np.ndarray, valid: bool,
                in_episode: bool, last_episode_end: float | None,
                smoothed: float | None = None) -> np.ndarray:
        """The frame's signals read at its head pose. A frame that may be at rest also
        feeds the pose fit (see the module docstring), which is redone when due.
        ``smoothed``: the alert's smoothed PSPI so far; at ``pose_rest_pspi`` or above the
        frame does not feed the fit (the run-up to an onset)."""
        p = self.policy
        if not p.pose_coupling:
            return signals
        sig = np.asarray(signals, dtype=np.float64)
        pose = np.asarray(ypr, dtype=np.float64)
        rest = (valid and not in_episode and np.isfinite(sig).all() and np.isfinite(pose).all()
                and (smoothed is None or smoothed < p.pose_rest_pspi)
                and (last_episode_end is None or t - last_episode_end >= p.rest_after_episode_s))
        if rest and self._pose_sample.due(t):
            k = self._pose_next % p.pose_window
            self._pose_sig[k], self._pose_ypr[k], self._pose_t[k] = sig, pose, t
            self._pose_next += 1
        if self._pose_refit.due(t):
            self._fit_pose()
        if self._coupling is None:
            return signals
        return self._coupling.correct(signals, ypr)

    def _fit_pose(self) -> None:
        n = min(self._pose_next, self.policy.pose_window)
        if n == 0 or not self.ready or self.collecting:
            return
        order = np.argsort(self._pose_t[:n], kind="stable")
        ypr = self._pose_ypr[:n][order]
        # where nothing is subtracted: the pose the neutral was taken at; unknown (a neutral
        # given from elsewhere), the median pose of the first fit that has enough frames
        ref = self._pose_ref if self._pose_ref is not None else np.median(ypr, axis=0)
        c = fit_pose_coupling(self._pose_sig[:n][order], ypr, np.ones(n, bool),
                              self._pose_t[:n][order], ref=ref)
        if c.active:
            self._pose_ref = ref
            self._coupling = c
        else:
            self._coupling = None

    # -- calibration ---------------------------------------------------------
    def _start_buffers(self) -> None:
        n = self.policy.reservoir
        self._buf_sig = np.full((n, len(SIGNAL_NAMES)), np.nan, np.float32)
        self._buf_mesh = np.full((n, 478, 3), np.nan, np.float32)
        self._buf_box = np.full((n, 3), np.nan, np.float32)
        self._buf_ypr = np.full((n, 3), np.nan, np.float32)
        self._seen = 0
        self._first_t = None

    def collect(self, seconds: float | None = None) -> None:
        """Start collecting: ``seconds`` of rest frames (median), or, with None, the
        automatic warm-up (mode)."""
        if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
            raise InputError(f"calibration seconds must be > 0, got {seconds}")
        self._start_buffers()
        self._reset_pose()
        self._collect_for = seconds
        self._method = "calibrated_seconds" if seconds is not None else "auto"

    @property
    def collecting(self) -> bool:
        return self._buf_sig is not None

    def add(self, t: float, signals: np.ndarray, aligned: np.ndarray,
            box: tuple[float, float, float], ypr: np.ndarray | None = None) -> bool:
        """Feed one valid frame while collecting; True when the neutral became ready.
        ``ypr``: its head pose in degrees, for where the pose coupling is zero."""
        if (self._buf_sig is None or self._buf_mesh is None or self._buf_box is None
                or self._buf_ypr is None):
            return False
        if self._first_t is None:
            self._first_t = t
        n = self.policy.reservoir
        slot = self._seen if self._seen < n else int(self._rng.integers(0, self._seen + 1))
        if slot < n:  # reservoir sampling: a uniform sample of all frames, bounded
            self._buf_sig[slot] = signals
            self._buf_mesh[slot] = aligned
            self._buf_box[slot] = box
            self._buf_ypr[slot] = np.nan if ypr is None else ypr
        self._seen += 1
        span = self._collect_for if self._collect_for is not None else self.policy.warmup_s
        if t - self._first_t < span or self._seen < 10:
            return False
        self._finish(t)
        return True

    def _finish(self, t: float) -> None:
        k = min(self._seen, self.policy.reservoir)
        sig, mesh = self._buf_sig[:k], self._buf_mesh[:k]
        if self._collect_for is not None:
            values = np.median(sig, axis=0)
            sel = np.ones(k, bool)
        else:
            values = np.array([signal_mode(sig[:, j]) for j in range(sig.shape[1])])
            dev = np.abs(sig - values) / self._units
            score = dev.max(axis=1)
            sel = score <= np.quantile(score, 0.3)
        self._set(Baseline(values.astype(np.float32), self._method, int(self._seen)),
                  np.median(mesh[sel], axis=0).astype(np.float32),
                  tuple(float(v) for v in np.median(self._buf_box[:k], axis=0)),
                  _median_pose(self._buf_ypr[:k]))
        self._buf_sig = self._buf_mesh = self._buf_box = self._buf_ypr = None
        self._last_adapt_t = t

    def _set(self, baseline: Baseline, mesh: np.ndarray,
             box: tuple[float, float, float] | None, ref: np.ndarray | None = None) -> None:
        """A new neutral, taken at head pose ``ref`` (None: not known)."""
        self._reset_pose(ref)  # a new neutral (perhaps a new patient): a new pose fit
        self._neutral = Neutral(baseline, mesh)
        self._anchor_values = baseline.values.copy()
        self._anchor_mesh = mesh.copy()
        self.box = box
        self.adapted_frames = 0

    def use(self, neutral: Neutral, method: str) -> None:
        """Take a neutral from an earlier calibration."""
        self._buf_sig = self._buf_mesh = self._buf_box = self._buf_ypr = None
        self._method = method
        coupling = neutral.coupling
        self._set(neutral.baseline, neutral.mesh, None,
                  coupling.ref if coupling is not None and coupling.active else None)

    def set_from(self, signals: np.ndarray, aligned: np.ndarray,
                 boxes: np.ndarray, method: str, ypr: np.ndarray | None = None) -> None:
        """Neutral from frames known to be at rest (median); ``ypr`` their head poses."""
        if len(signals) < 3:
            raise InputError(f"calibration needs at least 3 frames with the patient's face at "
                             f"rest, got {len(signals)}")
        self._buf_sig = self._buf_mesh = self._buf_box = self._buf_ypr = None
        self._method = method
        self._set(Baseline(np.median(signals, axis=0).astype(np.float32), method,
                           len(signals)),
                  np.median(aligned, axis=0).astype(np.float32),
                  tuple(float(v) for v in np.median(boxes, axis=0)),
                  None if ypr is None else _median_pose(ypr))

    # -- adaptation ----------------------------------------------------------
    def adapt(self, t: float, signals: np.ndarray, aligned: np.ndarray, smoothed: float | None,
              in_episode: bool, last_episode_end: float | None) -> bool:
        """Let one scored frame move the neutral, if it is allowed to (see the module
        docstring). Returns whether it did."""
        p = self.policy
        neu = self._neutral
        if not p.adapt or neu is None or self._anchor_values is None:
            return False
        last, self._last_adapt_t = self._last_adapt_t, t
        if (smoothed is None or smoothed >= p.rest_pspi or in_episode
                or (last_episode_end is not None and t - last_episode_end < p.rest_after_episode_s)
                or not np.isfinite(signals).all()):
            return False
        values = neu.baseline.values
        if (np.abs(signals - values) / self._units).max() > p.max_step_au:
            return False
        dt = min(t - last, 1.0) if last is not None and t > last else 0.0
        a = 1.0 - math.exp(-dt / p.adapt_tau_s)
        cap = p.max_drift_au * self._units
        new = values + a * (signals - values)
        new = np.clip(new, self._anchor_values - cap, self._anchor_values + cap)
        mesh = neu.mesh + a * (aligned - neu.mesh)
        mesh = np.clip(mesh, self._anchor_mesh - 0.02, self._anchor_mesh + 0.02)
        self._neutral = Neutral(Baseline(new.astype(np.float32), neu.baseline.method,
                                         neu.baseline.n_frames), mesh.astype(np.float32))
        self.adapted_frames += 1
        return True
