"""What the pain evidence's inputs look like on the held-out face and on the training faces,
by what the face is doing: where the cross-face gap of issue #13 comes from.

For every labelled frame of two rendered datasets read through the real MediaPipe front
end (landmarks cached), the evidence channels (``features.evidence.CHANNELS``: each AU in
FACS units from the person's own neutral, and the eyes' closure) are taken as ``analyze``
takes them, and summarised per activity (pain frames, and the look-alikes outside pain):
median and 90th percentile of each channel, and the share of frames whose shipped
``pain_prob`` is at least 0.5.

- ``bench/heldout-large``: the held-out benchmark (Grace Hopper's photo, never trained
  on; made by ``scripts/heldout_benchmark.py``);
- ``bench/evidence-rendered``: training renders (the astronaut photo; made by
  ``scripts/train_pain_evidence.py``). The shipped evidence was trained on these, so
  their pain_prob shares are in-sample.

Nothing here is fitted: it is a look at the data, so that a change meant for unseen
faces is not chosen by its score on the held-out set.

    python scripts/channel_shift.py [--json docs/channel_shift.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from painvision.classifier.evidence_train import clip_channels
from painvision.classifier.train import load_clips
from painvision.datasets import ACTIVITIES
from painvision.features.analytic import AnalyticScorer
from painvision.features.evidence import CHANNELS, PainEvidence, evidence_features

ROOT = Path(__file__).resolve().parents[1]
DATASETS = {"held-out (Grace Hopper)": ROOT / "bench" / "heldout-large",
            "training renders (astronaut)": ROOT / "bench" / "evidence-rendered"}
SHOWN = ("none", "laugh", "cry", "yawn", "squint", "disgust", "sleep")


def summarise(path: Path, analytic: AnalyticScorer, evidence: PainEvidence) -> dict:
    clips = [clip_channels(c, analytic) for c in load_clips(path)]
    x = np.concatenate([c.channels for c in clips])
    prob = np.concatenate([evidence.prob(evidence_features(c.channels, c.t)) for c in clips])
    act = np.concatenate([c.activity for c in clips]).astype(int)
    pain = np.concatenate([c.pain for c in clips]) > 0
    out = {}
    groups = [("pain", pain)] + [(a, (act == ACTIVITIES.index(a)) & ~pain) for a in SHOWN]
    for name, m in groups:
        m = m & np.isfinite(x).all(axis=1)
        if not m.any():
            continue
        med = np.round(np.median(x[m], axis=0), 2).tolist()
        p90 = np.round(np.percentile(x[m], 90, axis=0), 2).tolist()
        out[name] = {
            "frames": int(m.sum()),
            "median": dict(zip(CHANNELS, med, strict=True)),
            "p90": dict(zip(CHANNELS, p90, strict=True)),
            "pain_prob_at_least_0.5": round(float(np.mean(prob[m] >= 0.5)), 3),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    missing = [str(p) for p in DATASETS.values() if not (p / "subjects.csv").exists()]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: run scripts/heldout_benchmark.py and "
                 "scripts/train_pain_evidence.py first")
    analytic, evidence = AnalyticScorer(), PainEvidence.load()
    report = {name: summarise(p, analytic, evidence) for name, p in DATASETS.items()}
    cols = ("au4", "au6", "au7", "au9", "au10", "au25", "au26", "closure")
    for name, groups in report.items():
        print(f"\n{name}: median (90th percentile) per channel, FACS units from the neutral")
        print(f"{'':8s} {'frames':>7s} " + " ".join(f"{c:>12s}" for c in cols)
              + "  pain_prob>=0.5")
        for g, s in groups.items():
            print(f"{g:8s} {s['frames']:7d} "
                  + " ".join(f"{s['median'][c]:5.2f} ({s['p90'][c]:4.1f})" for c in cols)
                  + f"  {100 * s['pain_prob_at_least_0.5']:5.1f} %")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
