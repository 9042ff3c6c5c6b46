"""Compare a `painvision analyze` CSV with a ground-truth labels CSV.

Usage: python scripts/score_against_labels.py OUT.csv LABELS.csv
Prints the share of frames with a face, Pearson r and MAE of PSPI on scored frames,
and per-AU Pearson r, as JSON.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from scipy.stats import pearsonr

AUS = ("au4", "au6", "au7", "au9", "au10", "au43")


def load(path: str) -> dict[str, np.ndarray]:
    data = np.genfromtxt(path, delimiter=",", names=True, dtype=float)
    return {name: data[name] for name in data.dtype.names}


def main(pred_csv: str, labels_csv: str) -> dict[str, object]:
    pred = load(pred_csv)
    truth = load(labels_csv)
    frames = pred["frame"].astype(int)
    gt = {k: v[frames] for k, v in truth.items()}
    ok = np.isfinite(pred["pspi"])
    report: dict[str, object] = {
        "frames": int(frames.size),
        "share_face": round(float(pred["face_detected"].mean()), 4),
        "share_scored": round(float(ok.mean()), 4),
        "pspi_pearson": round(float(pearsonr(pred["pspi"][ok], gt["pspi"][ok])[0]), 4),
        "pspi_mae": round(float(np.abs(pred["pspi"][ok] - gt["pspi"][ok]).mean()), 4),
    }
    per_au = {}
    for au in AUS:
        x, y = pred[au][ok], gt[au][ok]
        per_au[au] = None if x.std() == 0 or y.std() == 0 else round(float(pearsonr(x, y)[0]), 3)
    report["au_pearson"] = per_au
    return report


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(json.dumps(main(sys.argv[1], sys.argv[2]), indent=2))
