"""Reader for the UNBC-McMaster Shoulder Pain Expression Archive, as distributed.

```
UNBC/
  Images/<subject>/<sequence>/<frame>.png
  Frame_Labels/PSPI/<subject>/<sequence>/<frame>_facs.txt   one number: the frame's PSPI
  Frame_Labels/FACS/<subject>/<sequence>/<frame>_facs.txt   lines "AU intensity"
```

The archive is licence-restricted; painvision ships none of it. Each sequence becomes a
clip whose frames are read from its image folder (``frame rate``: ``UNBC_FPS``, override
per call), whose subject is the folder name, and whose labels come from the FACS files
(AU4, 6, 7, 9, 10 intensities; AU43 present -> 1) and the PSPI files. UNBC codes no pain
*episodes*: ``pain`` is set to 1 where PSPI >= 1, the archive's usual binary label.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from painvision.errors import InputError

__all__ = ["UNBC_FPS", "is_unbc", "read_unbc_labels", "unbc_sequences"]

#: Frame rate assumed for the image sequences (check it against your copy).
UNBC_FPS = 30.0
_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp")


def is_unbc(root: str | Path) -> bool:
    r = Path(root)
    return (r / "Images").is_dir() and (r / "Frame_Labels" / "PSPI").is_dir()


def _frames(folder: Path) -> list[Path]:
    """The frame images of a sequence, hidden files (macOS's ``._0001.png``) left out, as
    ``io.video.image_files`` reads them."""
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() in _IMAGE_EXT and not p.name.startswith("."))


def unbc_sequences(root: str | Path) -> list[tuple[str, str, Path]]:
    """``(clip id, subject, image folder)`` for every sequence, sorted."""
    r = Path(root)
    if not is_unbc(r):
        raise InputError(f"{r} is not in the UNBC layout (Images/ and Frame_Labels/PSPI/)")
    out = []
    for subject in sorted(p for p in (r / "Images").iterdir() if p.is_dir()):
        for seq in sorted(p for p in subject.iterdir() if p.is_dir()):
            if _frames(seq):
                out.append((f"{subject.name}/{seq.name}", subject.name, seq))
    if not out:
        raise InputError(f"{r}: no image sequences under Images/")
    return out


def _number(path: Path) -> float:
    text = path.read_text(encoding="utf-8").split()
    if not text:
        raise InputError(f"{path}: empty label file")
    return float(text[0])


def read_unbc_labels(root: str | Path, clip_id: str) -> dict[str, np.ndarray]:
    """Per-frame labels of one sequence, as the generic reader returns them."""
    r = Path(root)
    subject, seq = clip_id.split("/", 1)
    frames = _frames(r / "Images" / subject / seq)
    n = len(frames)
    cols = {k: np.zeros(n, np.float32) for k in ("pspi", "au4", "au6", "au7", "au9", "au10",
                                                   "au43")}
    for i, img in enumerate(frames):
        pspi_file = r / "Frame_Labels" / "PSPI" / subject / seq / f"{img.stem}_facs.txt"
        if not pspi_file.is_file():
            raise InputError(f"{clip_id}: no PSPI label for frame {img.name} ({pspi_file})")
        cols["pspi"][i] = _number(pspi_file)
        facs = r / "Frame_Labels" / "FACS" / subject / seq / f"{img.stem}_facs.txt"
        if facs.is_file():
            for line in facs.read_text(encoding="utf-8").splitlines():
                parts = line.split()
                if len(parts) < 2:
                    continue
                au, level = int(round(float(parts[0]))), float(parts[1])
                if au == 43:
                    cols["au43"][i] = 1.0
                elif f"au{au}" in cols:
                    cols[f"au{au}"][i] = level
    cols["frame"] = np.arange(n, dtype=np.int64)
    cols["pain"] = (cols["pspi"] >= 1.0).astype(np.float32)
    return cols
