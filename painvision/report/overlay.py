"""The overlay video: the tracked mesh, a PSPI gauge, the AU bars and an episode marker
drawn over the source, frame for frame.

Privacy by default: the whole image is pixelated to a coarse grid (so nobody in it can be
recognised, visitors included) and the subject's face is covered by a flat mask with the
tracked mesh drawn on it; only ``show_face=True`` writes the real image. No audio is
written. The output has the source's frame count and size, at its nominal frame rate;
with a stride, frames that were not analysed hold the last analysed reading.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from painvision.errors import InputError, VideoError
from painvision.fileio import atomic_output
from painvision.io.video import FrameReader, prefetch, probe_video
from painvision.landmarks import indices as ix
from painvision.types import AU_NAMES

logger = logging.getLogger(__name__)

__all__ = ["OverlayFrames", "write_overlay"]

#: Cells of the privacy grid along the longer side of the image.
PRIVACY_CELLS = 24


def _bgr(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return b, g, r


_PART_COLORS = {"au4": "#457b9d", "orbit": "#2a9d8f", "nose": "#e9c46a", "au43": "#8d6a9f"}
#: Regions drawn over the mesh, with the AU whose intensity lights them up.
_REGIONS: tuple[tuple[str, tuple[tuple[int, ...], ...], str], ...] = (
    ("au4", (ix.RIGHT_BROW_UPPER, ix.RIGHT_BROW_LOWER, ix.LEFT_BROW_UPPER, ix.LEFT_BROW_LOWER),
     "au4"),
    ("orbit", (ix.RIGHT_UPPER_LID + (ix.RIGHT_EYE_INNER,),
               (ix.RIGHT_EYE_OUTER,) + ix.RIGHT_LOWER_LID + (ix.RIGHT_EYE_INNER,),
               ix.LEFT_UPPER_LID + (ix.LEFT_EYE_INNER,),
               (ix.LEFT_EYE_OUTER,) + ix.LEFT_LOWER_LID + (ix.LEFT_EYE_INNER,),
               ix.RIGHT_LOWER_LID_SKIN, ix.LEFT_LOWER_LID_SKIN), "orbit"),
    ("nose", (ix.RIGHT_ALA, ix.LEFT_ALA, ix.UPPER_LIP_OUTER), "nose"),
)
_BAR_AUS = AU_NAMES  # au4 au6 au7 au9 au10 au43


def _tessellation() -> np.ndarray:
    """``(E, 2) int32`` edges of MediaPipe's face-mesh tessellation."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    return np.array(sorted(FACEMESH_TESSELATION), dtype=np.int32)


