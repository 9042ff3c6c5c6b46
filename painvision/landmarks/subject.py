"""The subject's face mesh, frame by frame, at the cost of one face.

MediaPipe's face mesh asked for N faces runs its face detector on every frame in which it
tracks fewer than N, so with a visitor-ready N = 2 it detects on nearly every frame and
costs about twice as much as one tracked face. Here the mesh follows one face in tracking
mode, and other people are looked for at a low rate:

- every ``scan_every_s`` (1 s), and every 0.25 s while the subject is not found, the
  face detector runs on a small copy of the frame. It counts the faces in view and says
  which of them the ``SubjectTracker`` takes for the subject. The look runs in a
  thread of its own while the frame's mesh runs (MediaPipe works without the
  interpreter lock), and its answer is taken once the mesh is done: the same answers
  as looking first, without holding the mesh up;
- when the mesh is on a face that is not the subject (a visitor it locked on to after
  losing the patient, or the larger face on the first frame) while the subject is in
  view, the other faces are greyed out in a copy of the frame and the mesh is run again,
  so that MediaPipe drops that track and finds the subject.

Frames larger than ``max_side`` are downscaled first (``facemesh.fit_frame``).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from painvision.landmarks.facemesh import (
    FaceDetector,
    FaceMeshExtractor,
    FaceMeshOptions,
    fit_frame,
)
from painvision.landmarks.tracking import SubjectTracker, face_box

logger = logging.getLogger(__name__)

__all__ = ["SubjectFace", "SubjectFrontEnd"]

Box = tuple[float, float, float]

#: While the subject is missing, the detector looks for it this often at most.
LOST_SCAN_S = 0.25
#: Mesh runs on greyed-out copies of a frame when the mesh is on somebody else
#: (MediaPipe drops a lost track on one call and detects on the next).
RETRIES = 2


@dataclass(frozen=True, slots=True)
class SubjectFace:
    """What the front end found in one frame.

    Attributes:
        landmarks: the subject's ``(478, 3) float32`` mesh (shares of the full frame, z on
            the x scale), or None when the subject is not found.
        n_faces: faces in view, inside the region or not: the most of what the mesh found
            in this frame and what the face detector counted at its last look (at most
            ``scan_every_s`` ago).
    """

    landmarks: np.ndarray | None
    n_faces: int


class SubjectFrontEnd:
    """Face mesh on the subject, with a low-rate look for other people (see module).

    Args:
        options: front-end settings (``max_faces``, ``scan_every_s``, ``max_side`` ...).
        tracker: who the subject is; a live monitor sets its ``home``.
        region: ``(x0, y0, x1, y1)`` shares of the image: faces centred elsewhere are
            ignored (a bed region).

    Frames must come in time order. Use as a context manager or call ``close()``.
    """

    def __init__(self, options: FaceMeshOptions | None = None, *,
                 tracker: SubjectTracker | None = None,
                 region: tuple[float, float, float, float] | None = None) -> None:
        self.options = options or FaceMeshOptions()
        self.tracker = tracker or SubjectTracker()
        self.region = region
        self._mesh = FaceMeshExtractor(self.options)
        scan = self.options.max_faces == 1 and self.options.scan_every_s > 0 \
            and not self.options.static_image_mode
        try:
            self._detector = FaceDetector(self.options.min_detection_confidence) if scan \
                else None
        except BaseException:
            self._mesh.close()
            raise
        self._scan_t = -np.inf
        self._seen = 0
        self._missing = True
        self._pool: ThreadPoolExecutor | None = None  # the look's thread
        self.scans = 0
        self.retries = 0

    def _inside(self, box: Box) -> bool:
        if self.region is None:
            return True
        x0, y0, x1, y1 = self.region
        return x0 <= box[0] <= x1 and y0 <= box[1] <= y1

    def process(self, frame_bgr: np.ndarray, t: float, *, rgb: bool = False) -> SubjectFace:
        """The subject's mesh in one BGR frame (RGB with ``rgb=True``) at time ``t``
        (seconds, increasing)."""
        image = fit_frame(frame_bgr, self.options.max_side)
        look: Future[list[Box]] | None = None
        detector = self._detector
        if detector is not None and (
                t - self._scan_t >= self.options.scan_every_s
                or (self._missing and t - self._scan_t >= LOST_SCAN_S)):
            self._scan_t = t
            self.scans += 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="painvision-look")
            # the detector works in its thread while the mesh works here
            look = self._pool.submit(detector.detect_small, detector.small(image, rgb=rgb))
        meshed = [(f, face_box(f)) for f in self._mesh.process(image, rgb=rgb)]
        target: Box | None = None
        others: list[Box] = []
        if look is not None:
            seen = look.result()  # this frame's answer; an error in it is raised here
            boxes = [b for b in seen if self._inside(b)]
            self._seen = len(seen)
            k = self.tracker.pick(boxes, t)
            if k is not None:
                target = boxes[k]
                others = [b for b in seen if b is not target]
        n_mesh = len(meshed)
        # with a target (inside the region by the detector's box), the mesh face on it is
        # taken even if the mesh's own box centre falls just outside
        faces = meshed if target is not None else [fb for fb in meshed if self._inside(fb[1])]
        pick = self._choose(faces, t, target)
        tries = 0
        # The mesh is on somebody else while the detector sees the subject: grey the
        # others out and let MediaPipe find the subject.
        while pick is None and target is not None and tries < RETRIES:
            tries += 1
            self.retries += 1
            hide = others + [b for _, b in meshed]
            meshed = [(f, face_box(f)) for f in
                      self._mesh.process(_grey_out(image, hide, target), rgb=rgb)]
            faces = meshed
            pick = self._choose(faces, t, target)
        self._missing = pick is None
        if pick is None:
            return SubjectFace(None, max(n_mesh, self._seen))
        face, box = faces[pick]
        self.tracker.commit(box, t)
        return SubjectFace(face, max(n_mesh, len(meshed), self._seen))

    def _choose(self, faces: list[tuple[np.ndarray, Box]], t: float,
                target: Box | None) -> int | None:
        boxes = [b for _, b in faces]
        if target is None:
            return self.tracker.pick(boxes, t)
        if not boxes:
            return None
        d = [np.hypot(b[0] - target[0], b[1] - target[1]) / target[2] for b in boxes]
        k = int(np.argmin(d))
        return k if d[k] <= self.tracker.max_jump else None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)  # a look under way finishes first
            self._pool = None
        self._mesh.close()
        if self._detector is not None:
            self._detector.close()

    def __enter__(self) -> SubjectFrontEnd:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _grey_out(image: np.ndarray, boxes: list[Box], keep: Box) -> np.ndarray:
    """A copy of ``image`` with each face box (grown to cover the whole head) filled with
    flat grey, then the subject's own box (``keep``, grown the same way) copied back from
    the original, so that a face above, below or beside the subject is hidden whatever
    their overlap. Boxes centred on the subject are left alone."""
    out = image.copy()
    h, w = image.shape[:2]

    def rect(cx: float, cy: float, bw: float) -> tuple[int, int, int, int]:
        x0, x1 = int((cx - 0.8 * bw) * w), int(np.ceil((cx + 0.8 * bw) * w))
        y0, y1 = int(cy * h - 1.1 * bw * w), int(np.ceil(cy * h + 1.1 * bw * w))
        return max(x0, 0), max(y0, 0), max(x1, 0), max(y1, 0)

    for cx, cy, bw in boxes:
        if np.hypot(cx - keep[0], cy - keep[1]) < 0.5 * keep[2]:
            continue  # the subject itself, as the mesh or the detector saw it
        x0, y0, x1, y1 = rect(cx, cy, bw)
        out[y0:y1, x0:x1] = 128
    x0, y0, x1, y1 = rect(*keep)
    out[y0:y1, x0:x1] = image[y0:y1, x0:x1]
    return out
