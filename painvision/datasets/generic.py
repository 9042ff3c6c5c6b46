"""The generic dataset format.

```
DATASET/
  videos/<id>.mp4        rendered clips (or, for landmark-only data:)
  landmarks/<id>.npz     t (T,), landmarks (T, 478, 3) MediaPipe-normalised, NaN where no
                         face, detected (T,), width, height, fps
  labels/<id>.csv        frame,pspi,au4,au6,au7,au9,au10,au43,pain[,extra AU columns]
  subjects.csv           id,subject,split[,...]: which subject each clip shows
  meta.json              how the dataset was made (optional)
```

``pain`` is 1 on frames inside a pain episode. ``split`` is ``train`` or ``heldout``;
splits keep subjects apart, and training code must split by ``subject`` too. The optional
``activity`` column says what the face is doing, as a code into ``ACTIVITIES`` (0: nothing
in particular; 1: a pain episode; the others are the look-alikes of pain).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from painvision.errors import InputError
from painvision.types import N_LANDMARKS, LandmarkTrack

__all__ = ["ACTIVITIES", "LABEL_COLUMNS", "LOOK_ALIKES", "DatasetItem", "item_labels",
           "load_dataset", "read_labels",
           "read_landmarks"]

#: Codes of the ``activity`` label column.
ACTIVITIES: tuple[str, ...] = ("none", "pain", "laugh", "smile", "cry", "yawn", "talk", "chew",
                               "cough", "sneeze", "disgust", "squint", "sleep", "brow_raise")
#: The activities that put pain's action units on a face without pain.
LOOK_ALIKES: tuple[str, ...] = ("laugh", "cry", "yawn", "cough", "sneeze", "disgust", "squint",
                                "sleep")

#: The splits a dataset's subjects.csv may give.
SPLITS: tuple[str, ...] = ("train", "heldout")
#: Required label columns, in order.
LABEL_COLUMNS: tuple[str, ...] = ("frame", "pspi", "au4", "au6", "au7", "au9", "au10", "au43",
                                  "pain")


@dataclass(frozen=True, slots=True)
class DatasetItem:
    """One clip of a dataset.

    ``video`` is a video file or, for image-sequence datasets (UNBC), a folder of frames
    read at ``fps``; ``root`` and ``kind`` say how to read the labels (``item_labels``).
    """

    id: str
    subject: str
    split: str
    labels: Path | None
    video: Path | None
    landmarks: Path | None
    root: Path | None = None
    kind: str = "generic"
    fps: float | None = None


def load_dataset(root: str | Path, split: str | None = None) -> list[DatasetItem]:
    """The clips of a dataset, optionally of one split: the generic format, the
    UNBC-McMaster archive's own layout (recognised by its ``Images/`` and
    ``Frame_Labels/PSPI/`` folders), the BioVid Heat Pain Database's part A (its
    ``video/<subject>/<subject>-<class>-<n>.mp4``; ``datasets.biovid``), or a folder of
    ``<id>.mp4`` with ``<id>.labels.csv`` beside each (as ``sample_videos/``). The last
    three put every clip in split ``train``.

    Raises:
        InputError: the folder is not a dataset, or a clip has no labels or no data.
    """
    root = Path(root)
    from painvision.datasets.unbc import UNBC_FPS, is_unbc, unbc_sequences

    if split not in (None, *SPLITS):
        raise InputError(f"unknown split {split!r}: expected {' or '.join(SPLITS)}")

    if is_unbc(root):
        if split not in (None, "train"):
            return []
        return [DatasetItem(cid, subject, "train", None, folder, None, root, "unbc", UNBC_FPS)
                for cid, subject, folder in unbc_sequences(root)]
    if not root.is_dir():
        raise InputError(f"{root} is not a folder")
    from painvision.datasets.biovid import biovid_samples, is_biovid

    if is_biovid(root):
        if split not in (None, "train"):
            return []
        return [DatasetItem(cid, subject, "train", None, video, None, root, "biovid")
                for cid, subject, _cls, video in biovid_samples(root)]
    subjects = root / "subjects.csv"
    pairs = sorted(root.glob("*.labels.csv"))
    if not subjects.is_file() and pairs:
        # A folder of <id>.mp4 + <id>.labels.csv pairs (as sample_videos/): one subject a clip.
        items = []
        for labels in pairs:
            cid = labels.name[: -len(".labels.csv")]
            video = root / f"{cid}.mp4"
            if not video.is_file():
                raise InputError(f"{root}: {labels.name} has no {video.name} beside it")
            items.append(DatasetItem(cid, cid, "train", labels, video, None, root))
        return [] if split not in (None, "train") else items
    if not subjects.is_file():
        if is_biovid(root.parent) and root.resolve() == (root.parent / "video").resolve():
            raise InputError(f"{root} is BioVid's video folder: give the folder above it "
                             f"({root.parent})")
        raise InputError(f"{root} is not a painvision dataset: {subjects} is missing")
    items = []
    with open(subjects, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"id", "subject"} - set(reader.fieldnames or ())
        if missing:
            raise InputError(f"{subjects}: missing column(s) {sorted(missing)}")
        for row in reader:
            item_split = row.get("split") or "train"
            if split is not None and item_split != split:
                continue
            cid = row["id"]
            labels = root / "labels" / f"{cid}.csv"
            video = root / "videos" / f"{cid}.mp4"
            lms = root / "landmarks" / f"{cid}.npz"
            if not labels.is_file():
                raise InputError(f"{root}: clip {cid} has no labels ({labels})")
            if not video.is_file() and not lms.is_file():
                raise InputError(f"{root}: clip {cid} has neither {video.name} nor {lms.name}")
            items.append(DatasetItem(cid, row["subject"], item_split, labels,
                                     video if video.is_file() else None,
                                     lms if lms.is_file() else None, root))
    return items


def item_labels(item: DatasetItem) -> dict[str, np.ndarray]:
    """The labels of a clip, whatever the dataset's layout."""
    if item.kind == "unbc":
        from painvision.datasets.unbc import read_unbc_labels

        return read_unbc_labels(item.root, item.id)
    if item.kind == "biovid":
        from painvision.datasets.biovid import read_biovid_labels

        assert item.video is not None
        return read_biovid_labels(item.video)
    if item.labels is None:
        raise InputError(f"clip {item.id} has no labels")
    return read_labels(item.labels)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _damaged(path: str | Path, header: list[str], rows: list[list[str]],
             lines: list[int]) -> InputError:
    """The first row of a labels file that is not as many numbers as the header has
    columns, named by its line in the file."""
    for line, r in zip(lines, rows, strict=True):
        if len(r) != len(header):
            return InputError(f"{path}:{line}: {len(r)} values where the header has "
                              f"{len(header)}")
        bad = [v for v in r if not _is_number(v)]
        if bad:
            return InputError(f"{path}:{line}: {bad[0]!r} is not a number")
    return InputError(f"{path}: cannot be read as numbers")


