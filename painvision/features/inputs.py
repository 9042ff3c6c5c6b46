"""Per-frame inputs of the scorers: pose-normalised meshes, AU signals, the subject's
neutral, and the feature vectors of the learned model. numpy only.

The same function prepares a video's landmark track at analysis time and a dataset's
landmark clip at training time, so the model sees the same numbers in both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from painvision.features.baseline import Baseline, estimate_baseline
from painvision.features.geometry import SIGNAL_NAMES, au_signals
from painvision.landmarks import indices as ix
from painvision.landmarks.pose import PoseAlignment, align_to_template
from painvision.types import LandmarkTrack

__all__ = ["MODEL_POINTS", "N_FEATURES", "FrameInputs", "Neutral", "estimate_neutral",
           "model_features", "prepare_inputs"]

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
N_FEATURES = len(SIGNAL_NAMES) + 2 * len(MODEL_POINTS) + 3 + 2
MODEL_RATE_HZ = 25.0


@dataclass(frozen=True)
class Neutral:
    """The subject's neutral: signal values and the aligned mesh ``(478, 3)``."""

    baseline: Baseline
    mesh: np.ndarray


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
    signals are closest to the baseline."""
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
    mesh = (np.median(aligned[sel], axis=0) if sel.any()
            else np.full((478, 3), np.nan)).astype(np.float32)
    return Neutral(base, mesh)


def model_features(aligned: np.ndarray, signals: np.ndarray, ypr: np.ndarray,
                   valid: np.ndarray, t: np.ndarray, neutral: Neutral) -> np.ndarray:
    """``(T, N_FEATURES) float32`` model inputs; rows of frames that are not valid are 0
    apart from the frame interval (the "face present" column tells the model)."""
    n = t.shape[0]
    drop = (neutral.baseline.values[None, :] - signals) * 10.0
    coords = (aligned[:, MODEL_POINTS, :2] - neutral.mesh[None, MODEL_POINTS, :2]) * 10.0
    pose = ypr / 30.0
    dt = np.diff(t, prepend=t[0] - 1.0 / MODEL_RATE_HZ) * MODEL_RATE_HZ if n else np.zeros(0)
    feats = np.concatenate(
        [drop, coords.reshape(n, -1), pose, valid[:, None].astype(np.float32)], axis=1)
    feats[~valid] = 0.0
    feats = np.nan_to_num(feats, nan=0.0, posinf=0.0, neginf=0.0)
    return np.concatenate([feats, np.clip(dt, 0.0, 10.0)[:, None]], axis=1).astype(np.float32)


def prepare_inputs(track: LandmarkTrack, neutral: tuple[float, float] | None = None,
                   pose: PoseAlignment | None = None) -> FrameInputs:
    """Align, measure, find the neutral, and build the model features of a track."""
    pose = pose if pose is not None else align_to_template(track.pixels())
    signals = au_signals(pose.aligned)
    valid = pose.pose_ok & np.isfinite(signals).all(axis=1)
    neu = estimate_neutral(pose.aligned, signals, track.t, valid, neutral)
    if not np.isfinite(neu.baseline.values).all():
        valid = np.zeros_like(valid)
    feats = model_features(pose.aligned, signals, pose.yaw_pitch_roll, valid, track.t, neu)
    return FrameInputs(track.t, pose, signals, valid, neu, feats)
