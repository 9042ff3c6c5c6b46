"""What the image of the face looks like, in a few numbers per frame: enough to tell when a
mesh was fitted to a face that cannot really be read (too dark, blurred, covered), never
the image itself.

The face is cut out around its mesh and scaled to ``CROP_WIDTH`` pixels across, so every
measure means the same on a near or far face; colours are CIE L*a*b* (OpenCV's 8-bit
scale: L 0-255, a and b centred on 128). Each measure is read at mesh points, so it follows
the face as it moves and turns.

| name | meaning |
|---|---|
| ``face_luma`` | median L over the face's mesh points (0 black, 255 white) |
| ``face_contrast`` | L's 90th minus 10th percentile over them |
| ``sharpness`` | the finest detail over the next coarser: variance of the Laplacian of the face crop's L over that of its half-size copy. Blur lowers it, noise raises it; it differs from face to face, so it is compared with the same face's own (``features.quality``) |
| ``eye_contrast_r``, ``_l`` | L's range over each eye's lids and iris, over ``face_luma``: an open eye shows a dark iris and bright sclera, skin (a closed lid, a hand) does not |
| ``lower_l``, ``lower_a``, ``lower_b`` | mean L*a*b* of the skin of the lower face (jaw, chin, below the mouth) |
| ``upper_l``, ``upper_a``, ``upper_b`` | the same for the forehead and upper cheeks |
| ``eye_open_r``, ``_l`` | what the mesh says of each eye: the lids' gap over the eye's width |
"""

from __future__ import annotations

import cv2
import numpy as np

from painvision.types import APPEARANCE_NAMES

__all__ = ["APPEARANCE_EVERY_S", "APPEARANCE_NAMES", "CROP_WIDTH", "LookSchedule",
           "measure_appearance"]

CROP_WIDTH = 96
#: How often the face's appearance is measured (0.24 ms a look at 480x360).
APPEARANCE_EVERY_S = 0.2

_FACE = np.arange(468)
_EYE_R = np.array([33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
                   468, 469, 470, 471, 472])
_EYE_L = np.array([263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388,
                   466, 473, 474, 475, 476, 477])
# skin only: no lips, nostrils, brows or eyes
_LIDS = ((np.array([161, 160, 159, 158, 157]), np.array([163, 144, 145, 153, 154]), 33, 133),
         (np.array([388, 387, 386, 385, 384]), np.array([390, 373, 374, 380, 381]), 263, 362))
_LOWER = np.array([152, 148, 176, 149, 150, 377, 400, 378, 379, 175, 199, 200, 18, 83, 313,
                   106, 335, 182, 406, 201, 421, 208, 428, 32, 262])
_UPPER = np.array([10, 338, 297, 109, 67, 151, 9, 108, 337, 69, 299, 117, 118, 119, 346, 347,
                   348, 50, 280])


def measure_appearance(rgb: np.ndarray, landmarks: np.ndarray | None,
                       bgr: bool = False) -> np.ndarray:
    """``APPEARANCE_NAMES`` of the face whose mesh is ``landmarks`` in ``rgb``.

    Args:
        rgb: ``(H, W, 3) uint8`` RGB frame (BGR with ``bgr``; or ``(H, W)`` grey).
        landmarks: ``(478, 3)`` or ``(468, 3)`` MediaPipe coordinates (x / width,
            y / height), or None.

    Returns:
        ``(len(APPEARANCE_NAMES),) float32``; NaN without a face (or one too small to see).
    """
    out = np.full(len(APPEARANCE_NAMES), np.nan, np.float32)
    if landmarks is None or not np.isfinite(landmarks[:468, :2]).all():
        return out
    h, w = rgb.shape[:2]
    xy = landmarks[:, :2] * np.array([w, h], np.float32)
    x0, y0 = np.floor(xy[:468].min(axis=0)).astype(int)
    x1, y1 = np.ceil(xy[:468].max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return out
    scale = CROP_WIDTH / (x1 - x0)
    size = (CROP_WIDTH, max(int(round((y1 - y0) * scale)), 1))
    crop = rgb[y0:y1, x0:x1]
    if crop.ndim == 2:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB)
    # linear, not area: a tenth of the time, and the measures below are robust to it
    small = cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR)
    lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB if bgr else cv2.COLOR_RGB2LAB)
    pts = np.rint((xy - np.array([x0, y0], np.float32)) * scale).astype(int)
    pts[:, 0] = np.clip(pts[:, 0], 0, size[0] - 1)
    pts[:, 1] = np.clip(pts[:, 1], 0, size[1] - 1)

    def at(idx: np.ndarray) -> np.ndarray:
        idx = idx[idx < len(pts)]
        return lab[pts[idx, 1], pts[idx, 0]].astype(np.float32)

    face_l = at(_FACE)[:, 0]
    n = face_l.size
    part = np.partition(face_l, (n // 10, n // 2, (9 * n) // 10))
    luma = float(part[n // 2])
    contrast = float(part[(9 * n) // 10] - part[n // 10])
    grey = lab[:, :, 0]
    fine = float(cv2.Laplacian(grey, cv2.CV_32F).var())
    coarse = float(cv2.Laplacian(cv2.pyrDown(grey), cv2.CV_32F).var())
    sharp = fine / (coarse + 1e-3)
    eyes = []
    for idx in (_EYE_R, _EYE_L):
        e = at(idx)[:, 0]
        eyes.append(float(e.max() - e.min()) / (luma + 1.0))
    lower, upper = at(_LOWER).mean(axis=0), at(_UPPER).mean(axis=0)
    opened = []
    for up, low, outer, inner in _LIDS:
        width = float(np.linalg.norm(xy[outer] - xy[inner]))
        gap = float(np.linalg.norm(xy[low] - xy[up], axis=1).mean())
        opened.append(gap / width if width > 0 else np.nan)
    out[:] = [luma, contrast, sharp, *eyes, *lower, *upper, *opened]
    return out


class LookSchedule:
    """When to measure the face's appearance (or do any other periodic look): every
    ``every_s`` seconds while it is in view, and at once when it comes back (``lost`` in
    between) or time goes back. ``slack``: an interval this much short still counts (frame
    times that add up to ``every_s`` in floating point)."""

    def __init__(self, every_s: float = APPEARANCE_EVERY_S, slack: float = 0.0) -> None:
        self.every_s = every_s
        self.slack = slack
        self._t = -np.inf

    def lost(self) -> None:
        """The face is gone: look as soon as it is back."""
        self._t = -np.inf

    def due(self, t: float) -> bool:
        """Whether to look at ``t`` (and if so, counted as looked)."""
        if t - self._t >= self.every_s - self.slack or t < self._t:
            self._t = t
            return True
        return False
