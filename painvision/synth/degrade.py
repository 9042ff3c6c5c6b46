"""Camera and lighting degradations for rendered frames (OpenCV and numpy).

Per clip a random camera is drawn: sensor noise, JPEG-like compression quality,
occasional defocus blur; lighting drifts slowly (brightness and contrast follow
smooth random curves, with now and then a step, as when a lamp is switched).
Deterministic for a given seed, and per frame: frame ``i`` is degraded the same whatever
order the frames come in.

Written with OpenCV rather than albumentations: albumentations requires the
``opencv-python-headless`` distribution of ``cv2``, which cannot be installed beside the
``opencv-contrib-python`` one that MediaPipe requires without one overwriting the other.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["Degrader"]


class Degrader:
    """Degrades the frames of one clip.

    Args:
        n_frames: clip length.
        fps: frame rate.
        seed: randomness of this clip.
        strength: 0 leaves frames as they are, 1 is the default spread.
    """

    def __init__(self, n_frames: int, fps: float, seed: int, strength: float = 1.0) -> None:
        rng = np.random.default_rng(seed)
        t = np.arange(n_frames) / fps
        self.strength = strength
        b = np.zeros(n_frames)
        c = np.zeros(n_frames)
        for _ in range(3):  # slow drifts
            period = rng.uniform(8.0, 40.0)
            b += rng.uniform(0.02, 0.06) * np.sin(2 * np.pi * t / period + rng.uniform(0, 6.3))
            c += rng.uniform(0.01, 0.04) * np.sin(2 * np.pi * t / period + rng.uniform(0, 6.3))
        if n_frames and rng.random() < 0.3:  # a light switched on or off
            at = rng.integers(0, n_frames)
            b[at:] += rng.choice([-1, 1]) * rng.uniform(0.05, 0.12)
        self.brightness = np.clip(b * strength, -0.3, 0.3)
        self.contrast = np.clip(c * strength, -0.3, 0.3)
        noise = float(rng.uniform(0.005, 0.03) * strength)
        quality = int(round(100 - strength * rng.uniform(20, 65)))
        blur = rng.random() < 0.3 * strength
        self.noise_std = noise * 255.0  # in grey levels
        self.blur_sigma = float(rng.uniform(0.5, 1.2)) if blur else 0.0
        self.blur_size = int(rng.choice([3, 5])) if blur else 0
        self.jpeg_quality = quality
        self._seed = int(rng.integers(0, 2**31 - 1))
        self.settings = {"noise_std": round(noise, 4), "jpeg_quality": quality,
                         "blur": bool(blur)}

    def __call__(self, frame_bgr: np.ndarray, i: int) -> np.ndarray:
        """Degrade frame ``i`` (``(H, W, 3) uint8``)."""
        if self.strength <= 0:
            return frame_bgr
        # lighting: out = in * (1 + contrast) + brightness * 255, as a lookup table
        lut = np.clip(np.arange(256) * (1.0 + self.contrast[i]) + self.brightness[i] * 255.0,
                      0, 255).astype(np.uint8)
        img = cv2.LUT(frame_bgr, lut)
        if self.noise_std > 0:  # sensor noise, independent per pixel and channel
            rng = np.random.default_rng([self._seed, i])
            noisy = img.astype(np.float32) + rng.normal(0.0, self.noise_std, img.shape).astype(
                np.float32)
            img = np.clip(noisy, 0, 255).astype(np.uint8)
        if self.blur_sigma > 0:  # defocus
            img = cv2.GaussianBlur(img, (self.blur_size, self.blur_size), self.blur_sigma)
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        return cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else img
