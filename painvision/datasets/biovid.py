"""Reader for the BioVid Heat Pain Database (part A), as distributed.

```
PartA/
  video/<subject>/<subject>-<class>-<number>.mp4     e.g. video/071309_w_21/071309_w_21-BL1-081.mp4
  biosignals_filtered/ ...                            (not read)
  starting_point/samples.csv                          (not needed)
```

Each sample is a 5.5-s video of a person under one of five heat levels: ``BL1`` (baseline,
no heat) and ``PA1``-``PA4`` (from the person's own pain threshold up to their tolerance).
The database codes no action units and no frame-level PSPI: its label is the sample's level.
Faces show little at the lower levels, so the reader takes the task the literature reports
for the face alone, baseline against tolerance: ``BL1`` samples are labelled ``pain`` 0 on
every frame, ``PA4`` samples ``pain`` 1 on every frame, and ``PA1``-``PA3`` are left out
(``BIOVID_PAIN``). PSPI and the AUs are NaN: benchmarks
report pain detection and alarms, not PSPI agreement, and only the pain evidence can be
trained on it (``painvision train --scorer combined``). The extra label ``heat_level`` is
the class as 0-4.

The database is licence-restricted; painvision ships none of it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from painvision.errors import InputError

__all__ = ["BIOVID_LEVELS", "biovid_samples", "is_biovid", "read_biovid_labels"]

#: Heat level of each class (the ``heat_level`` label).
BIOVID_LEVELS: dict[str, int] = {"BL1": 0, "PA1": 1, "PA2": 2, "PA3": 3, "PA4": 4}
#: The ``pain`` label of the classes read; the others are skipped.
BIOVID_PAIN: dict[str, float] = {"BL1": 0.0, "PA4": 1.0}
_VIDEO_EXT = (".mp4", ".avi", ".mov", ".mkv")
_NAME = re.compile(r"^(?P<subject>.+)-(?P<cls>BL1|PA[1-4])-(?P<number>\d+)$")


def _videos(root: Path) -> list[Path]:
    folder = root / "video"
    if not folder.is_dir():
        return []
    return sorted(p for subject in folder.iterdir() if subject.is_dir()
                  and not subject.name.startswith(".")
                  for p in subject.iterdir()
                  if p.suffix.lower() in _VIDEO_EXT and not p.name.startswith(".")
                  and _NAME.match(p.stem))


def is_biovid(root: str | Path) -> bool:
    """A ``video/`` folder of subject folders holding ``<subject>-<class>-<n>`` videos."""
    return bool(_videos(Path(root)))


def biovid_samples(root: str | Path) -> list[tuple[str, str, str, Path]]:
    """``(clip id, subject, class, video)`` of every ``BL1`` and ``PA4`` sample, sorted.

    Raises:
        InputError: the folder is not in the layout, or a video's name does not start with
            its folder's subject.
    """
    r = Path(root)
    out = []
    for video in _videos(r):
        m = _NAME.match(video.stem)
        assert m is not None  # _videos keeps only matching names
        if m["subject"] != video.parent.name:
            raise InputError(f"{video}: the name says subject {m['subject']}, its folder "
                             f"{video.parent.name}")
        if m["cls"] in BIOVID_PAIN:
            out.append((video.stem, video.parent.name, m["cls"], video))
    if not out:
        raise InputError(f"{r}: no BL1 or PA4 samples under video/")
    return out


def read_biovid_labels(video: str | Path) -> dict[str, np.ndarray]:
    """Per-frame labels of one sample, as the generic reader returns them: ``pain`` from its
    class, ``heat_level`` 0-4, PSPI and the AUs NaN (not coded). The frame count is the
    container's, or counted where it does not say."""
    import cv2

    path = Path(video)
    m = _NAME.match(path.stem)
    if m is None or m["cls"] not in BIOVID_PAIN:
        raise InputError(f"{path}: not a BioVid BL1 or PA4 sample name")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise InputError(f"{path}: cannot be opened as a video")
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if n <= 0:  # a container that does not say: count them (grabbed, not decoded)
            n = 0
            while cap.grab():
                n += 1
    finally:
        cap.release()
    if n <= 0:
        raise InputError(f"{path}: the video reports no frames")
    nan = np.full(n, np.nan, np.float32)
    cols = {k: nan.copy() for k in ("pspi", "au4", "au6", "au7", "au9", "au10", "au43")}
    cols["frame"] = np.arange(n, dtype=np.int64)
    cols["pain"] = np.full(n, BIOVID_PAIN[m["cls"]], np.float32)
    cols["heat_level"] = np.full(n, BIOVID_LEVELS[m["cls"]], np.float32)
    return cols
