"""Keep following one subject when several faces are in view. numpy only."""

from __future__ import annotations

import numpy as np

__all__ = ["SubjectTracker", "face_box"]


def face_box(landmarks: np.ndarray) -> tuple[float, float, float]:
    """``(478, 3)`` normalised landmarks -> (centre x, centre y, width), image-normalised."""
    xy = landmarks[:468, :2]
    lo = xy.min(axis=0)
    hi = xy.max(axis=0)
    c = (lo + hi) / 2.0
    return float(c[0]), float(c[1]), float(max(hi[0] - lo[0], 1e-6))


class SubjectTracker:
    """Chooses, frame by frame, which detected face is the subject.

    - First sighting: the largest face, ties broken towards the image centre
      (score = width * (1 - 0.5 * distance from the centre)).
    - Then: the face whose centre is nearest the subject's last known centre, accepted
      only within ``max_jump`` face widths; a face farther away is somebody else and
      the frame counts as "subject not found".
    - After ``reacquire_after_s`` without the subject, the accepted radius grows to
      ``reacquire_radius`` widths around the last known place, so the subject is found
      again after turning away or an occlusion, without jumping to a visitor across
      the room.
    - With a ``home`` (where a live monitor's patient was when calibrated: the bed), the
      subject is looked for around home instead once it has been missing for
      ``home_after_s``, and on first sighting; a face elsewhere is not the subject.

    Args:
        max_jump: accepted motion between consecutive detections, in face widths.
        reacquire_after_s: gap after which the wider radius applies.
        reacquire_radius: accepted distance after a gap, in face widths.
    """

    def __init__(
        self, max_jump: float = 0.6, reacquire_after_s: float = 0.5, reacquire_radius: float = 1.5
    ) -> None:
        self.max_jump = max_jump
        self.reacquire_after_s = reacquire_after_s
        self.reacquire_radius = reacquire_radius
        self._last: tuple[float, float, float] | None = None
        self._last_t = -np.inf
        self.home: tuple[float, float, float] | None = None
        self.home_after_s = 3.0

    def reset(self) -> None:
        self._last = None
        self._last_t = -np.inf

    def select(self, faces: list[np.ndarray], t: float) -> int | None:
        """Index of the subject among ``faces`` (each ``(478, 3)``), or None."""
        return self.select_box([face_box(f) for f in faces], t)

    def select_box(self, boxes: list[tuple[float, float, float]], t: float) -> int | None:
        """As ``select``, on ``(centre x, centre y, width)`` boxes (from ``face_box`` or a
        face detector)."""
        best = self.pick(boxes, t)
        if best is not None:
            self.commit(boxes[best], t)
        return best

    def pick(self, boxes: list[tuple[float, float, float]], t: float) -> int | None:
        """Which box would be the subject at time ``t``, without following it."""
        if not boxes:
            return None
        ref = self._last
        if self.home is not None and (ref is None or t - self._last_t > self.home_after_s):
            ref = self.home
        if ref is None:
            scores = [w * (1.0 - 0.5 * np.hypot(cx - 0.5, cy - 0.5)) for cx, cy, w in boxes]
            return int(np.argmax(scores))
        lx, ly, lw = ref
        dists = [np.hypot(cx - lx, cy - ly) / lw for cx, cy, _ in boxes]
        best = int(np.argmin(dists))
        radius = self.max_jump
        if ref is self.home or t - self._last_t > self.reacquire_after_s:
            radius = self.reacquire_radius
        return None if dists[best] > radius else best

    def commit(self, box: tuple[float, float, float], t: float) -> None:
        """The subject was at ``box`` at time ``t``."""
        self._last = box
        self._last_t = t

    @property
    def last(self) -> tuple[float, float, float] | None:
        """Where the subject was last seen (``(cx, cy, width)``), or None."""
        return self._last
