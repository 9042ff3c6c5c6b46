"""Render the face mesh with the indices painvision relies on, for a visual check.

Usage: python scripts/render_mesh_indices.py OUT.png [--photo grace_hopper|astronaut]
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from painvision.landmarks import indices as ix
from painvision.synth.faces import load_photo, photo_landmarks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--photo", default="grace_hopper")
    ap.add_argument("--scale", type=float, default=3.0)
    args = ap.parse_args()
    img = load_photo(args.photo)
    lm = photo_landmarks(img)
    h, w = img.shape[:2]
    big = cv2.resize(img, None, fx=args.scale, fy=args.scale, interpolation=cv2.INTER_CUBIC)
    pts = lm[:, :2] * np.array([w, h]) * args.scale
    groups = {
        (0, 255, 0): ix.RIGHT_UPPER_LID + ix.LEFT_UPPER_LID,
        (0, 160, 0): ix.RIGHT_LOWER_LID + ix.LEFT_LOWER_LID,
        (255, 0, 0): ix.RIGHT_BROW_UPPER + ix.LEFT_BROW_UPPER + ix.RIGHT_BROW_LOWER
        + ix.LEFT_BROW_LOWER,
        (0, 255, 255): ix.RIGHT_CHEEK + ix.LEFT_CHEEK,
        (255, 0, 255): ix.RIGHT_ALA + ix.LEFT_ALA + (ix.SUBNASALE, ix.NOSE_TIP),
        (0, 0, 255): ix.UPPER_LIP_OUTER + ix.UPPER_LIP_INNER_ROW,
        (255, 255, 255): ix.STABLE_POINTS,
    }
    for color, idx in groups.items():
        for i in idx:
            x, y = pts[i]
            cv2.circle(big, (int(x), int(y)), 3, color, -1)
            cv2.putText(big, str(i), (int(x) + 3, int(y) - 3), cv2.FONT_HERSHEY_PLAIN, 0.8, color)
    x0, y0 = pts[:468, 0].min() - 20, pts[:468, 1].min() - 40
    x1, y1 = pts[:468, 0].max() + 20, pts[:468, 1].max() + 20
    crop = big[int(max(y0, 0)) : int(y1), int(max(x0, 0)) : int(x1)]
    cv2.imwrite(args.out, crop)


if __name__ == "__main__":
    main()
