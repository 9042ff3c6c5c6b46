"""Render timelines on real photos and write them with their ground truth."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from painvision.errors import VideoError
from painvision.landmarks import indices as ix
from painvision.landmarks.pose import canonical_frame
from painvision.synth.degrade import Degrader
from painvision.synth.faces import load_photo, photo_landmarks
from painvision.synth.fields import closure_basis, deformation_fields
from painvision.synth.glasses import GlassesLayer
from painvision.synth.identity import Identity, identity_image, photo_canonical, shape_offset
from painvision.synth.sequence import Script, Timeline, write_labels
from painvision.synth.warp import MeshWarper

logger = logging.getLogger(__name__)

__all__ = ["FaceRig", "identity_rig", "render_clip", "render_timeline"]


class FaceRig:
    """A photo, its neutral mesh and its deformation fields, ready to pose.

    Args:
        image_bgr: the neutral photo.
        size: output frame size (width, height); the face is framed at about a third
            of the frame width.
        shape: optional ``(478, 3)`` identity offset in template units (a change of
            face proportions or a resting expression), applied to every frame.
    """

    def __init__(self, image_bgr: np.ndarray, size: tuple[int, int] = (480, 360),
                 shape: np.ndarray | None = None) -> None:
        self.image = image_bgr
        self.size = size
        h, w = image_bgr.shape[:2]
        lm = photo_landmarks(image_bgr)
        self.px = lm * np.array([w, h, w], dtype=np.float32)
        self.canon = canonical_frame(self.px)
        self.shape = np.zeros((478, 3), np.float32) if shape is None else shape.astype(np.float32)
        self.fields = deformation_fields(self.canon + self.shape)
        self.closure_basis, self.lid_pairs = closure_basis(self.canon + self.shape)
        right = self.px[[ix.RIGHT_EYE_OUTER, ix.RIGHT_EYE_INNER], :].mean(axis=0)
        left = self.px[[ix.LEFT_EYE_OUTER, ix.LEFT_EYE_INNER], :].mean(axis=0)
        self.iod = float(np.linalg.norm(left - right))
        x = (left - right) / self.iod
        down = self.px[ix.CHIN] - self.px[ix.FOREHEAD]
        y = down - down.dot(x) * x
        y /= np.linalg.norm(y)
        self.basis = np.stack([x, y, np.cross(x, y)])
        self.warper = MeshWarper(image_bgr, self.px[:468, :2])
        xy = self.px[:468, :2]
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        self.face_centre = (lo + hi) / 2
        self.face_width = float(hi[0] - lo[0])
        self.glasses: GlassesLayer | None = None

    def displacement(self, drive: dict[str, float], closure: float = 0.0) -> np.ndarray:
        """``(478, 3)`` pixel displacement (x, y, z) from the photo's mesh.

        Args:
            drive: field name -> intensity (FACS 0-5; ``jaw_side`` may be negative).
            closure: lid closure 0-1, closing over whatever gap the other AUs left.
        """
        d = self.shape.copy()
        for name, value in drive.items():
            if value and name in self.fields:
                d += (value / 5.0) * self.fields[name]
        if closure:
            lids = self.canon + d
            gaps = lids[self.lid_pairs[:, 1], 1] - lids[self.lid_pairs[:, 0], 1]
            d += np.tensordot(0.95 * closure * np.maximum(gaps, 0.0), self.closure_basis, axes=1)
        return d * self.iod @ self.basis

    def camera(self, head: np.ndarray) -> np.ndarray:
        """3x3 homography photo -> output frame for a head pose (yaw, pitch, roll, dx, dy,
        scale). Roll, shift and scale are exact; yaw and pitch turn the face as a plane
        seen in perspective (a photo has no profile to show)."""
        yaw, pitch, roll, dx, dy, scale = (float(v) for v in head)
        out_w, out_h = self.size
        zoom = out_w / (2.8 * self.face_width) * scale
        cx, cy = self.face_centre + np.array([dx, dy]) * self.face_width
        m = cv2.getRotationMatrix2D((float(cx), float(cy)), roll, zoom)
        m[0, 2] += out_w / 2 - cx
        m[1, 2] += out_h * 0.45 - cy
        sim = np.vstack([m, [0.0, 0.0, 1.0]])
        if not yaw and not pitch:
            return sim
        ox, oy = out_w / 2, out_h * 0.45
        half = zoom * self.face_width / 2
        square = np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
        ry, rx = np.radians(yaw), np.radians(pitch)
        rot = (np.array([[np.cos(ry), 0, np.sin(ry)], [0, 1, 0], [-np.sin(ry), 0, np.cos(ry)]])
               @ np.array([[1, 0, 0], [0, np.cos(rx), -np.sin(rx)], [0, np.sin(rx), np.cos(rx)]]))
        p3 = np.column_stack([square, np.zeros(4)]) @ rot.T
        focal = 4.0 * zoom * self.face_width
        proj = p3[:, :2] * (focal / (focal + p3[:, 2:3]))
        persp = cv2.getPerspectiveTransform((square + [ox, oy]).astype(np.float32),
                                            (proj + [ox, oy]).astype(np.float32))
        return persp @ sim

    def frame(self, drive: dict[str, float], head: np.ndarray, closure: float = 0.0) -> np.ndarray:
        """One output frame: the warped face seen by the camera at ``head``."""
        disp = self.displacement(drive, closure)
        warped = self.warper.warp(self.px[:468, :2] + disp[:468, :2])
        if self.glasses is not None:
            warped = self.glasses.over(warped)
        return cv2.warpPerspective(warped, self.camera(head), self.size, flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REFLECT)

    def landmarks(self, drive: dict[str, float], head: np.ndarray,
                  closure: float = 0.0) -> np.ndarray:
        """Where the generator puts the 478 points in the output frame, ``(478, 2)`` px."""
        pts = self.px[:, :2] + self.displacement(drive, closure)[:, :2]
        return cv2.perspectiveTransform(pts[None].astype(np.float64), self.camera(head))[0]


def identity_rig(identity: Identity, size: tuple[int, int]) -> FaceRig:
    """The rig of a synthetic identity: its photo (mirrored or not), its face shape, and
    its resting expression, shown in every frame (a resting expression is shape too),
    and its glasses, if it wears any, fixed around its neutral eyes."""
    base = photo_canonical(identity.photo, identity.mirrored)
    shape = shape_offset(base, identity.shape_seed, identity.shape_amount)
    rig = FaceRig(identity_image(identity.photo, identity.mirrored), size, shape=shape)
    for name, value in identity.resting.items():
        rig.shape = rig.shape + (value / 5.0) * rig.fields[name]
    if identity.glasses:
        neutral = rig.px[:, :2] + rig.displacement({})[:, :2]
        rig.glasses = GlassesLayer.draw(neutral, rig.image.shape[:2], identity.glasses)
    return rig


def _atomic_target(out: Path) -> Path:
    fd, name = tempfile.mkstemp(suffix=out.suffix, dir=out.parent, prefix=".tmp-")
    os.close(fd)
    return Path(name)


def render_timeline(
    rig: FaceRig,
    timeline: Timeline,
    video_path: str | os.PathLike[str],
    labels_path: str | os.PathLike[str],
    *,
    degrader: Degrader | Callable[[np.ndarray, int], np.ndarray] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Render a timeline to MPEG-4 and its labels to CSV; both appear only when complete."""
    out = Path(video_path)
    labels_out = Path(labels_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    labels_out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _atomic_target(out)
    tmp_labels = _atomic_target(labels_out)
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), timeline.fps, rig.size)
    try:
        if not writer.isOpened():
            raise VideoError(f"cannot write {out}: no MPEG-4 encoder available")
        total = len(timeline)
        names = list(timeline.drive)
        for i in range(total):
            drive = {n: float(timeline.drive[n][i]) for n in names}
            img = rig.frame(drive, timeline.head[i], float(timeline.closure[i]))
            if degrader is not None:
                img = degrader(img, i)
            writer.write(img)
            if on_progress:
                on_progress(i + 1, total)
        writer.release()
        write_labels(tmp_labels, timeline)
        for p in (tmp, tmp_labels):
            os.chmod(p, 0o644)
        os.replace(tmp, out)
        os.replace(tmp_labels, labels_out)
    except BaseException:
        writer.release()
        tmp.unlink(missing_ok=True)
        tmp_labels.unlink(missing_ok=True)
        raise
    logger.info("rendered %s (%d frames)", out, len(timeline))
    return out


class _SensorNoise:
    def __init__(self, sigma: float, seed: int) -> None:
        self.sigma = sigma
        self.rng = np.random.default_rng(seed)

    def __call__(self, img: np.ndarray, i: int) -> np.ndarray:
        noise = self.rng.normal(0.0, self.sigma, img.shape)
        return np.clip(img + noise, 0, 255).astype(np.uint8)


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
    """Render a hand-written ``script`` on a bundled photo to ``out_path`` (MPEG-4), with
    ``<stem>.labels.csv`` beside it."""
    out = Path(out_path)
    rig = FaceRig(load_photo(photo), size)
    degrader = _SensorNoise(noise_sigma, seed) if noise_sigma > 0 else None
    return render_timeline(rig, script.timeline(), out, out.with_name(out.stem + ".labels.csv"),
                           degrader=degrader, on_progress=on_progress)
