"""Piecewise-affine image warping over the face-mesh triangles."""

from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import ConvexHull, Delaunay

__all__ = ["MeshWarper"]


class MeshWarper:
    """Warps one image so that mesh points at ``src`` move to ``dst``.

    The 468 face points are triangulated (Delaunay, on the neutral positions) together
    with two rings around the face and the image border, which never move, so the
    deformation fades out at the edge of the face and the background stays still.

    Args:
        image_bgr: ``(H, W, 3) uint8`` the neutral photo.
        src: ``(468, 2)`` pixel positions of the mesh points in ``image_bgr``.
    """

    def __init__(self, image_bgr: np.ndarray, src: np.ndarray) -> None:
        self.image = np.ascontiguousarray(image_bgr)
        h, w = self.image.shape[:2]
        src = np.asarray(src, dtype=np.float64)[:468, :2]
        centre = src.mean(axis=0)
        outline = src[ConvexHull(src).vertices]
        rings = [centre + (outline - centre) * k for k in (1.2, 1.5)]
        hull = np.concatenate(rings)
        border = np.array(
            [[x, y] for x in np.linspace(0, w - 1, 5) for y in np.linspace(0, h - 1, 5)
             if x in (0, w - 1) or y in (0, h - 1)]
        )
        self.n_face = src.shape[0]
        self.src_all = np.concatenate([src, hull, border])
        self.tri = Delaunay(self.src_all).simplices.astype(np.int64)
        # Only triangles touching a face point can change; the rest is identity.
        self.active = self.tri[(self.tri < self.n_face).any(axis=1)]
        a0 = np.concatenate([self.src_all[self.active], np.ones((len(self.active), 3, 1))], axis=2)
        self._orient = np.sign(np.linalg.det(a0))
        lo = np.floor(np.concatenate(rings).min(axis=0)).astype(int)
        hi = np.ceil(np.concatenate(rings).max(axis=0)).astype(int)
        self.x0, self.y0 = max(lo[0], 0), max(lo[1], 0)
        self.x1, self.y1 = min(hi[0] + 1, w), min(hi[1] + 1, h)
        gy, gx = np.mgrid[self.y0 : self.y1, self.x0 : self.x1]
        self._gx = gx.astype(np.float32)
        self._gy = gy.astype(np.float32)

    def warp(self, dst: np.ndarray) -> np.ndarray:
        """The photo with the face points moved to ``dst (468, 2)`` pixels."""
        dst_all = self.src_all.copy()
        dst_all[: self.n_face] = np.asarray(dst, dtype=np.float64)[: self.n_face, :2]
        roi_h, roi_w = self.y1 - self.y0, self.x1 - self.x0
        ids = np.full((roi_h, roi_w), -1, dtype=np.int32)
        offset = np.array([self.x0, self.y0], dtype=np.float64)
        tri = self.active
        d = dst_all[tri]  # (K, 3, 2)
        s = self.src_all[tri]
        # Affine maps dst -> src for every active triangle.
        ones = np.ones((len(tri), 3, 1))
        a = np.concatenate([d, ones], axis=2)  # (K, 3, 3)
        det = np.linalg.det(a)
        # A triangle that flipped orientation (a fold) is not drawn: its neighbours
        # cover the place, which avoids torn-looking slivers.
        valid = (np.abs(det) > 1e-9) & (np.sign(det) == self._orient)
        maps = np.zeros((len(tri), 3, 2))
        maps[valid] = np.linalg.solve(a[valid], s[valid])
        # Fill larger triangles first so that, where a strong movement folds the mesh,
        # the smaller (more detailed) triangles win.
        area = np.abs(det) / 2.0
        for k in np.argsort(-area):
            if valid[k]:
                cv2.fillConvexPoly(ids, np.round(d[k] - offset).astype(np.int32), int(k))
        m = maps[np.clip(ids, 0, None)]  # (h, w, 3, 2)
        map_x = m[..., 0, 0] * self._gx + m[..., 1, 0] * self._gy + m[..., 2, 0]
        map_y = m[..., 0, 1] * self._gx + m[..., 1, 1] * self._gy + m[..., 2, 1]
        outside = ids < 0
        map_x = np.where(outside, self._gx, map_x).astype(np.float32)
        map_y = np.where(outside, self._gy, map_y).astype(np.float32)
        out = self.image.copy()
        out[self.y0 : self.y1, self.x0 : self.x1] = cv2.remap(
            self.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        return out
