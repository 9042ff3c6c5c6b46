"""The result of analysing one video, and its CSV / JSON exports."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from painvision._version import __version__
from painvision.features.baseline import Baseline
from painvision.features.geometry import SIGNAL_NAMES
from painvision.features.quality import FLAGS, Quality, assess_quality
from painvision.fileio import atomic_write_text, json_safe
from painvision.io.video import VideoInfo
from painvision.landmarks.pose import PoseAlignment
from painvision.scoring import EXPRESSION_OUTPUTS
from painvision.types import AU_NAMES, AUSeries, LandmarkTrack

__all__ = ["CSV_COLUMNS", "Analysis"]

#: Columns of the per-frame CSV, in order.
CSV_COLUMNS: tuple[str, ...] = (
    "frame", "time_s", "face_detected", "pose_ok", "pspi", *AU_NAMES, "pain_prob",
    *EXPRESSION_OUTPUTS, "confidence", "yaw_deg", "pitch_deg", "roll_deg", "n_faces",
    "quality", "quality_flags",
)


def _fmt(v: float, digits: int = 3) -> str:
    return "" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"


def _stat(x: np.ndarray, fn) -> float | None:
    x = x[np.isfinite(x)]
    return round(float(fn(x)), 4) if x.size else None


@dataclass(frozen=True)
class Analysis:
    """Per-frame scores of one video, with everything needed to reproduce them.

    ``pspi``, the AUs and ``pain_prob`` are NaN where no face was found, the head
    was turned beyond the pose limits (``pose_ok`` False), or the face could not be read
    (too dark, blurred or covered): ``quality`` holds each frame's quality in [0, 1] and
    its flags (``features.quality``), which the CSV writes as ``quality`` and
    ``quality_flags`` (e.g. ``occluded`` or ``low_light|blurred``; empty when clean).
    ``pain_prob`` (the
    probability that the frame shows pain rather than one of its look-alikes) is None
    with the analytic scorer, which has none. ``expressions`` holds the movements outside
    PSPI (``au1_2`` brow raise, ``au12``, ``au15``, ``au20``, ``au25``, ``au26``, ``au45``
    blinks), each ``(T,)``; empty with the learned model.
    """

    info: VideoInfo
    track: LandmarkTrack
    pose: PoseAlignment
    signals: np.ndarray
    aus: AUSeries
    pain_prob: np.ndarray | None
    baseline: Baseline
    scorer: str
    calibration: dict
    device: str
    stride: int
    decoded_frames: int
    face_mesh: dict
    expressions: dict[str, np.ndarray] = field(default_factory=dict)
    quality: Quality | None = None
    #: how the subject's signals moved with head pose and were read at it
    #: (``features.posefit.PoseCoupling.to_dict``); None when not computed
    pose_coupling: dict | None = None

    @property
    def t(self) -> np.ndarray:
        """``(T,) float64`` seconds, from the container's timestamps."""
        return self.track.t

    @property
    def pspi(self) -> np.ndarray:
        """``(T,) float32`` PSPI, NaN where unscored."""
        return self.aus.pspi

    @property
    def frames(self):
        """The per-frame table as a pandas DataFrame (columns ``CSV_COLUMNS``).

        Raises:
            MissingExtraError: pandas is not installed (the ``[bench]`` extra).
        """
        from painvision.extras import require

        require("bench", "Analysis.frames (a pandas DataFrame)", needs=("pandas",))
        import pandas as pd

        none = np.full(len(self.track), np.nan, np.float32)
        data = {
            "frame": self.track.frame_index,
            "time_s": self.track.t,
            "face_detected": self.track.detected.astype(np.int8),
            "pose_ok": self.pose.pose_ok.astype(np.int8),
            "pspi": self.pspi,
            **{n: getattr(self.aus, n) for n in AU_NAMES},
            "pain_prob": self.pain_prob if self.pain_prob is not None else none,
            **{n: self.expressions.get(n, none) for n in EXPRESSION_OUTPUTS},
            "confidence": self.track.confidence,
            "yaw_deg": self.pose.yaw_pitch_roll[:, 0],
            "pitch_deg": self.pose.yaw_pitch_roll[:, 1],
            "roll_deg": self.pose.yaw_pitch_roll[:, 2],
            "n_faces": self.track.n_faces,
            "quality": self._quality.score,
            "quality_flags": self._quality.reason_text(),
        }
        return pd.DataFrame(data, columns=list(CSV_COLUMNS))

    @property
    def _quality(self) -> Quality:
        """``quality``, or where it was not assessed, the face and pose flags alone."""
        if self.quality is not None:
            return self.quality
        return assess_quality(None, self.track.detected, self.pose.pose_ok)

    @property
    def summary(self) -> dict[str, object]:
        """Video metadata, face coverage, PSPI statistics, calibration and model."""
        n = len(self.track)
        pspi = self.pspi.astype(np.float64)
        t = self.track.t
        if self.info.fps > 0:
            duration = self.decoded_frames / self.info.fps
        else:  # no nominal rate: span of the timestamps plus one frame step
            step = float(np.median(np.diff(t))) if n > 1 else 0.0
            duration = float(t[-1] - t[0] + step) if n else 0.0
        return {
            "painvision_version": __version__,
            "video": {
                "path": self.info.path,
                "frames": self.decoded_frames,
                "frames_analyzed": n,
                "stride": self.stride,
                "fps": round(self.info.fps, 4),
                "duration_s": round(duration, 4),
                "width": self.info.width,
                "height": self.info.height,
                "codec": self.info.codec,
            },
            "face": {
                "share_detected": round(float(self.track.detected.mean()), 4) if n else 0.0,
                "share_scored": round(float(np.isfinite(pspi).mean()), 4) if n else 0.0,
                "share_pose_flagged": round(
                    float((self.track.detected & ~self.pose.pose_ok).mean()), 4) if n else 0.0,
                "frames_with_several_faces": int((self.track.n_faces > 1).sum()),
                # of the frames with a face: why some were not scored
                "share_flagged": self._quality.shares(self.track.detected)
                if self.track.detected.any() else dict.fromkeys(FLAGS, 0.0),
            },
            "pspi": {
                "mean": _stat(pspi, np.mean),
                "p95": _stat(pspi, lambda x: np.percentile(x, 95)),
                "max": _stat(pspi, np.max),
                "share_ge_1": _stat(pspi, lambda x: np.mean(x >= 1)),
                "share_ge_3": _stat(pspi, lambda x: np.mean(x >= 3)),
            },
            "aus_mean": {a: _stat(getattr(self.aus, a).astype(np.float64), np.mean)
                         for a in AU_NAMES},
            "expressions_mean": {a: _stat(v.astype(np.float64), np.mean)
                                 for a, v in self.expressions.items()},
            "pain_prob": None if self.pain_prob is None else {
                "mean": _stat(self.pain_prob.astype(np.float64), np.mean),
                "max": _stat(self.pain_prob.astype(np.float64), np.max),
                "share_ge_0.5": _stat(self.pain_prob.astype(np.float64),
                                      lambda x: np.mean(x >= 0.5)),
            },
            "calibration": {
                "baseline": self.baseline.to_dict(),
                "pose_coupling": self.pose_coupling,
                "scorer_gains": self.calibration,
            },
            "model": {"scorer": self.scorer, "device": self.device},
            "face_mesh": self.face_mesh,
        }

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """One row per analysed frame; empty cells where there is no score."""
        rows = [",".join(CSV_COLUMNS)]
        ypr = self.pose.yaw_pitch_roll
        pspi = self.pspi
        aus = self.aus.as_array()
        none = np.full(len(self.track), np.nan, np.float32)
        prob = self.pain_prob if self.pain_prob is not None else none
        expr = np.stack([self.expressions.get(n, none) for n in EXPRESSION_OUTPUTS], axis=1)
        quality = self._quality
        q_score, q_flags = quality.score, quality.reason_text()
        for i in range(len(self.track)):
            rows.append(",".join([
                str(int(self.track.frame_index[i])),
                f"{self.track.t[i]:.4f}",
                str(int(self.track.detected[i])),
                str(int(self.pose.pose_ok[i])),
                _fmt(float(pspi[i])),
                *(_fmt(float(v)) for v in aus[i]),
                _fmt(float(prob[i])),
                *(_fmt(float(v)) for v in expr[i]),
                _fmt(float(self.track.confidence[i])) if self.track.detected[i] else "",
                *(_fmt(float(v), 2) for v in ypr[i]),
                str(int(self.track.n_faces[i])),
                _fmt(float(q_score[i]), 2),
                q_flags[i],
            ]))
        return atomic_write_text(path, "\n".join(rows) + "\n")

    def to_dict(self) -> dict[str, object]:
        return self.summary

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        return atomic_write_text(path, json.dumps(json_safe(self.summary), indent=2,
                                                  allow_nan=False) + "\n")

    def signal_table(self) -> dict[str, np.ndarray]:
        """The geometric signals by name (for inspection and calibration), with the part
        that follows the head's pose removed (``features.posefit``)."""
        return {n: self.signals[:, k] for k, n in enumerate(SIGNAL_NAMES)}
