"""Shared result types. numpy only.

Symbols used in shapes: ``T`` frames, ``478`` MediaPipe face-mesh points (468 + 10 iris).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from painvision.errors import InputError

__all__ = [
    "APPEARANCE_NAMES",
    "AU_NAMES",
    "N_LANDMARKS",
    "AUScores",
    "AUSeries",
    "LandmarkTrack",
    "compute_pspi",
]

#: The action units PSPI is built from, in the order used everywhere (CSV columns too).
AU_NAMES: tuple[str, ...] = ("au4", "au6", "au7", "au9", "au10", "au43")
N_LANDMARKS = 478


def compute_pspi(au4, au6, au7, au9, au10, au43):
    """PSPI = AU4 + max(AU6, AU7) + max(AU9, AU10) + AU43 (Prkachin & Solomon, 2008).

    Works on floats or on equally shaped arrays; NaN propagates (no face -> no score).
    AU intensities are on the FACS 0-5 scale, AU43 in [0, 1]; the result is in [0, 16].
    """
    return au4 + np.maximum(au6, au7) + np.maximum(au9, au10) + au43


@dataclass(frozen=True, slots=True)
class AUScores:
    """One frame's PSPI action-unit intensities (FACS 0-5; ``au43`` in [0, 1])."""

    au4: float
    au6: float
    au7: float
    au9: float
    au10: float
    au43: float

    def __post_init__(self) -> None:
        for name in AU_NAMES:
            v = getattr(self, name)
            hi = 1.0 if name == "au43" else 5.0
            if not (np.isnan(v) or 0.0 <= v <= hi):
                raise InputError(f"{name} must be in [0, {hi:g}] or NaN, got {v!r}")

    @property
    def pspi(self) -> float:
        """PSPI in [0, 16]."""
        return float(compute_pspi(self.au4, self.au6, self.au7, self.au9, self.au10, self.au43))

    def to_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in AU_NAMES} | {"pspi": self.pspi}


@dataclass(frozen=True, slots=True)
class AUSeries:
    """Per-frame AU intensities over a sequence: each field ``(T,) float32``, NaN where unscored."""

    au4: np.ndarray
    au6: np.ndarray
    au7: np.ndarray
    au9: np.ndarray
    au10: np.ndarray
    au43: np.ndarray

    def __post_init__(self) -> None:
        shapes = {name: np.shape(getattr(self, name)) for name in AU_NAMES}
        first = shapes["au4"]
        if len(first) != 1 or any(s != first for s in shapes.values()):
            raise InputError(f"AUSeries fields must all be (T,), got {shapes}")

    def __len__(self) -> int:
        return int(self.au4.shape[0])

    @property
    def pspi(self) -> np.ndarray:
        """``(T,) float32`` PSPI in [0, 16], NaN where unscored."""
        return compute_pspi(self.au4, self.au6, self.au7, self.au9, self.au10, self.au43).astype(
            np.float32
        )

    def as_array(self) -> np.ndarray:
        """``(T, 6) float32`` in ``AU_NAMES`` order."""
        return np.stack([getattr(self, n) for n in AU_NAMES], axis=1).astype(np.float32)

    @classmethod
    def from_array(cls, values: np.ndarray) -> AUSeries:
        """Build from ``(T, 6)`` values in ``AU_NAMES`` order."""
        values = np.asarray(values, dtype=np.float32)
        if values.ndim != 2 or values.shape[1] != len(AU_NAMES):
            raise InputError(f"expected AU values of shape (T, 6), got {values.shape}")
        return cls(*(values[:, i].copy() for i in range(len(AU_NAMES))))

    def frame(self, i: int) -> AUScores:
        return AUScores(*(float(getattr(self, n)[i]) for n in AU_NAMES))


#: What ``LandmarkTrack.appearance`` holds per frame (``landmarks.appearance``).
APPEARANCE_NAMES: tuple[str, ...] = (
    "face_luma", "face_contrast", "sharpness", "eye_contrast_r", "eye_contrast_l",
    "lower_l", "lower_a", "lower_b", "upper_l", "upper_a", "upper_b", "eye_open_r",
    "eye_open_l",
)


@dataclass(frozen=True, slots=True)
class LandmarkTrack:
    """One subject's face mesh over a video, as the front end saw it.

    Attributes:
        t: ``(T,) float64`` presentation time of each frame in seconds (container clock).
        frame_index: ``(T,) int64`` index of each frame in decode order.
        landmarks: ``(T, 478, 3) float32`` MediaPipe coordinates: x / width, y / height,
            z on the x scale; NaN where no face was found. ``(T, 0, 3)`` where the meshes
            were not kept (``analyze_video``'s default).
        detected: ``(T,) bool`` a face of the subject was found in the frame.
        confidence: ``(T,) float32`` in [0, 1], 0 where no face (see ``landmarks.facemesh``).
        n_faces: ``(T,) int16`` faces in view: those meshed in the frame, or the face
            detector's count at its last look, at most a second before
            (``landmarks.subject``).
        width, height: frame size in pixels.
        appearance: ``(T, len(landmarks.appearance.APPEARANCE_NAMES)) float32`` what the
            image of the face looked like (brightness, contrast, sharpness, eyes and skin
            colour; NaN without a face), or None where it was not measured.
    """

    t: np.ndarray
    frame_index: np.ndarray
    landmarks: np.ndarray
    detected: np.ndarray
    confidence: np.ndarray
    n_faces: np.ndarray
    width: int
    height: int
    appearance: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = self.t.shape[0]
        if self.landmarks.shape not in ((n, N_LANDMARKS, 3), (n, 0, 3)):
            raise InputError(
                f"landmarks must be (T, {N_LANDMARKS}, 3) with T={n}, got {self.landmarks.shape}"
            )
        for name in ("frame_index", "detected", "confidence", "n_faces"):
            if getattr(self, name).shape != (n,):
                raise InputError(f"{name} must be ({n},), got {getattr(self, name).shape}")
        if self.appearance is not None and (self.appearance.ndim != 2
                                            or self.appearance.shape[0] != n):
            raise InputError(f"appearance must be ({n}, K), got {self.appearance.shape}")

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def pixels(self) -> np.ndarray:
        """``(T, 478, 3) float32`` in pixels (x, y) with z on the x scale: an isotropic frame."""
        scale = np.array([self.width, self.height, self.width], dtype=np.float32)
        return self.landmarks * scale
