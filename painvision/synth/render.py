"""Render a scripted clip from a real photo and write it with its ground truth."""

from __future__ import annotations

import csv
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from painvision.errors import VideoError
from painvision.landmarks.pose import canonical_frame
from painvision.synth.faces import load_photo, photo_landmarks
from painvision.synth.fields import closure_basis, deformation_fields
from painvision.synth.sequence import Script
from painvision.synth.warp import MeshWarper
from painvision.types import AU_NAMES

logger = logging.getLogger(__name__)

__all__ = ["FaceRig", "render_clip", "write_labels"]


class FaceRig:
    """A photo, its neutral mesh and its AU deformation fields, ready to pose.

    Args:
        image_bgr: the neutral photo.
        size: output frame size (width, height); the face is framed at about a third
            of the frame width.
    """

    def __init__(self, image_bgr: np.ndarray, size: tuple[int, int] = (480, 360)) -> None:
        self.image = image_bgr
        self.size = size
        h, w = image_bgr.shape[:2]
        lm = photo_landmarks(image_bgr)
        self.px = lm * np.array([w, h, w], dtype=np.float32)
        canon = canonical_frame(self.px)
        self.canon = canon
        self.fields = deformation_fields(canon)
        self.closure_basis, self.lid_pairs = closure_basis(canon)
        # Face frame -> image: rows of the canonical basis scaled by the IOD.
        right = self.px[[33, 133], :].mean(axis=0)
        left = self.px[[263, 362], :].mean(axis=0)
        self.iod = float(np.linalg.norm(left - right))
        x = (left - right) / self.iod
        down = self.px[152] - self.px[10]
        y = down - down.dot(x) * x
        y /= np.linalg.norm(y)
        self.basis = np.stack([x, y, np.cross(x, y)])
        self.warper = MeshWarper(image_bgr, self.px[:468, :2])
        xy = self.px[:468, :2]
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        self.face_centre = (lo + hi) / 2
        self.face_width = float(hi[0] - lo[0])

    def displacement(self, intensities: dict[str, float]) -> np.ndarray:
        """``(478, 2)`` pixel displacement for AU intensities (0-5) and ``closure`` (0-1)."""
        d = np.zeros((478, 3), dtype=np.float32)
        for name, value in intensities.items():
            if value and name != "closure":
                d += (value / 5.0) * self.fields[name]
        closure = intensities.get("closure", 0.0)
        if closure:
            # Close over the gap that the other AUs left (to 95 %: lids meet, not cross).
            lids = self.canon + d
            gaps = lids[self.lid_pairs[:, 1], 1] - lids[self.lid_pairs[:, 0], 1]
            d += np.tensordot(0.95 * closure * np.maximum(gaps, 0.0), self.closure_basis, axes=1)
        return (d * self.iod @ self.basis)[:, :2]

    def frame(self, intensities: dict[str, float], motion: np.ndarray) -> np.ndarray:
        """One output frame: warped face, then framed with head motion (roll, dx, dy, scale)."""
        warped = self.warper.warp(self.px[:468, :2] + self.displacement(intensities)[:468])
        out_w, out_h = self.size
        roll, dx, dy, scale = (float(v) for v in motion)
        zoom = out_w / (2.8 * self.face_width) * scale
        cx, cy = self.face_centre + np.array([dx, dy]) * self.face_width
        m = cv2.getRotationMatrix2D((float(cx), float(cy)), roll, zoom)
        m[0, 2] += out_w / 2 - cx
        m[1, 2] += out_h * 0.45 - cy
        return cv2.warpAffine(warped, m, (out_w, out_h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT)


def write_labels(path: Path, labels, pain: np.ndarray) -> None:
    """``frame,pspi,au4,au6,au7,au9,au10,au43,pain`` one row per frame."""
    pspi = labels.pspi
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["frame", "pspi", *AU_NAMES, "pain"])
        for i in range(len(labels)):
            w.writerow([i, f"{pspi[i]:.3f}", *(f"{getattr(labels, n)[i]:.3f}" for n in AU_NAMES),
                        int(pain[i])])


def render_clip(
    photo: str,
    script: Script,
    out_path: str | os.PathLike[str],
    *,
    size: tuple[int, int] = (480, 360),
    noise_sigma: float = 2.0,
    seed: int = 0,
    on_progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Render ``script`` on a bundled photo to ``out_path`` (MPEG-4) and write
    ``<stem>.labels.csv`` beside it. Both files appear only when complete."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    rig = FaceRig(load_photo(photo), size)
    labels, closure, pain = script.timelines()
    motion = script.motion.at(script.t)
    rng = np.random.default_rng(seed)
    fd, tmp_name = tempfile.mkstemp(suffix=out.suffix, dir=out.parent, prefix=".tmp-")
    os.close(fd)
    tmp = Path(tmp_name)
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), script.fps, size)
    if not writer.isOpened():
        tmp.unlink(missing_ok=True)
        raise VideoError(f"cannot write {out}: no MPEG-4 encoder available")
    try:
        total = len(labels)
        for i in range(total):
            inten = {n: float(getattr(labels, n)[i]) for n in AU_NAMES if n != "au43"}
            inten["closure"] = float(closure[i])
            img = rig.frame(inten, motion[i])
            if noise_sigma > 0:
                noise = rng.normal(0.0, noise_sigma, img.shape)
                img = np.clip(img + noise, 0, 255).astype(np.uint8)
            writer.write(img)
            if on_progress:
                on_progress(i + 1, total)
        writer.release()
        labels_path = out.with_name(out.stem + ".labels.csv")
        tmp_labels = labels_path.with_name(".tmp-" + labels_path.name)
        write_labels(tmp_labels, labels, pain)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
        os.replace(tmp_labels, labels_path)
    except BaseException:
        writer.release()
        tmp.unlink(missing_ok=True)
        raise
    logger.info("rendered %s (%d frames)", out, len(labels))
    return out
