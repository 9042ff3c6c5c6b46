"""Per-frame inputs of the scorers: pose-normalised meshes, AU signals, the subject's
neutral, and the feature vectors of the learned model. numpy only.

The same function prepares a video's landmark track at analysis time and a dataset's
landmark clip at training time, so the model sees the same numbers in both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from painvision.features.baseline import Baseline, estimate_baseline
from painvision.features.geometry import N_CORE_SIGNALS, au_signals
from painvision.features.posefit import PoseCoupling, fit_pose_coupling
from painvision.landmarks import indices as ix
from painvision.landmarks.pose import PoseAlignment, align_to_template
from painvision.types import LandmarkTrack

__all__ = ["MODEL_POINTS", "N_FEATURES", "FrameInputs", "InputsAccumulator", "Neutral",
           "estimate_neutral", "model_features", "prepare_inputs"]

#: Mesh points whose movement (from the subject's neutral) the model sees: brows, lids,
#: infraorbital cheeks, nasal wings, nose tip and subnasale, lips, mouth corners, chin.
MODEL_POINTS: tuple[int, ...] = (
    ix.RIGHT_BROW_UPPER + ix.RIGHT_BROW_LOWER + ix.LEFT_BROW_UPPER + ix.LEFT_BROW_LOWER
    + ix.RIGHT_UPPER_LID + ix.RIGHT_LOWER_LID + ix.LEFT_UPPER_LID + ix.LEFT_LOWER_LID
    + ix.RIGHT_CHEEK[:6] + ix.LEFT_CHEEK[:6]
    + (98, 64, 48, 102, 327, 294, 278, 331, ix.NOSE_TIP, ix.SUBNASALE)
    + ix.UPPER_LIP_OUTER + ix.LOWER_LIP_OUTER + (ix.MOUTH_RIGHT, ix.MOUTH_LEFT, ix.CHIN)
)
#: signal drops, point movements (x, y), yaw/pitch/roll, face present, frame interval.
N_FEATURES = N_CORE_SIGNALS + 2 * len(MODEL_POINTS) + 3 + 2
MODEL_RATE_HZ = 25.0


@dataclass(frozen=True)
class Neutral:
    """The subject's neutral: signal values, the aligned mesh ``(478, 3)``, and how the
    signals' neutral values move with the head's pose (``features.posefit``; the
    signals scored against this neutral have had that part removed already)."""

    baseline: Baseline
    mesh: np.ndarray
    coupling: PoseCoupling | None = None


@dataclass(frozen=True)
class FrameInputs:
    """Everything the scorers need for a sequence of ``T`` frames."""

    t: np.ndarray
    pose: PoseAlignment
    signals: np.ndarray
    valid: np.ndarray
    neutral: Neutral
    features: np.ndarray


def estimate_neutral(aligned: np.ndarray, signals: np.ndarray, t: np.ndarray,
                     valid: np.ndarray, neutral: tuple[float, float] | None = None) -> Neutral:
    """Baseline signals (``features.baseline``) and the neutral mesh: the per-point median
    of the frames in the neutral stretch, or (automatic) of the 30 % of frames whose
    signals are closest to the baseline.

    ``aligned`` is ``(T, 478, 3)``, or ``(T, len(MODEL_POINTS), 3)`` for a compact track
    (``InputsAccumulator``): then only the model's points of the neutral mesh are set,
    the others are NaN."""
    base = estimate_baseline(signals, t, valid, neutral)
    ok = valid & np.isfinite(signals).all(axis=1)
    if neutral is not None:
        sel = ok & (t >= neutral[0]) & (t <= neutral[1])
    elif ok.sum() >= 3 and np.isfinite(base.values).all():
        dev = np.abs(signals - base.values)
        mad = np.median(np.abs(signals[ok] - np.median(signals[ok], axis=0)), axis=0) + 1e-6
        score = (dev / mad).max(axis=1)
        cut = np.quantile(score[ok], 0.3)
        sel = ok & (score <= cut)
    else:
        sel = ok
    pts = (np.median(aligned[sel], axis=0) if sel.any()
           else np.full(aligned.shape[1:], np.nan)).astype(np.float32)
    if pts.shape[0] == 478:
        return Neutral(base, pts)
    mesh = np.full((478, 3), np.nan, np.float32)
    mesh[list(MODEL_POINTS)] = pts
    return Neutral(base, mesh)


def model_features(aligned: np.ndarray, signals: np.ndarray, ypr: np.ndarray,
                   valid: np.ndarray, t: np.ndarray, neutral: Neutral) -> np.ndarray:
    """``(T, N_FEATURES) float32`` model inputs; rows of frames that are not valid are 0
    apart from the frame interval (the "face present" column tells the model).

    ``aligned`` is ``(T, 478, 3)`` or just the model's points ``(T, len(MODEL_POINTS), 3)``.
    """
    n = t.shape[0]
    k = N_CORE_SIGNALS
    drop = (neutral.baseline.values[None, :k] - signals[:, :k]) * 10.0
    reduced = aligned.shape[1] == len(MODEL_POINTS)
    pts = aligned[:, :, :2] if reduced else aligned[:, MODEL_POINTS, :2]
    coords = (pts - neutral.mesh[None, MODEL_POINTS, :2]) * 10.0
    pose = ypr / 30.0
    dt = np.diff(t, prepend=t[0] - 1.0 / MODEL_RATE_HZ) * MODEL_RATE_HZ if n else np.zeros(0)
    feats = np.concatenate(
        [drop, coords.reshape(n, -1), pose, valid[:, None].astype(np.float32)], axis=1)
    feats[~valid] = 0.0
    feats = np.nan_to_num(feats, nan=0.0, posinf=0.0, neginf=0.0)
    return np.concatenate([feats, np.clip(dt, 0.0, 10.0)[:, None]], axis=1).astype(np.float32)


def prepare_inputs(track: LandmarkTrack, neutral: tuple[float, float] | None = None,
                   pose: PoseAlignment | None = None,
                   readable: np.ndarray | None = None, pose_coupling: bool = True
                   ) -> FrameInputs:
    """Align, measure, find the neutral, and build the model features of a track.
    ``readable``: ``(T,) bool``, False for frames not to score (``features.quality``).
    ``pose_coupling``: read the signals against the neutral at the head's pose
    (``features.posefit``)."""
    pose = pose if pose is not None else align_to_template(track.pixels())
    return _frame_inputs(track.t, pose, au_signals(pose.aligned), neutral,
                         readable=readable, pose_coupling=pose_coupling)


def _frame_inputs(t: np.ndarray, pose: PoseAlignment, signals: np.ndarray,
                  neutral: tuple[float, float] | None, features: bool = True,
                  readable: np.ndarray | None = None, pose_coupling: bool = True
                  ) -> FrameInputs:
    """Which frames can be scored, the neutral, and (with ``features``) the model inputs.
    ``pose.aligned`` is the whole mesh, the model's points, or (without features) empty.
    Frames that are not ``readable`` are neither scored nor part of the neutral."""
    valid = pose.pose_ok & np.isfinite(signals).all(axis=1)
    if readable is not None:
        valid &= np.asarray(readable, bool)
    # each signal read against the neutral at the head's pose (features.posefit), which is
    # where the neutral was taken: the neutral stretch's median pose when there is one
    ref = None
    if neutral is not None:
        in_stretch = valid & (t >= neutral[0]) & (t <= neutral[1])
        if in_stretch.any():
            ref = np.median(pose.yaw_pitch_roll[in_stretch], axis=0)
    coupling = (fit_pose_coupling(signals, pose.yaw_pitch_roll, valid, t, ref=ref)
                if pose_coupling else PoseCoupling.none(signals.shape[1]))
    signals = coupling.correct(signals, pose.yaw_pitch_roll)
    if features:
        neu = estimate_neutral(pose.aligned, signals, t, valid, neutral)
    else:
        neu = Neutral(estimate_baseline(signals, t, valid, neutral),
                      np.full((478, 3), np.nan, np.float32))
    neu = replace(neu, coupling=coupling)
    if not np.isfinite(neu.baseline.values).all():
        valid = np.zeros_like(valid)
    feats = (model_features(pose.aligned, signals, pose.yaw_pitch_roll, valid, t, neu)
             if features else np.zeros((t.shape[0], 0), np.float32))
    return FrameInputs(t, pose, signals, valid, neu, feats)


class InputsAccumulator:
    """Builds ``FrameInputs`` chunk by chunk, without keeping meshes.

    Each chunk of a track is aligned and measured at once; per frame only the AU signals,
    head pose, fit residual and (with ``model_points``) the model's 93 aligned points are
    kept: about 60 bytes a frame, or 1.2 kB with the points, instead of the 11 kB of the
    mesh and its aligned copy. The result's ``pose.aligned`` is then the model's points
    (or empty), and the neutral mesh holds only those points.
    """

    def __init__(self, model_points: bool = True) -> None:
        self.model_points = model_points
        self._parts: dict[str, list[np.ndarray]] = {k: [] for k in (
            "t", "signals", "ypr", "scale", "residual", "pose_ok", "points")}

    def add(self, track: LandmarkTrack) -> PoseAlignment:
        """Align and measure one chunk; returns its alignment (with the full meshes, for
        the caller's own per-chunk use; not kept here)."""
        pose = align_to_template(track.pixels())
        p = self._parts
        p["t"].append(track.t)
        p["signals"].append(au_signals(pose.aligned))
        p["ypr"].append(pose.yaw_pitch_roll)
        p["scale"].append(pose.scale)
        p["residual"].append(pose.residual)
        p["pose_ok"].append(pose.pose_ok)
        idx = list(MODEL_POINTS) if self.model_points else []
        p["points"].append(pose.aligned[:, idx].copy())
        return pose

    @property
    def pose_ok(self) -> np.ndarray:
        """``(T,) bool`` within the pose limits, over everything added so far."""
        parts = self._parts["pose_ok"]
        return np.concatenate(parts) if parts else np.zeros(0, bool)

    def finish(self, neutral: tuple[float, float] | None = None,
               readable: np.ndarray | None = None) -> FrameInputs:
        """The neutral and the model features over everything added (``readable``: see
        ``prepare_inputs``)."""
        if not self._parts["t"]:
            raise ValueError("InputsAccumulator.finish() before any add()")
        cat = {k: np.concatenate(v) for k, v in self._parts.items()}
        self._parts = {k: [] for k in self._parts}
        pose = PoseAlignment(cat["points"], cat["ypr"], cat["scale"], cat["residual"],
                             cat["pose_ok"])
        return _frame_inputs(cat["t"], pose, cat["signals"], neutral, self.model_points,
                             readable=readable)