class OverlayFrames:
    """Draws one overlay frame from a source frame and the reading that holds for it.

    Args:
        width, height: frame size in pixels.
        show_face: draw over the real image (default: pixelated image, face masked).
        threshold: the alarm's PSPI threshold, marked on the gauge.
    """

    def __init__(self, width: int, height: int, *, show_face: bool = False,
                 threshold: float = 3.0) -> None:
        self.w, self.h = width, height
        self.show_face = show_face
        self.threshold = threshold
        self.edges = _tessellation()
        self.s = max(min(width, height) / 360.0, 0.5)  # layout scale
        long_side = max(width, height)
        self.grid = (max(1, round(PRIVACY_CELLS * width / long_side)),
                     max(1, round(PRIVACY_CELLS * height / long_side)))

    # ------------------------------------------------------------------ face
    def _privacy(self, frame: np.ndarray) -> np.ndarray:
        small = cv2.resize(frame, self.grid, interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (self.w, self.h), interpolation=cv2.INTER_LINEAR)

    def _face(self, img: np.ndarray, px: np.ndarray, aus: dict[str, float]) -> None:
        """Mask (privacy) and mesh over the face; ``px`` ``(478, 2)`` pixels."""
        hull = cv2.convexHull(px.astype(np.int32))
        if not self.show_face:
            # the mask covers the hull grown by 12 % of the face's size (hair line, ears)
            c = px.mean(axis=0)
            grown = ((hull[:, 0, :] - c) * 1.12 + c).astype(np.int32)
            cv2.fillConvexPoly(img, grown, (58, 38, 30), cv2.LINE_AA)
        color = (150, 140, 120) if not self.show_face else (210, 210, 210)
        segs = px[self.edges].astype(np.int32)  # (E, 2, 2)
        cv2.polylines(img, segs, False, color, 1, cv2.LINE_8)
        levels = {"au4": aus.get("au4", 0.0),
                  "orbit": max(aus.get("au6", 0.0), aus.get("au7", 0.0)),
                  "nose": max(aus.get("au9", 0.0), aus.get("au10", 0.0))}
        for key, lines, _ in _REGIONS:
            v = levels[key]
            v = 0.0 if not np.isfinite(v) else min(max(v / 5.0, 0.0), 1.0)
            base = np.array(_bgr(_PART_COLORS[key]), dtype=np.float32)
            col = tuple(int(c) for c in base * (0.45 + 0.55 * v))
            thick = max(1, round(self.s * (1 + 2.5 * v)))
            cv2.polylines(img, [px[list(line)].astype(np.int32) for line in lines], False, col,
                          thick, cv2.LINE_AA)

    # ------------------------------------------------------------------ HUD
    def _text(self, img, text, org, scale=0.42, color=(235, 235, 235), thick=1) -> None:
        cv2.putText(img, text, (int(org[0]), int(org[1])), cv2.FONT_HERSHEY_SIMPLEX,
                    scale * self.s, color, max(1, round(thick * self.s)), cv2.LINE_AA)

    def _hud(self, img: np.ndarray, t: float, pspi: float, aus: dict[str, float],
             prob: float | None, episode: int | None, face: bool) -> None:
        s = self.s
        pw, ph = int(118 * s), int(250 * s)
        x0, y0 = int(6 * s), int(6 * s)
        roi = img[y0:y0 + ph, x0:x0 + pw]
        roi[:] = (roi * 0.35).astype(np.uint8)  # a dark panel, the image faint behind
        # PSPI gauge: a vertical bar 0-16 with the alarm threshold
        gx, gy, gw, gh = x0 + int(8 * s), y0 + int(40 * s), int(14 * s), int(196 * s)
        cv2.rectangle(img, (gx, gy), (gx + gw, gy + gh), (90, 90, 90), 1)
        if np.isfinite(pspi):
            fill = int(gh * min(max(pspi, 0.0), 16.0) / 16.0)
            col = (60, 60, 230) if pspi >= self.threshold else (200, 170, 120)
            cv2.rectangle(img, (gx + 1, gy + gh - fill), (gx + gw - 1, gy + gh - 1), col, -1)
        ty = gy + gh - int(gh * self.threshold / 16.0)
        cv2.line(img, (gx - int(3 * s), ty), (gx + gw + int(3 * s), ty), (80, 80, 255), 1)
        self._text(img, "PSPI", (x0 + int(6 * s), y0 + int(14 * s)), 0.4)
        self._text(img, "-" if not np.isfinite(pspi) else f"{pspi:4.1f}",
                   (x0 + int(6 * s), y0 + int(32 * s)), 0.55, thick=2)
        # AU bars 0-5 (AU43 0-1)
        bx, bw = gx + gw + int(34 * s), int(42 * s)
        for k, name in enumerate(_BAR_AUS):
            yy = gy + int(k * 22 * s)
            v = aus.get(name, float("nan"))
            self._text(img, name.upper(), (gx + gw + int(4 * s), yy + int(9 * s)), 0.3)
            cv2.rectangle(img, (bx, yy), (bx + bw, yy + int(10 * s)), (90, 90, 90), 1)
            if np.isfinite(v):
                full = 1.0 if name == "au43" else 5.0
                cv2.rectangle(img, (bx + 1, yy + 1),
                              (bx + 1 + int((bw - 2) * min(max(v / full, 0), 1)),
                               yy + int(10 * s) - 1), (200, 200, 200), -1)
        yy = gy + int(6 * 22 * s) + int(4 * s)
        if prob is not None:
            self._text(img, "pain_prob", (gx + gw + int(4 * s), yy + int(9 * s)), 0.3)
            yy += int(13 * s)
            cv2.rectangle(img, (gx + gw + int(4 * s), yy), (bx + bw, yy + int(10 * s)),
                          (90, 90, 90), 1)
            if np.isfinite(prob):
                cv2.rectangle(img, (gx + gw + int(5 * s), yy + 1),
                              (gx + gw + int(5 * s) + int((bx + bw - gx - gw - int(6 * s))
                                                           * min(max(prob, 0), 1)),
                               yy + int(10 * s) - 1), (81, 111, 231), -1)
            yy += int(14 * s)
        self._text(img, f"t {t:7.2f} s", (gx + gw + int(4 * s), yy + int(12 * s)), 0.32)
        if not face:
            self._text(img, "no face", (gx + gw + int(4 * s), yy + int(28 * s)), 0.36,
                       (120, 200, 255))
        if episode is not None:  # the episode marker: a red frame and a banner
            cv2.rectangle(img, (0, 0), (self.w - 1, self.h - 1), (40, 40, 220),
                          max(2, round(4 * s)))
            label = f"PAIN EPISODE {episode}"
            (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5 * s,
                                          max(1, round(s)))
            bx0 = self.w - tw - int(16 * s)
            cv2.rectangle(img, (bx0, int(6 * s)), (self.w - int(6 * s), int(14 * s) + th + 4),
                          (40, 40, 220), -1)
            self._text(img, label, (bx0 + int(5 * s), int(10 * s) + th), 0.5, thick=1)

    def draw(self, frame_bgr: np.ndarray, t: float, landmarks: np.ndarray | None,
             pspi: float, aus: dict[str, float], prob: float | None,
             episode: int | None) -> np.ndarray:
        """One overlay frame: ``frame_bgr (H, W, 3) uint8``, the held ``landmarks``
        ``(478, 3)`` normalised (None or NaN: no face) -> ``(H, W, 3) uint8``."""
        img = frame_bgr.copy() if self.show_face else self._privacy(frame_bgr)
        face = landmarks is not None and landmarks.shape[0] > 0 and \
            bool(np.isfinite(landmarks[:, :2]).all())
        if face:
            px = landmarks[:, :2] * np.array([self.w, self.h], dtype=np.float32)
            self._face(img, px, aus)
        self._hud(img, t, pspi, aus, prob, episode, face)
        return img


