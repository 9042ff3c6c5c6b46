"""Train the shipped pain evidence, painvision/features/data/pain_evidence.json.

1. bench/evidence-landmarks: landmark sequences of 40 training identities, 160 minutes
   (seed 11), with every look-alike of pain (``synth.scenario``).
2. bench/evidence-rendered and bench/evidence-rendered-2: rendered videos of 12 and 24
   training identities, 24 and 48 minutes (seeds 12, 13), read through the real MediaPipe
   front end (cached), so that the evidence also learns how MediaPipe reports a face
   (``--no-rendered`` leaves them out).
3. The network (``classifier.evidence_train``), each dataset weighing the same, with 15 %
   of the subjects of each dataset held back for early stopping: five networks from
   seeds 0-4, each clip also seen with its eyes closing as its orbits tighten, averaged
   into one (``PainEvidence.average``).

Only training identities are used (the astronaut photo and its shape seeds); the held-out
rendered benchmark (scripts/heldout_benchmark.py, Grace Hopper) never is. Writes the
weights and weights/pain_evidence_report.json. Deterministic for these seeds.

Usage: python scripts/train_pain_evidence.py [--no-rendered] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from painvision.classifier.evidence_train import EvidenceConfig, train_evidence
from painvision.classifier.train import load_clips
from painvision.fileio import atomic_write_text
from painvision.synth.dataset import SynthConfig, write_dataset

ROOT = Path(__file__).resolve().parent.parent
DATA = {
    "evidence-landmarks": SynthConfig(subjects=40, minutes=160.0, seed=11, heldout_share=0.0),
    "evidence-rendered": SynthConfig(subjects=12, minutes=24.0, seed=12, render=True,
                                     heldout_share=0.0),
    "evidence-rendered-2": SynthConfig(subjects=24, minutes=48.0, seed=13, render=True,
                                       heldout_share=0.0),
}
OUT = ROOT / "painvision" / "features" / "data" / "pain_evidence.json"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-rendered", action="store_true")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    datasets, sizes = [], {}
    for name, data in DATA.items():
        if data.render and args.no_rendered:
            continue
        path = ROOT / "bench" / name
        if not (path / "subjects.csv").exists():
            write_dataset(path, data, workers=2)
        clips = load_clips(path, split="train", workers=2, prefix_subjects=True)
        datasets.append(clips)
        sizes[name] = {"clips": len(clips), "subjects": len({c.subject for c in clips}),
                       "frames": int(sum(len(c.track.t[:c.labels["pain"].size])
                                         for c in clips)),
                       "config": {k: getattr(data, k) for k in data.__dataclass_fields__}}
        print(f"{name}: {len(clips)} clips, {time.perf_counter() - t0:.0f} s", flush=True)
    # each dataset weighs the same; 15 % of each one's subjects stop the training
    evidence, report = train_evidence(datasets, EvidenceConfig(), info={
        "name": "pain-evidence-v2", "trained_by": "scripts/train_pain_evidence.py",
        "datasets": sizes})
    out = Path(args.out)
    atomic_write_text(out, json.dumps(evidence.to_dict(), indent=1) + "\n")
    report["datasets"] = sizes
    atomic_write_text(ROOT / "weights" / "pain_evidence_report.json",
                      json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=1))
    print(f"wrote {out} ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
