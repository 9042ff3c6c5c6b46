"""Each person's pose coupling: how far every geometric signal moves when the head turns,
nods or tilts while the face stays at rest, so that it is read against the neutral *at
the head's pose*.

Head-pose alignment (``landmarks.pose``) removes the rotation of the mesh, but not what
the rotation does to MediaPipe's reading of the face. The mesh is inferred from a crop
whose placement follows the head, and its shape changes with it. Measured on the two
bundled photos, still and without expression, through MediaPipe:

- rotating the image by 4-15 degrees moved the AU readings by up to 2.8 units (AU4),
  5.2 (AU6) and 7.5 (AU9);
- shifting it by 1-15 pixels or zooming by 3 % moved AU10 by up to 4.7 units.

On the held-out rendered benchmark 7.2 % of the quiet frames read PSPI >= 3
(``scripts/pose_coupling_effect.py``, ``docs/pose_coupling.json``).

A patient's head turns on the pillow all night. The part of this that follows the pose is
removed here: per person, a linear model of every signal on yaw, pitch and roll, fitted
on that person's own frames. The neutral value of a signal then depends on the pose, and
only the movement beyond it is read.

- **Robust fit.** Ridge least squares, trimmed: it starts from the frames whose signal
  is near its median, then frames whose residual is more than ``TRIM_MAD`` robust
  standard deviations from the median are dropped and the fit is redone. Expressions
  are a minority of the frames and move the signals far, so the fit follows the resting
  face, even when an expression comes with a turn of the head.
- **Ridge.** It shrinks a slope towards 0 unless the pose varied enough to measure it: a
  pose-locked expression cannot be learnt away from a few seconds of video.
- **Bounded.** The pose is clamped to the range the fit saw, and no signal is moved by
  more than ``MAX_OFFSET`` (0.005 IOD: 0.5-1 AU unit for the signals PSPI reads, so at
  most about 2.5 PSPI in all): should a pain face always come with the same turn of the
  head and be taken for pose, it keeps all but that much. On the held-out benchmark the
  correction's whole benefit lies within it (quiet frames at PSPI >= 3: 5.3 % with no cap,
  5.2 % with this one). Too few frames, or too short a time span, gives no correction
  at all.

The model is linear in the angles: a quadratic one removed no more on the benchmark. What
is left of the crop's jitter does not follow the pose, and stays: 5.2 % of the
benchmark's quiet frames read PSPI >= 3.

numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from painvision.features.geometry import SIGNAL_NAMES

__all__ = ["MAX_FIT_FRAMES", "MAX_OFFSET", "MIN_FRAMES", "MIN_SPAN_S", "PoseCoupling",
           "fit_pose_coupling"]

#: Angles enter the fit in units of this many degrees.
POSE_SCALE_DEG = 10.0
#: Ridge penalty per frame, in (POSE_SCALE_DEG)^2. Lower values (0.01) began to take
#: movement of pain episodes that came with head motion for pose on the rendered
#: benchmark; higher ones (0.2) removed a third less of the pose's effect.
RIDGE = 0.05
#: Frames this many robust standard deviations off the fit are left out of the next round.
TRIM_MAD = 2.0
ITERATIONS = 4
#: The most the pose may move any signal's neutral (IOD; a ratio for the eye aperture).
MAX_OFFSET = 0.005
#: A longer recording is fitted on this many of its frames, evenly spaced (bounded memory).
MAX_FIT_FRAMES = 50_000
_CHUNK = 65_536
#: Fewer frames or a shorter span than this: no correction.
MIN_FRAMES = 100
MIN_SPAN_S = 10.0


@dataclass(frozen=True)
class PoseCoupling:
    """A person's pose coupling.

    Attributes:
        ref: ``(3,)`` the pose (yaw, pitch, roll in degrees) at which nothing is
            subtracted: the median pose of the frames fitted.
        slopes: ``(3, S)`` change of each signal per ``POSE_SCALE_DEG`` of yaw, pitch
            and roll.
        lo, hi: ``(3,)`` the range of the poses fitted (1st and 99th percentiles); poses
            outside are clamped to it.
        n_frames: frames the last round of the fit used, for the signal that kept most
            (0: no correction).
    """

    ref: np.ndarray
    slopes: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    n_frames: int = 0

    @classmethod
    def none(cls, n_signals: int) -> PoseCoupling:
        """No correction."""
        z = np.zeros(3)
        return cls(z, np.zeros((3, n_signals)), z, z, 0)

    @property
    def active(self) -> bool:
        return self.n_frames > 0

    def offsets(self, ypr: np.ndarray) -> np.ndarray:
        """``(T, S)``: how far each signal sits from its neutral because of the pose alone
        (0 where the pose is NaN), at most ``MAX_OFFSET`` either way."""
        p = np.atleast_2d(np.asarray(ypr, dtype=np.float64))
        d = (np.clip(p, self.lo, self.hi) - self.ref) / POSE_SCALE_DEG
        return np.clip(np.nan_to_num(d @ self.slopes), -MAX_OFFSET, MAX_OFFSET)

    def correct(self, signals: np.ndarray, ypr: np.ndarray) -> np.ndarray:
        """``signals`` (``(T, S)`` or ``(S,)``) with the pose's part removed, same dtype."""
        s = np.asarray(signals)
        if not self.active or s.size == 0:
            return s
        if s.ndim == 1:
            return (s - self.offsets(ypr)[0]).astype(s.dtype, copy=False)
        p = np.asarray(ypr)
        out = np.empty_like(s)
        for i in range(0, s.shape[0], _CHUNK):  # bounded temporaries on long videos
            out[i:i + _CHUNK] = s[i:i + _CHUNK] - self.offsets(p[i:i + _CHUNK])
        return out

    def to_dict(self) -> dict[str, object]:
        """The per-signal slopes in signal units per 10 degrees, for the report."""
        return {
            "frames": int(self.n_frames),
            "ref_deg": [round(float(v), 2) for v in self.ref],
            "range_deg": [[round(float(a), 2), round(float(b), 2)]
                          for a, b in zip(self.lo, self.hi, strict=True)],
            "per_10_deg": {n: [round(float(v), 5) for v in self.slopes[:, k]]
                           for k, n in enumerate(SIGNAL_NAMES[: self.slopes.shape[1]])},
        }


