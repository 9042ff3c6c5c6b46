"""Bedside conditions applied to video frames before the front end, at three severities.

Each corruption is a function of the BGR frame, its index and, for the occlusions, where
the face is in that frame (the mesh of the clean video): a mask over the lower face or a
hand over one eye must sit on the face as it moves. Written with OpenCV and numpy
(albumentations would need a second distribution of ``cv2``; see ``synth.degrade``).
Deterministic for a given seed; severity 2 is the "middle" one the targets speak of.

| name | severity 1 / 2 / 3 | what it stands for |
|---|---|---|
| ``low_light`` | light x0.45 / x0.25 / x0.12, gamma 1.3 / 1.6 / 2.0, sensor noise 2 / 4 / 7 | a dim room at night |
| ``infrared`` | grey, noise 4 / 8 / 14, soft focus | a night camera's infrared picture |
| ``motion_blur`` | a streak of 5 / 9 / 15 px | the head or the camera moving |
| ``gaussian_noise`` | sigma 8 / 16 / 28 grey levels | a cheap sensor in poor light |
| ``jpeg`` | quality 30 / 15 / 7 | a heavily compressed stream |
| ``downscale`` | 320x240 / 240x180 / 160x120 | a small or distant picture |
| ``mask`` | mouth and chin / nose tip to chin / from below the eyes | an oxygen or surgical mask |
| ``hand_eye`` | half / all / all of one eye and its brow | a hand or a cloth over one eye |
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

__all__ = ["CORRUPTIONS", "OCCLUSIONS", "corruption"]

CORRUPTIONS: tuple[str, ...] = ("low_light", "infrared", "motion_blur", "gaussian_noise", "jpeg",
                                "downscale", "mask", "hand_eye")
OCCLUSIONS = ("mask", "hand_eye")

Transform = Callable[[np.ndarray, int], np.ndarray]


def _noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    if sigma <= 0:
        return img
    out = img.astype(np.float32) + rng.normal(0.0, sigma, img.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def _low_light(s: int, seed: int) -> Transform:
    scale, gamma, sigma = {1: (0.45, 1.3, 2.0), 2: (0.25, 1.6, 4.0), 3: (0.12, 2.0, 7.0)}[s]
    lut = np.clip(255.0 * scale * (np.arange(256) / 255.0) ** gamma, 0, 255).astype(np.uint8)

    def f(img: np.ndarray, i: int) -> np.ndarray:
        return _noise(cv2.LUT(img, lut), sigma, np.random.default_rng([seed, i]))
    return f


def _infrared(s: int, seed: int) -> Transform:
    sigma = {1: 4.0, 2: 8.0, 3: 14.0}[s]

    def f(img: np.ndarray, i: int) -> np.ndarray:
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        grey = cv2.GaussianBlur(grey, (3, 3), 0.8)  # infrared cameras are soft
        grey = cv2.convertScaleAbs(grey, alpha=1.15, beta=-10)  # flat, bright skin
        grey = _noise(grey, sigma, np.random.default_rng([seed, i]))
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    return f


def _motion_blur(s: int, seed: int) -> Transform:
    length = {1: 5, 2: 9, 3: 15}[s]
    angle = float(np.random.default_rng(seed).uniform(0, 180))
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle, 1.0)
    k = cv2.warpAffine(k, rot, (length, length))
    k /= k.sum()

    def f(img: np.ndarray, i: int) -> np.ndarray:
        return cv2.filter2D(img, -1, k)
    return f


def _gaussian_noise(s: int, seed: int) -> Transform:
    sigma = {1: 8.0, 2: 16.0, 3: 28.0}[s]

    def f(img: np.ndarray, i: int) -> np.ndarray:
        return _noise(img, sigma, np.random.default_rng([seed, i]))
    return f


def _jpeg(s: int, seed: int) -> Transform:
    quality = {1: 30, 2: 15, 3: 7}[s]

    def f(img: np.ndarray, i: int) -> np.ndarray:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
        return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else img
    return f


def _downscale(s: int, seed: int) -> Transform:
    size = {1: (320, 240), 2: (240, 180), 3: (160, 120)}[s]

    def f(img: np.ndarray, i: int) -> np.ndarray:
        h, w = img.shape[:2]
        scale = min(size[0] / w, size[1] / h, 1.0)
        return cv2.resize(img, (max(int(w * scale), 1), max(int(h * scale), 1)),
                          interpolation=cv2.INTER_AREA)
    return f


# mesh points outlining each occluder (MediaPipe face mesh indices)
_JAW = [132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361]
_MASK_TOP = {1: [214, 212, 57, 43, 106, 182, 83, 18, 313, 406, 335, 273, 287, 432, 434],
             2: [93, 205, 203, 98, 97, 2, 326, 327, 423, 425, 323],
             3: [234, 116, 117, 118, 119, 120, 121, 128, 245, 193, 168, 417, 465, 357, 350,
                 349, 348, 347, 346, 345, 454]}
_EYE = {1: [33, 246, 161, 160, 159, 158, 157, 173, 133],  # upper half of the right eye
        2: [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246],
        3: [33, 7, 163, 144, 145, 153, 154, 155, 133, 55, 65, 52, 53, 46, 70, 63, 105, 66]}


def _occluder(kind: str, s: int, seed: int, meshes: dict[int, np.ndarray]) -> Transform:
    """A mask (light blue, pleated) or a hand (skin tone, shaded) on the clean mesh of
    each frame; frames without a clean mesh are left as they are."""
    rng = np.random.default_rng(seed)
    if kind == "mask":
        colour = np.array([222, 196, 160], np.float32) + rng.normal(0, 6, 3)  # BGR light blue
    else:
        colour = np.array([120, 150, 205], np.float32) + rng.normal(0, 10, 3)  # BGR skin

    def f(img: np.ndarray, i: int) -> np.ndarray:
        mesh = meshes.get(i)
        if mesh is None:
            return img
        h, w = img.shape[:2]
        xy = mesh[:, :2] * np.array([w, h], np.float32)
        if kind == "mask":
            poly = np.concatenate([xy[_MASK_TOP[s]], xy[_JAW][::-1]])
            hull = cv2.convexHull(poly.astype(np.float32)).astype(np.int32)
        else:
            pts = xy[_EYE[s]]
            centre = pts.mean(axis=0)
            pts = centre + (pts - centre) * (1.6 if s > 1 else 1.3)  # fingers spill over
            hull = cv2.convexHull(pts.astype(np.float32)).astype(np.int32)
        area = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(area, hull, 255)
        area = cv2.GaussianBlur(area, (5, 5), 1.5).astype(np.float32)[:, :, None] / 255.0
        yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        if kind == "mask":  # pleats: horizontal bands of shade
            shade = 1.0 - 0.08 * (np.sin(yy * h / 6.0) > 0.6)
        else:  # a hand is lit from above
            shade = 1.05 - 0.25 * yy
        layer = np.clip(colour[None, None, :] * shade, 0, 255)
        out = img.astype(np.float32) * (1 - area) + layer * area
        return out.astype(np.uint8)
    return f


def corruption(name: str, severity: int, seed: int = 0,
               meshes: dict[int, np.ndarray] | None = None) -> Transform:
    """The frame transform of corruption ``name`` at ``severity`` (1, 2 or 3).

    Args:
        meshes: for the occlusions, the clean video's mesh (MediaPipe coordinates) by
            frame index.
    """
    if severity not in (1, 2, 3):
        raise ValueError(f"severity must be 1, 2 or 3, got {severity}")
    if name in OCCLUSIONS:
        if meshes is None:
            raise ValueError(f"{name} needs the clean video's meshes")
        return _occluder(name, severity, seed, meshes)
    makers = {"low_light": _low_light, "infrared": _infrared, "motion_blur": _motion_blur,
              "gaussian_noise": _gaussian_noise, "jpeg": _jpeg, "downscale": _downscale}
    if name not in makers:
        raise ValueError(f"unknown corruption {name!r}: expected one of {', '.join(CORRUPTIONS)}")
    return makers[name](severity, seed)
