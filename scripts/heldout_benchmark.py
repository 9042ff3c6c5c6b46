"""The held-out rendered benchmark: both scorers on identities never seen in training,
with the real MediaPipe front end in the loop.

Builds (once, seeded) a rendered dataset of held-out identities only in
bench/heldout-large (12 identities, 24 minutes: large enough that every subject has pain
episodes and the intervals over subjects are useful; the first, 6-minute version had
subjects without any episode),
then runs ``painvision bench accuracy`` on it (landmarks cached, see
painvision.landmarks.cache): PSPI agreement, pain detection (the analytic scorer has no
pain probability: its PSPI / 16 stands in), episodes, and, on frames outside pain
episodes, the share where the pain score stays below 0.5, overall and while the face
does something else (smiles, talking / yawning / chewing, blinks, brow raises).

Usage:
  python scripts/heldout_benchmark.py [--dataset bench/heldout-large] [--weights PATH]
                                      [--json OUT.json] [--markdown OUT.md]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from painvision.bench.accuracy import accuracy_markdown, run_accuracy
from painvision.fileio import shown_path
from painvision.synth.dataset import SynthConfig, write_dataset

ROOT = Path(__file__).resolve().parent.parent
BENCH = SynthConfig(subjects=12, minutes=24.0, render=True, seed=300, heldout_share=1.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default=str(ROOT / "bench" / "heldout-large"))
    ap.add_argument("--weights", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    dataset = Path(args.dataset)
    if not (dataset / "subjects.csv").exists():
        print(f"building {dataset} ({BENCH})")
        write_dataset(dataset, BENCH, workers=2)
    report = run_accuracy(dataset, ("combined", "analytic", "model"), weights=args.weights,
                          device="cpu")
    report["dataset"] = shown_path(dataset, ROOT)
    text = accuracy_markdown(report)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=float) + "\n",
                                   encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