def _near_middle(r: np.ndarray, k: float) -> np.ndarray:
    """Within ``k`` robust standard deviations (1.4826 MAD) of the median."""
    mid = np.median(r)
    spread = 1.4826 * np.median(np.abs(r - mid)) + 1e-12
    return np.abs(r - mid) < k * spread


def fit_pose_coupling(signals: np.ndarray, ypr: np.ndarray, valid: np.ndarray,
                      t: np.ndarray | None = None, *, ref: np.ndarray | None = None,
                      ridge: float = RIDGE,
                      min_frames: int = MIN_FRAMES, min_span_s: float = MIN_SPAN_S
                      ) -> PoseCoupling:
    """Fit each signal's pose coupling on the ``valid`` frames (see the module docstring).

    Args:
        signals: ``(T, S)`` geometric signals (``geometry.au_signals``).
        ypr: ``(T, 3)`` yaw, pitch, roll in degrees.
        valid: ``(T,) bool`` frames that may be used.
        t: ``(T,)`` seconds, for the minimum span; None skips that check.
        ref: the pose at which nothing is subtracted (where the neutral was taken);
            default: the median pose of the valid frames.

    Returns:
        The coupling; ``PoseCoupling.none`` when there is too little to fit.
    """
    sig = np.asarray(signals)
    pose = np.asarray(ypr, dtype=np.float64)
    n_sig = sig.shape[1]
    ok = (np.asarray(valid, dtype=bool) & np.isfinite(sig).all(axis=1)
          & np.isfinite(pose).all(axis=1))
    if ok.sum() < min_frames:
        return PoseCoupling.none(n_sig)
    if t is not None:
        tt = np.asarray(t, dtype=np.float64)[ok]
        if tt[-1] - tt[0] < min_span_s:
            return PoseCoupling.none(n_sig)
    ref = np.median(pose[ok], axis=0) if ref is None else np.asarray(ref, np.float64)
    lo, hi = np.percentile(pose[ok], [1.0, 99.0], axis=0)
    rows = np.flatnonzero(ok)
    if rows.size > MAX_FIT_FRAMES:  # a long recording: an evenly spaced sample of it
        rows = rows[np.linspace(0, rows.size - 1, MAX_FIT_FRAMES).astype(int)]
    sig = np.asarray(signals)[rows].astype(np.float64)
    x = np.ones((rows.size, 4))
    x[:, 1:] = (np.clip(pose[rows], lo, hi) - ref) / POSE_SCALE_DEG
    penalty = np.diag([0.0, 1.0, 1.0, 1.0]) * ridge
    slopes = np.zeros((3, n_sig))
    used = 0
    for k in range(n_sig):
        y = sig[:, k]
        sel = _near_middle(y, 3.0 * TRIM_MAD)  # start from the resting face
        if sel.sum() < min_frames // 2:
            sel = np.ones(rows.size, bool)
        for _ in range(ITERATIONS):
            a = x[sel]
            w = np.linalg.solve(a.T @ a + penalty * sel.sum(), a.T @ y[sel])
            nxt = _near_middle(y - x @ w, TRIM_MAD)
            if nxt.sum() < min_frames // 2:
                break
            sel = nxt
        slopes[:, k] = w[1:]
        used = max(used, int(sel.sum()))
    return PoseCoupling(ref, slopes, lo, hi, used)
