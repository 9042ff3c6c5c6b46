"""Build painvision/landmarks/data/template.npy, the neutral reference mesh for pose
normalisation: the Procrustes mean of MediaPipe meshes of the bundled public-domain
photos, each mirrored too (so the template is left-right symmetric), expressed in the
canonical frame (nasion origin, eye line = x, IOD = 1).

Usage: python scripts/make_template.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from painvision.landmarks import indices as ix
from painvision.landmarks.pose import canonical_frame, umeyama
from painvision.synth.faces import PHOTOS, load_photo, photo_landmarks

OUT = Path(__file__).resolve().parent.parent / "painvision" / "landmarks" / "data" / "template.npy"


def mirror_map(mesh: np.ndarray) -> np.ndarray:
    """Index of each point's left-right counterpart, by nearest neighbour of the mirror image."""
    m = mesh.copy()
    m[:, 0] *= -1.0
    d = np.linalg.norm(mesh[:468, None, :] - m[None, :468, :], axis=2)
    face = d.argmin(axis=1)
    iris = np.array([468 + 5 + i if i < 5 else 468 + i - 5 for i in range(10)])
    return np.concatenate([face, iris])


def main() -> None:
    meshes = []
    for name in PHOTOS:
        img = load_photo(name)
        lm = photo_landmarks(img)
        h, w = img.shape[:2]
        meshes.append(canonical_frame(lm * np.array([w, h, w], dtype=np.float32)))
    ref = meshes[0]
    mmap = mirror_map(ref)
    samples = []
    for m in meshes:
        mirrored = m[mmap] * np.array([-1.0, 1.0, 1.0], dtype=np.float32)
        samples += [m, mirrored]
    stack = np.stack(samples)
    mean = stack.mean(axis=0)
    for _ in range(5):  # generalised Procrustes
        s, r, t = umeyama(stack[:, list(ix.STABLE_POINTS)], mean[list(ix.STABLE_POINTS)])
        stack = s[:, None, None] * np.einsum("tij,tnj->tni", r, stack) + t[:, None, :]
        mean = canonical_frame(stack.mean(axis=0))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.save(OUT, mean.astype(np.float32))
    sym = np.abs(mean[mmap] * np.array([-1, 1, 1]) - mean).max()
    print(f"wrote {OUT} ({mean.shape}), max asymmetry {sym:.4f} IOD")


if __name__ == "__main__":
    main()