def write_overlay(
    video: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    frame_index: np.ndarray,
    landmarks: np.ndarray,
    pspi: np.ndarray,
    aus: dict[str, np.ndarray],
    pain_prob: np.ndarray | None,
    episode: np.ndarray,
    threshold: float = 3.0,
    show_face: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the overlay of ``video`` to ``path`` (mp4v), atomically.

    Every source frame is written, in order, with the reading of the last analysed frame
    at or before it (``frame_index (T,)``, ``landmarks (T, 478, 3)``, ``pspi (T,)``,
    ``aus`` ``{name: (T,)}``, ``pain_prob (T,)`` or None, ``episode (T,) int`` the open
    episode's number, 0 for none).

    Raises:
        VideoError: the video cannot be read or the encoder cannot be opened.
    """
    info = probe_video(video)
    fps = info.fps if info.fps > 0 else 25.0
    drawer = OverlayFrames(info.width, info.height, show_face=show_face, threshold=threshold)
    n = len(frame_index)
    if landmarks.shape[:1] != (n,) or landmarks.ndim != 3 or landmarks.shape[1] == 0:
        raise InputError("write_overlay needs the meshes: analyze_video(..., "
                         "keep_landmarks=True)")
    written = 0
    with atomic_output(path) as tmp:
        # the temporary file keeps .mp4 at the end so FFmpeg picks the container
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                 (info.width, info.height))
        if not writer.isOpened():
            raise VideoError(f"cannot write {path}: OpenCV's mp4v encoder did not open")
        try:
            k = -1
            frames = prefetch(FrameReader(video, 1))
            # closed here on an error or Ctrl-C, so that the decoding thread is stopped and
            # joined before the error leaves, whoever keeps its traceback
            with contextlib.closing(frames):
                for frame in frames:
                    while k + 1 < n and frame_index[k + 1] <= frame.index:
                        k += 1
                    if k < 0:  # before the first analysed frame: nothing to show yet
                        img = drawer.draw(frame.image_bgr, frame.t, None, float("nan"), {}, None,
                                          None)
                    else:
                        au = {a: float(aus[a][k]) for a in _BAR_AUS}
                        ep = int(episode[k])
                        img = drawer.draw(frame.image_bgr, frame.t, landmarks[k], float(pspi[k]),
                                          au, None if pain_prob is None else float(pain_prob[k]),
                                          ep or None)
                    if img.shape[:2] != (info.height, info.width):  # a size change mid-stream
                        img = cv2.resize(img, (info.width, info.height))
                    writer.write(img)
                    written += 1
                    if on_progress is not None:
                        on_progress(written, max(info.frame_count, written))
        finally:
            writer.release()
    logger.info("wrote %s: %d frames", path, written)
    return Path(path)
