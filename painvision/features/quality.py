"""Which frames can be read: a quality in [0, 1] and the reasons a frame is not scored.

A mesh is fitted to almost anything that looks like a face: in the dark, through blur,
over a mask or a hand. Scoring such a frame makes up a number. Each frame gets flags from
its appearance (``landmarks.appearance``) and its pose, and a flagged frame is not scored
(empty, with the reason) rather than scored wrong.

| flag | when | why |
|---|---|---|
| ``no_face`` | no face was found | |
| ``pose_out_of_range`` | head turned beyond the pose limits | one side of the face is hidden |
| ``low_light`` | the face's median L* under ``DARK_SHARE`` of its own usual, or near black (under ``DARK_LUMA``, or a contrast under ``FLAT_CONTRAST``; 8-bit scale) | too dark or flat to see the brows and lids |
| ``blurred`` | sharpness under ``BLUR_SHARE`` of the face's own usual sharpness | motion or defocus blur: the lids and brows smear |
| ``occluded`` | the lower face has a blue or green cast far from the upper face's colour (chroma distance over ``MASK_CHROMA``: a mask is not skin; a beard, dark or grey, is not flagged), or its colour moved from its own usual by over ``REGION_DELTA_E``, away from the upper face's, while the upper face kept its own | the mesh is guessing under the cover |

"Its own usual" is the same face over the recording: the 75th percentile of its
brightness, and over the lit frames the median of its sharpness, of its skin colours and
of the gap between its lower and upper face's colours (a cover over less than half of the recording does not
set them; noise, which raises sharpness, does not make the rest look blurred). That is
what makes the checks hold for every face: sharpness, colours and brightness differ from
one face to the next, and a darker face must not be called "too dark" sooner. A
condition that lasts the whole recording is caught only by the absolute checks (near
black, a blue or green cast over the lower face).

Not flagged, on purpose: a closed eye or a squeezed one. An eye check (open per the mesh,
yet no iris to see) was tried and dropped: it fired on squints and could hide orbital
tightening, a pain sign, while a hand over the eye barely changed the scores
(``bench robustness``).

The thresholds were set on the clean rendered faces and the two public-domain photos (the
range a clean face spans). The colour-cast rule was written knowing the benchmark's mask
is light blue; surgical masks are mostly blue or green, but a white or black one worn all
along is not caught.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from painvision.types import APPEARANCE_NAMES

__all__ = ["FLAGS", "SKIP_FLAGS", "UNREADABLE", "LiveQuality", "Quality", "assess_quality"]

FLAGS: tuple[str, ...] = ("no_face", "pose_out_of_range", "low_light", "blurred", "occluded")
_BIT = {name: 1 << k for k, name in enumerate(FLAGS)}
#: the flags of a frame with a face that stop it from being scored (the others already do)
UNREADABLE: tuple[str, ...] = ("low_light", "blurred", "occluded")
SKIP_FLAGS = sum(_BIT[name] for name in UNREADABLE)

DARK_LUMA = 12.0
FLAT_CONTRAST = 10.0
DARK_SHARE = 0.25
BLUR_SHARE = 0.6
MASK_CHROMA = 22.0
MASK_CAST = 3.0
REGION_DELTA_E = 25.0
UPPER_STEADY_DELTA_E = 10.0



@dataclass(frozen=True)
class Quality:
    """Per frame: ``score`` in [0, 1] (NaN without a face), ``flags`` a bit mask over
    ``FLAGS``. ``reliable`` is a frame with a face and no flag."""

    score: np.ndarray
    flags: np.ndarray

    @property
    def reliable(self) -> np.ndarray:
        return self.flags == 0

    def has(self, flag: str) -> np.ndarray:
        return (self.flags & _BIT[flag]) != 0

    def reasons(self, i: int) -> list[str]:
        """The flags of frame ``i`` by name."""
        return [name for name in FLAGS if self.flags[i] & _BIT[name]]

    def reason_text(self) -> list[str]:
        """Per frame, its flags joined by ``|`` (empty for a clean frame)."""
        names = {}
        out = []
        for f in self.flags.tolist():
            if f not in names:
                names[f] = "|".join(n for n in FLAGS if f & _BIT[n])
            out.append(names[f])
        return out

    def shares(self, among: np.ndarray | None = None) -> dict[str, float]:
        """Share of frames (of ``among``, default all) with each flag."""
        sel = np.ones(self.flags.shape, bool) if among is None else among
        n = max(int(sel.sum()), 1)
        return {name: round(float(self.has(name)[sel].sum()) / n, 4) for name in FLAGS}


def _ref(x: np.ndarray, ok: np.ndarray, q: float = 75.0) -> float:
    v = x[ok & np.isfinite(x)]
    return float(np.percentile(v, q)) if v.size else np.nan


def _chroma(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.hypot(a, b)


def assess_quality(appearance: np.ndarray | None, detected: np.ndarray,
                   pose_ok: np.ndarray) -> Quality:
    """Flags and a quality score for each frame (see the module docstring).

    Args:
        appearance: ``(T, K)`` in ``landmarks.appearance.APPEARANCE_NAMES`` order, or None
            (then only ``no_face`` and ``pose_out_of_range`` can be flagged).
        detected: ``(T,)`` a face was found. pose_ok: ``(T,)`` within the pose limits.
    """
    n = detected.shape[0]
    flags = np.where(detected, 0, _BIT["no_face"]).astype(np.uint8)
    flags |= np.where(detected & ~pose_ok, _BIT["pose_out_of_range"], 0).astype(np.uint8)
    if appearance is None or n == 0:
        score = np.where(detected, np.where(flags != 0, 0.25, 1.0), np.nan)
        return Quality(score.astype(np.float32), flags)
    a = {name: appearance[:, k].astype(np.float64) for k, name in enumerate(APPEARANCE_NAMES)
         if k < appearance.shape[1]}
    seen = detected & np.isfinite(a["face_luma"])
    parts = []

    with np.errstate(invalid="ignore", divide="ignore"):
        # too dark: near black on any skin, or far darker than this face usually is (a
        # threshold on brightness alone would stop reading darker skin first)
        luma = a["face_luma"]
        dark = np.minimum.reduce([luma / DARK_LUMA, a["face_contrast"] / FLAT_CONTRAST,
                                  luma / (DARK_SHARE * _ref(luma, seen))])
        parts.append(dark)
        flags |= np.where(seen & (dark < 1.0), _BIT["low_light"], 0).astype(np.uint8)
        lit = seen & (dark >= 1.0)  # the face's own usual look: from frames that are lit
        # blurred, against the face's own sharpness (the median: sensor noise in a part of
        # the recording raises the measure there, and must not make the rest look blurred)
        sharp = a["sharpness"] / (BLUR_SHARE * _ref(a["sharpness"], lit, 50.0))
        parts.append(sharp)
        flags |= np.where(seen & (sharp < 1.0), _BIT["blurred"], 0).astype(np.uint8)
        # the lower face covered
        lower_ab = np.stack([a["lower_a"], a["lower_b"]], 1) - 128.0
        upper_ab = np.stack([a["upper_a"], a["upper_b"]], 1) - 128.0
        # by its colour alone: only a blue or green cast counts (a mask, a cloth): no skin,
        # beard or shadow has one, while a dark or grey beard is as far from the cheeks'
        # colour as a white mask
        cast = (lower_ab[:, 0] < -MASK_CAST) | (lower_ab[:, 1] < -MASK_CAST)
        off_skin = np.where(cast, _chroma(*(lower_ab - upper_ab).T) / MASK_CHROMA, 0.0)
        # or by a change: away from its own usual colour and further from the upper face's
        # than usual, while the upper face keeps its own (a change of light moves both).
        # A move back towards the upper face is never a cover, so a cover worn most of the
        # time does not make the bare face "covered"
        lab_lower = np.stack([a["lower_l"], a["lower_a"], a["lower_b"]], 1)
        lab_upper = np.stack([a["upper_l"], a["upper_a"], a["upper_b"]], 1)
        ref_lower = np.array([_ref(c, lit, 50.0) for c in lab_lower.T])
        ref_upper = np.array([_ref(c, lit, 50.0) for c in lab_upper.T])
        moved = np.linalg.norm(lab_lower - ref_lower, axis=1) / REGION_DELTA_E
        gap = np.linalg.norm(lab_lower - lab_upper, axis=1)
        away = gap > _ref(gap, lit, 50.0)
        steady = np.linalg.norm(lab_upper - ref_upper, axis=1) < UPPER_STEADY_DELTA_E
        covered = (off_skin > 1.0) | ((moved > 1.0) & away & steady)
        parts.append(np.where(covered, 1.0 / np.maximum(np.maximum(off_skin, moved), 1e-6),
                              np.inf))
        flags |= np.where(seen & covered, _BIT["occluded"], 0).astype(np.uint8)
        # quality: 1 comfortably clear of every threshold, 0.5 at the nearest one
        margin = np.nanmin(np.stack([np.nan_to_num(p, nan=np.inf) for p in parts]), axis=0)
        q = np.clip(0.5 * margin, 0.0, 1.0)
    q = np.where(seen, q, np.nan)  # no face, or a face too small to measure: not known
    q = np.where((flags & _BIT["pose_out_of_range"]) != 0, np.minimum(q, 0.25), q)
    return Quality(q.astype(np.float32), flags)


class LiveQuality:
    """``assess_quality`` one look at a time, for a live camera: each look is judged
    against the same face's usual look over the last ``window_s`` seconds (the looks
    before it, and itself), so a condition that lasts longer than about half the window
    becomes the usual one, as a recording-long one does offline.

    Args:
        window_s: seconds of past looks that set "usual".
    """

    def __init__(self, window_s: float = 120.0) -> None:
        self.window_s = window_s
        self._looks: deque[tuple[float, np.ndarray]] = deque()

    def reset(self) -> None:
        """Forget the past looks (a new subject)."""
        self._looks.clear()

    def update(self, t: float, look: np.ndarray) -> list[str]:
        """The flags (names from ``FLAGS``, outside ``no_face`` and ``pose_out_of_range``)
        of the look ``look`` (``APPEARANCE_NAMES`` order) taken at ``t``."""
        while self._looks and (t - self._looks[0][0] > self.window_s or t < self._looks[0][0]):
            self._looks.popleft()
        self._looks.append((t, np.asarray(look, np.float32)))
        rows = np.stack([v for _, v in self._looks])
        n = len(rows)
        q = assess_quality(rows, np.ones(n, bool), np.ones(n, bool))
        return q.reasons(n - 1)
