"""How strongly each geometric signal answers each action unit, per rendered dataset.

For every clip of each dataset (rendered videos through the real MediaPipe front end;
landmarks are cached, so a dataset already benchmarked costs no MediaPipe time), the
signals' fall below the clip's neutral is regressed, over all face frames pooled, on the
true intensities of the pain AUs and of the confounders (brow raise, smile, jaw drop,
blink) with an intercept. A coefficient is the signal's fall, in thousandths of an IOD,
per intensity point of that AU with the others held fixed. Two datasets built from
different photos show how differently the front end follows two faces. A dataset whose
identities partly wear drawn glasses (``subjects.csv`` column ``glasses``) is reported
in two groups, without and with them. The coefficients are rough: pain AUs act together,
so the regression shares movement between them unevenly; compare large differences only.

Usage: python scripts/signal_response.py bench/train-rendered bench/heldout-large
           [--json docs/signal_response.json]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from painvision.classifier.train import load_clips
from painvision.features.geometry import SIGNAL_NAMES

PAIN_AUS = ("au4", "au6", "au7", "au9", "au10")
OTHERS = ("au1", "au12", "au26", "au45")


def _wears_drawn_glasses(root: str) -> dict[str, bool]:
    """Clip id -> whether its identity wears drawn glasses (empty if not recorded)."""
    with open(Path(root) / "subjects.csv", newline="", encoding="utf-8") as fh:
        return {r["id"]: r.get("glasses", "{}") not in ("", "{}") for r in csv.DictReader(fh)}


def responses(root: str) -> list[dict[str, object]]:
    clips = load_clips(root)  # cut to the labelled frames, prepared as for training
    glasses = _wears_drawn_glasses(root)
    groups = {(False,): clips}
    if any(glasses.values()):
        groups = {(g,): [c for c in clips if glasses.get(c.id, False) == g] for g in (False, True)}
    return [_fit(f"{root}" + ("" if len(groups) == 1 else
                              " (drawn glasses)" if g else " (no drawn glasses)"), part)
            for (g,), part in groups.items()]


def _fit(name: str, clips: list) -> dict[str, object]:
    drops, aus = [], []
    for clip in clips:
        inputs = clip.inputs
        d = inputs.neutral.baseline.values[None, :] - inputs.signals
        y = np.stack([clip.labels[a].astype(float) for a in PAIN_AUS + OTHERS], axis=1)
        ok = inputs.valid & np.isfinite(d).all(axis=1) & np.isfinite(y).all(axis=1)
        drops.append(d[ok])
        aus.append(y[ok])
    d, y = np.concatenate(drops), np.concatenate(aus)
    coef = np.linalg.lstsq(np.c_[y, np.ones(len(y))], d, rcond=None)[0]
    return {"dataset": name, "frames": int(len(d)),
            "milli_iod_per_point": {a: {s: round(float(1000 * coef[i, j]), 1)
                                        for j, s in enumerate(SIGNAL_NAMES)}
                                    for i, a in enumerate(PAIN_AUS + OTHERS)}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("datasets", nargs="+")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    out = [r for d in args.datasets for r in responses(d)]
    for r in out:
        print(f"\n{r['dataset']} ({r['frames']} frames), thousandths of an IOD per AU point")
        print("| AU | " + " | ".join(SIGNAL_NAMES) + " |")
        print("|---" * (len(SIGNAL_NAMES) + 1) + "|")
        for a in PAIN_AUS:
            row = r["milli_iod_per_point"][a]
            print(f"| {a} | " + " | ".join(f"{row[s]:.1f}" for s in SIGNAL_NAMES) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
