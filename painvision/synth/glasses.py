"""Spectacles drawn on a rendered face: rigid with the head, not with the expression.

Many of the patients this toolkit is for wear glasses, and the rims sit where the brows
are: MediaPipe then follows the rim more than the brow (docs/synthetic-data.md, "Front-end
response by region"). The bundled training photo shows no glasses, so rendered training
identities may wear drawn ones. The frame (two lens rims, a bridge, the start of the
temples) and a light lens tint are drawn once, in the photo's own pixels, around the
identity's *neutral* eyes; each frame's warped face is composited under that fixed layer
before the camera moves the whole picture. Brows lowering or raising therefore slide
behind the rims, as on a real face. Measured through MediaPipe, these thin drawn rims
weaken the brow signal's response to AU4 by about a third, far less than the held-out
photo's real glasses do (docs/synthetic-data.md); the landmark-level frozen-brow band
(``features.response``) is what stands in for that.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from painvision.landmarks import indices as ix

__all__ = ["GlassesLayer", "sample_glasses_style"]

# Frame colours (BGR): black, dark brown, tortoiseshell, gold, steel.
_COLOURS = ((25, 25, 25), (30, 45, 70), (40, 80, 120), (60, 160, 200), (150, 150, 150))
_RIGHT_FACE_EDGE, _LEFT_FACE_EDGE = 234, 454  # the face outline at eye level


def sample_glasses_style(rng: np.random.Generator) -> dict[str, float]:
    """A random pair of glasses, sizes in inter-ocular distances (IOD)."""
    return {
        "half_width": round(float(rng.uniform(0.34, 0.42)), 3),
        "half_height": round(float(rng.uniform(0.24, 0.32)), 3),
        "lift": round(float(rng.uniform(0.02, 0.10)), 3),  # lens centre above the eye centre
        "rim": round(float(rng.uniform(0.025, 0.06)), 3),
        "tint": round(float(rng.uniform(0.0, 0.2)), 3),
        "colour": float(rng.integers(0, len(_COLOURS))),
    }


@dataclass(frozen=True)
class GlassesLayer:
    """A colour image and an alpha map to composite over the photo, kept only for the
    box ``(rows, cols)`` of the photo's pixels that the glasses cover."""

    colour: np.ndarray
    alpha: np.ndarray
    box: tuple[slice, slice]

    @classmethod
    def draw(cls, points_px: np.ndarray, shape: tuple[int, int], style: dict[str, float]
             ) -> GlassesLayer:
        """Glasses around the eyes of a neutral mesh.

        Args:
            points_px: ``(478, 2)`` neutral mesh in the photo's pixels.
            shape: the photo's ``(height, width)``.
            style: from ``sample_glasses_style``.
        """
        p = np.asarray(points_px, dtype=np.float64)
        right = p[[ix.RIGHT_EYE_OUTER, ix.RIGHT_EYE_INNER]].mean(axis=0)
        left = p[[ix.LEFT_EYE_OUTER, ix.LEFT_EYE_INNER]].mean(axis=0)
        iod = float(np.linalg.norm(left - right))
        across = (left - right) / iod
        up = np.array([across[1], -across[0]])  # image y grows downwards
        angle = float(np.degrees(np.arctan2(across[1], across[0])))
        axes = (int(round(style["half_width"] * iod)), int(round(style["half_height"] * iod)))
        rim = max(1, int(round(style["rim"] * iod)))
        colour = np.array(_COLOURS[int(style["colour"]) % len(_COLOURS)], dtype=np.float32)
        h, w = shape
        alpha = np.zeros((h, w), np.float32)
        centres = [c + style["lift"] * iod * up for c in (right, left)]
        for c in centres:  # the lenses' tint
            cv2.ellipse(alpha, _pt(c), axes, angle, 0, 360, float(style["tint"]), -1, cv2.LINE_AA)
        rims = np.zeros((h, w), np.float32)
        for c in centres:
            cv2.ellipse(rims, _pt(c), axes, angle, 0, 360, 1.0, rim, cv2.LINE_AA)
        # The bridge between the inner rims, a little above the lens centres.
        inner_r = centres[0] + across * axes[0] + up * 0.25 * axes[1]
        inner_l = centres[1] - across * axes[0] + up * 0.25 * axes[1]
        cv2.line(rims, _pt(inner_r), _pt(inner_l), 1.0, rim, cv2.LINE_AA)
        # The temples, from the outer rims towards the face's edge.
        for c, sign, edge in ((centres[0], -1.0, _RIGHT_FACE_EDGE),
                              (centres[1], 1.0, _LEFT_FACE_EDGE)):
            start = c + sign * across * axes[0] + up * 0.3 * axes[1]
            end = start + 0.9 * (p[edge] - start)
            cv2.line(rims, _pt(start), _pt(end), 1.0, rim, cv2.LINE_AA)
        alpha = np.maximum(alpha, rims)
        rows, cols = np.nonzero(alpha > 0)
        box = (slice(int(rows.min()), int(rows.max()) + 1),
               slice(int(cols.min()), int(cols.max()) + 1))
        tint = np.array((60, 70, 80), np.float32)
        col = np.where(rims[box][..., None] > 0, colour, tint)
        return cls(colour=col, alpha=alpha[box][..., None], box=box)

    def over(self, image_bgr: np.ndarray) -> np.ndarray:
        """The image with the glasses composited on top (only their box is recomputed:
        the rendering loop calls this for every frame)."""
        out = image_bgr.copy()
        region = out[self.box].astype(np.float32)
        region = region * (1.0 - self.alpha) + self.colour * self.alpha
        out[self.box] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
        return out


def _pt(xy: np.ndarray) -> tuple[int, int]:
    return int(round(float(xy[0]))), int(round(float(xy[1])))
