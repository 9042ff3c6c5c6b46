"""Public-domain face photos that ship inside installed packages, and their meshes."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from painvision.errors import InputError
from painvision.landmarks.facemesh import FaceMeshExtractor, FaceMeshOptions

__all__ = ["PHOTOS", "load_photo", "photo_landmarks"]

#: Photo name -> where it comes from (both public domain).
PHOTOS = {
    "grace_hopper": "matplotlib sample_data/grace_hopper.jpg (US Navy photo, public domain)",
    "astronaut": "scikit-image data.astronaut() (NASA photo of Eileen Collins, public domain)",
}


def load_photo(name: str) -> np.ndarray:
    """A bundled face photo as ``(H, W, 3) uint8`` BGR."""
    if name == "grace_hopper":
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise InputError(f"cannot read {path}")
        return img
    if name == "astronaut":
        from skimage import data

        return np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    raise InputError(f"unknown photo {name!r}: expected one of {sorted(PHOTOS)}")


@lru_cache(maxsize=8)
def _photo_landmarks_cached(key: bytes, shape: tuple[int, ...]) -> np.ndarray:
    img = np.frombuffer(key, dtype=np.uint8).reshape(shape)
    with FaceMeshExtractor(FaceMeshOptions(max_faces=1, static_image_mode=True)) as fm:
        faces = fm.process(img)
    if not faces:
        raise InputError("MediaPipe found no face in the photo")
    return faces[0]


def photo_landmarks(image_bgr: np.ndarray) -> np.ndarray:
    """MediaPipe mesh of a still photo: ``(478, 3) float32`` normalised coordinates."""
    img = np.ascontiguousarray(image_bgr)
    return _photo_landmarks_cached(img.tobytes(), img.shape).copy()
