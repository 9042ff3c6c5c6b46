"""Contact sheet of rendered synthetic frames: docs/contact_sheet.png.

Rows: a training identity (from the astronaut photo) and a held-out identity (from the
Grace Hopper photo), each at PSPI 0, ~4, ~8 and ~12, then the same identities doing
things that are not pain (talking, yawn, brow raise, head turned 25 deg). (The
astronaut photo smiles already; a Duchenne smile is in the tests, not on the sheet.)

Usage: python scripts/make_contact_sheet.py [--out docs/contact_sheet.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from painvision.synth.identity import sample_identities
from painvision.synth.render import identity_rig
from painvision.types import compute_pspi

ROOT = Path(__file__).resolve().parent.parent
PAIN = [
    ({}, 0.0),
    ({"au4": 1.5, "au6": 1.0, "au7": 1.5, "au9": 1.0, "au10": 0.5}, 0.0),
    ({"au4": 3.0, "au6": 2.5, "au7": 3.0, "au9": 2.0, "au10": 1.5}, 0.0),
    ({"au4": 4.0, "au6": 3.5, "au7": 3.0, "au9": 3.5, "au10": 3.0}, 1.0),
]
OTHER = [
    ("smile (AU6+12)", {"au12": 4.0, "au6": 2.4}, 0.0, 0.0),  # not drawn: see module doc
    ("talking (AU26)", {"au26": 2.0}, 0.0, 0.0),
    ("yawn", {"au26": 5.0, "au1": 1.0}, 0.6, 0.0),
    ("brow raise", {"au1": 3.5}, 0.0, 0.0),
    ("turned 25 deg", {}, 0.0, 25.0),
]


def _cell(img: np.ndarray, text: str) -> np.ndarray:
    """Crop to the face, enlarge, and label on a dark band."""
    h, w = img.shape[:2]
    crop = img[int(h * 0.12): int(h * 0.82), int(w * 0.22): int(w * 0.78)]
    out = cv2.resize(crop, (320, 300), interpolation=cv2.INTER_CUBIC)
    cv2.rectangle(out, (0, 0), (320, 22), (30, 30, 30), -1)
    cv2.putText(out, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                cv2.LINE_AA)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "docs" / "contact_sheet.png"))
    args = ap.parse_args()
    idents = [sample_identities(2, "train", 0)[1], sample_identities(1, "heldout", 0)[0]]
    rows = []
    for ident in idents:
        rig = identity_rig(ident, (320, 240))
        still = np.array([0, 0, 0, 0, 0, 1.0])
        cells = []
        for drive, closure in PAIN:
            au = {k: drive.get(k, 0.0) for k in ("au4", "au6", "au7", "au9", "au10")}
            pspi = compute_pspi(au["au4"], au["au6"], au["au7"], au["au9"], au["au10"],
                                1.0 if closure >= 0.9 else 0.0)
            label = f"{ident.subject}  PSPI {pspi:.0f}"
            cells.append(_cell(rig.frame(drive, still, closure), label))
        rows.append(np.hstack(cells))
        cells = []
        for name, drive, closure, yaw in OTHER[1:]:
            head = still.copy()
            head[0] = yaw
            cells.append(_cell(rig.frame(drive, head, closure), name))
        rows.append(np.hstack(cells))
    sheet = np.vstack(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out} {sheet.shape[1]}x{sheet.shape[0]}")


if __name__ == "__main__":
    main()
