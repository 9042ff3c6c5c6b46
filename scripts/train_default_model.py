"""Train the shipped model, painvision/classifier/data/painvision-default.pt, from generated
data, and export it to ONNX beside it (scripts/export_default_onnx.py).

1. bench/train-landmarks: landmark sequences, 24 training identities, 60 min (seed 1).
2. bench/train-rendered: rendered videos, 12 training identities, 24 min (seed 2), put
   through the real MediaPipe front end (cached), so the model also learns how MediaPipe
   reports faces (it moves the whole mesh on a blink, shortens the nose when the eyes
   close...), which the landmark generator's noise model only approximates.
3. tcn_small trained on both (sampled half and half), early stopping on whole subjects.
4. Both scorers on the held-out rendered benchmark (scripts/heldout_benchmark.py):
   identities from a photo and shape seeds never used in training.

Outputs: painvision/classifier/data/painvision-default.pt and its ONNX export
(painvision-default.onnx, .onnx.json), weights/training_report.json,
weights/benchmark.json, weights/benchmark.md. Deterministic for the seeds below on one
machine (CPU); about 17 minutes on 2 cores (8 of them rendering and MediaPipe).

Usage: python scripts/train_default_model.py [--epochs 40]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

from painvision.classifier.scorer import DEFAULT_WEIGHTS, SHIPPED_DIR
from painvision.classifier.train import (
    TrainConfig,
    balance_datasets,
    load_clips,
    train_and_report,
)
from painvision.classifier.weights import save_weights
from painvision.synth.dataset import SynthConfig, write_dataset

ROOT = Path(__file__).resolve().parent.parent
DATA = {
    "train-landmarks": SynthConfig(subjects=24, minutes=60.0, seed=1, heldout_share=0.0),
    "train-rendered": SynthConfig(subjects=12, minutes=24.0, seed=2, render=True,
                                  heldout_share=0.0),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--out", default=str(SHIPPED_DIR / DEFAULT_WEIGHTS))
    ap.add_argument("--reports", default=None,
                    help="folder for training_report.json and benchmark.json/.md (default: "
                         "weights/ for the shipped model, else the folder of --out)")
    ap.add_argument("--inputs", default="all", choices=["all", "signals"],
                    help="features the model sees (TrainConfig.inputs)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    clips = []
    for name, cfg in DATA.items():
        path = ROOT / "bench" / name
        if not (path / "subjects.csv").exists():
            write_dataset(path, cfg, workers=2)
        part = load_clips(path, workers=2, prefix_subjects=True)
        clips += part
        print(f"{name}: {len(part)} clips, {time.perf_counter() - t0:.0f} s", flush=True)
    frames = balance_datasets(clips)  # half the training windows from each dataset
    cfg = TrainConfig(model="tcn_small", epochs=args.epochs, steps_per_epoch=50, patience=10,
                      seed=0, inputs=args.inputs)
    model, report = train_and_report(
        clips, cfg, torch.device("cpu"),
        on_progress=lambda label, d, n: print(f"{label} epoch {d}/{n} "
                                              f"{time.perf_counter() - t0:.0f} s", flush=True))
    report["datasets"] = {n: {"config": {k: getattr(c, k) for k in c.__dataclass_fields__},
                              "frames": frames[n]} for n, c in DATA.items()}
    out = Path(args.out)
    save_weights(out, model, {"name": "painvision-default", "trained_by":
                              "scripts/train_default_model.py", "config": report["config"],
                              "datasets": report["datasets"]})
    shipped = out.resolve() == (SHIPPED_DIR / DEFAULT_WEIGHTS).resolve()
    reports = Path(args.reports or (ROOT / "weights" if shipped else out.parent))
    (reports / "training_report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out} ({time.perf_counter() - t0:.0f} s)", flush=True)
    # its ONNX export beside it: what an install without PyTorch scores with
    subprocess.run([sys.executable, str(ROOT / "scripts" / "export_default_onnx.py"),
                    "--weights", str(out), "--out", str(out.with_suffix(".onnx"))], check=True)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "heldout_benchmark.py"),
                    "--weights", str(out), "--json", str(reports / "benchmark.json"),
                    "--markdown", str(reports / "benchmark.md")], check=True)


if __name__ == "__main__":
    main()