def read_labels(path: str | Path) -> dict[str, np.ndarray]:
    """Label columns by name, ``(T,) float32`` each (``frame`` as int64)."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise InputError(f"{path}: empty labels file")
        missing = [c for c in LABEL_COLUMNS if c not in header]
        if missing:
            raise InputError(f"{path}: missing label column(s) {missing}")
        rows, lines = [], []
        for r in reader:
            if r:
                rows.append(r)
                lines.append(reader.line_num)
    try:  # parsed once; a damaged file is looked through for its first bad line
        data = np.array(rows, dtype=np.float64).reshape(len(rows), len(header))
    except ValueError:
        raise _damaged(path, header, rows, lines) from None
    out = {name: data[:, k].astype(np.float32) for k, name in enumerate(header)}
    out["frame"] = data[:, header.index("frame")].astype(np.int64)
    return out


def read_landmarks(path: str | Path) -> LandmarkTrack:
    """A landmark-only clip as a ``LandmarkTrack``."""
    with np.load(path, allow_pickle=False) as z:
        lm = z["landmarks"].astype(np.float32)
        if lm.ndim != 3 or lm.shape[1:] != (N_LANDMARKS, 3):
            raise InputError(f"{path}: landmarks must be (T, 478, 3), got {lm.shape}")
        t = z["t"].astype(np.float64)
        detected = z["detected"].astype(bool)
        n = t.shape[0]
        return LandmarkTrack(
            t=t, frame_index=np.arange(n, dtype=np.int64), landmarks=lm, detected=detected,
            confidence=detected.astype(np.float32), n_faces=detected.astype(np.int16),
            width=int(z["width"]), height=int(z["height"]),
        )
