"""Camera and lighting degradations for rendered frames (albumentations).

Per clip a random camera is drawn: sensor noise, JPEG-like compression quality,
occasional defocus blur; lighting drifts slowly (brightness and contrast follow
smooth random curves, with now and then a step, as when a lamp is switched).
Deterministic for a given seed.
"""

from __future__ import annotations

import albumentations as A
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
        steps = [A.GaussNoise(std_range=(noise, noise), p=1.0)] if noise > 0 else []
        if blur:
            sigma = float(rng.uniform(0.5, 1.2))
            steps.append(A.GaussianBlur(blur_limit=(3, 5), sigma_limit=(sigma, sigma), p=1.0))
        steps.append(A.ImageCompression(quality_range=(quality, quality), p=1.0))
        self.camera = A.Compose(steps, seed=int(rng.integers(0, 2**31 - 1)))
        self.settings = {"noise_std": round(noise, 4), "jpeg_quality": quality,
                         "blur": bool(blur)}

    def __call__(self, frame_bgr: np.ndarray, i: int) -> np.ndarray:
        """Degrade frame ``i`` (``(H, W, 3) uint8``)."""
        if self.strength <= 0:
            return frame_bgr
        light = A.RandomBrightnessContrast(
            brightness_limit=(self.brightness[i], self.brightness[i]),
            contrast_limit=(self.contrast[i], self.contrast[i]), p=1.0,
        )
        img = light(image=frame_bgr)["image"]
        return self.camera(image=img)["image"]
