"""How unevenly a face-mesh front end follows the face's movements.

MediaPipe's mesh reports only part of what the skin does, and how much differs by region
and by face: on the two bundled photos the brow signal's response to AU4 and the lip
signal's response to AU10 differ by more than 3x, in opposite directions
(docs/synthetic-data.md, "Front-end response by region"), and glasses rims in front of
the brows take the brow movement away almost entirely. A model trained on few faces must
not lean on the size of any one region's response. ``region_gain`` draws such a response
map; the landmark generator (``synth.meshgen``) spoils its meshes with one per clip, and
training (``classifier.train``) applies one to augmented windows of any dataset.
"""

from __future__ import annotations

import numpy as np

from painvision.landmarks import indices as ix

__all__ = ["region_gain", "scale_movement"]

_BROWS = (*ix.RIGHT_BROW_UPPER, *ix.RIGHT_BROW_LOWER, *ix.LEFT_BROW_UPPER,
          *ix.LEFT_BROW_LOWER)
_UPPER_LIDS = (*ix.RIGHT_UPPER_LID, *ix.LEFT_UPPER_LID)


def region_gain(neutral: np.ndarray, rng: np.random.Generator, spread: float,
                occlusion_share: float) -> np.ndarray:
    """``(478,)`` multipliers of the expression movement each point's report keeps.

    Args:
        neutral: ``(478, 3)`` the face's neutral mesh in the template frame (IOD units).
        spread: standard deviation of a smooth random log-gain over the face (six
            Gaussian bumps of sigma 0.35 IOD at random mesh points).
        occlusion_share: probability that a band from just above the brows down to the
            upper lids, across both eyes, keeps only 0-30 % of the movement (glasses
            rims, a cap's brim or a dressing in front of the brows: the front end follows
            the rigid edge, not the brow).

    All ones when both are 0, and then no random numbers are drawn.
    """
    pts = np.asarray(neutral, dtype=np.float64)[:, :2]
    log_g = np.zeros(pts.shape[0])
    if spread > 0:
        centres = pts[rng.choice(468, size=6, replace=False)]
        d2 = ((pts[:, None] - centres[None]) ** 2).sum(axis=2)
        log_g += np.exp(-d2 / (2 * 0.35**2)) @ rng.normal(0.0, spread, size=6)
    gain = np.exp(log_g)
    if occlusion_share > 0 and rng.random() < occlusion_share:
        # A horizontal band from just above the brows down to the upper lids, across
        # both eyes, fading over 0.05 IOD (the lower lids, 0.1 below, keep ~90 %).
        y = pts[:, 1]
        top = pts[list(_BROWS), 1].min() - 0.05
        bottom = pts[list(_UPPER_LIDS), 1].mean()
        outside = np.maximum(np.maximum(top - y, y - bottom), 0.0)
        band = np.exp(-(outside**2) / (2 * 0.05**2))
        band *= np.clip(2.0 - np.abs(pts[:, 0]) / np.abs(pts[list(_BROWS), 0]).max(), 0.0, 1.0)
        gain *= 1.0 - (1.0 - rng.uniform(0.0, 0.3)) * band
    return gain


def scale_movement(aligned: np.ndarray, neutral: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Aligned meshes ``(T, 478, 3)`` with each point's movement from ``neutral`` scaled
    by ``gain (478,)``."""
    g = np.asarray(gain, dtype=np.float32).reshape(1, -1, 1)
    return (neutral[None] + (aligned - neutral[None]) * g).astype(np.float32)
