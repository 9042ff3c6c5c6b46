"""How far the landmark front end lets the model go on the held-out faces themselves.

The shipped model never sees the held-out benchmark's photo. This script asks a different
question: if the model *could* be trained on that photo's own identities, how well would
it score the others? It runs subject-grouped K-fold cross-validation inside the held-out
dataset (every identity tested once, by a model trained with the shipped settings on the
other identities, early stopping on a share of them), pools the out-of-fold predictions
and reports them as the benchmark does (PSPI agreement, pain ROC-AUC, non-pain frames
below 0.5).

With ``--with bench/train-landmarks bench/train-rendered`` every fold also trains on the
shipped model's training data (each dataset, the held-out one included, gives an equal
share of the training windows): what the shipped recipe would reach had a few identities
of the held-out photo been among its training faces.

This is a ceiling for the shipped recipe on that face, not a result to ship: a model
trained on the held-out photo is no longer held out. If even this misses a target, the
target is limited by what MediaPipe reports on that face, the recipe and the amount of
data, not by the gap between the training and held-out photos.

``--evidence`` asks the same of the default scorer's pain evidence: its recipe
(``classifier.evidence_train.train_evidence``, five networks, the shipped settings)
cross-validated inside the held-out dataset, and its out-of-fold pain ROC-AUC pooled. Its
inputs are the AU measures, not the mesh, so the gap between the two ceilings is what the
AU measures leave out on that face. ``--evidence --train-on DATASET`` trains it on another
dataset of the held-out photo (other identities, e.g. ``painvision synth --render
--heldout 1 --seed 301``) instead and tests it on every identity of ``--dataset``: the
ceiling with more faces of that photo than cross-validation leaves.

Usage:
  python scripts/heldout_ceiling.py [--dataset bench/heldout-large] [--folds 3]
                                    [--with DATASET ...] [--epochs 25] [--json OUT.json]
  python scripts/heldout_ceiling.py --evidence [--dataset ...] [--folds 3] [--json OUT.json]
  python scripts/heldout_ceiling.py --evidence --train-on DATASET [--save-evidence OUT.json]
                                    [--dataset ...] [--json OUT.json]
(about 9 minutes on 2 cores for 3 folds over bench/heldout-large alone, landmarks
cached; about 30 with the training data; about 4 with --evidence)
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from painvision.bench.accuracy import non_pain_shares, pooled_metrics
from painvision.classifier.train import (
    TrainConfig,
    balance_datasets,
    cross_validate,
    load_clips,
    predict,
)
from painvision.fileio import atomic_write_text, shown_path
from painvision.types import AU_NAMES

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default=str(ROOT / "bench" / "heldout-large"))
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--with", dest="extra", nargs="*", default=[],
                    help="datasets added to every fold's training set")
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--json", default=None)
    ap.add_argument("--evidence", action="store_true",
                    help="cross-validate the pain evidence instead of the model")
    ap.add_argument("--train-on", default=None,
                    help="with --evidence: train on this dataset, test on --dataset")
    ap.add_argument("--save-evidence", default=None,
                    help="with --train-on: write the evidence (JSON) for bench accuracy")
    args = ap.parse_args()
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    if args.train_on and not args.evidence:
        ap.error("--train-on is for --evidence")
    if args.save_evidence and not args.train_on:
        ap.error("--save-evidence needs --train-on")
    if args.evidence:
        if args.extra:
            ap.error("--with is for the model; --evidence cross-validates the dataset alone")
        evidence_ceiling(args, t0)
        return
    clips = load_clips(args.dataset, workers=2, prefix_subjects=True)
    extra = [c for d in args.extra for c in load_clips(d, workers=2, prefix_subjects=True)]
    frames = balance_datasets(clips + extra)  # an equal share of windows from each
    cfg = TrainConfig(model="tcn_small", epochs=args.epochs, steps_per_epoch=50, patience=8,
                      seed=0, folds=args.folds)
    device = torch.device("cpu")
    keys = (*AU_NAMES, "pspi", "pain_prob")
    pred: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    truth: dict[str, list[np.ndarray]] = {}
    folds = []
    def progress(label: str, done: int, total: int) -> None:
        print(f"{label} epoch {done}/{total} {time.perf_counter() - t0:.0f} s", flush=True)

    for fold in cross_validate(clips, cfg, device, np.random.default_rng(cfg.seed), progress,
                               extra=extra):
        folds.append({"fold": fold.index, "test_subjects": fold.test_subjects,
                      "epochs_run": fold.info["epochs_run"]})
        for clip in fold.test:
            out = predict(fold.model, clip, device)
            for k in keys:
                pred[k].append(out[k])
            for k, v in clip.labels.items():
                truth.setdefault(k, []).append(np.asarray(v, dtype=float))
    p = {k: np.concatenate(v) for k, v in pred.items()}
    p["pain_score"] = p.pop("pain_prob")
    t = {k: np.concatenate(v) for k, v in truth.items()}
    report = {"dataset": shown_path(args.dataset, ROOT),
              "with": [shown_path(d, ROOT) for d in args.extra], "frames": frames,
              "config": asdict(cfg), "folds": folds,
              "pooled": pooled_metrics(p, t),
              "non_pain_below_0.5": non_pain_shares(p["pain_score"], t, 0.5),
              "seconds": round(time.perf_counter() - t0)}
    m = report["pooled"]
    print(f"out-of-fold over {len(folds)} folds: PSPI r {m['pspi']['pearson']:.3f}, "
          f"MAE {m['pspi']['mae']:.3f}, ICC(3,1) {m['pspi']['icc31']:.3f}, "
          f"pain ROC-AUC {m['pain_roc_auc']:.3f}")
    for name, v in report["non_pain_below_0.5"].items():
        if v["share_below"] is not None:
            print(f"  pain_prob < 0.5 on {name}: {100 * v['share_below']:.1f} % "
                  f"of {v['frames']} frames")
    if args.json:
        _write_json(args.json, report)


def _write_json(path: str, obj: dict, indent: int = 2) -> None:
    atomic_write_text(path, json.dumps(obj, indent=indent, default=float) + "\n")


def evidence_ceiling(args: argparse.Namespace, t0: float) -> None:
    """``--evidence``: the pain evidence's recipe, cross-validated inside the dataset."""
    from painvision.classifier.evidence_train import EvidenceConfig, train_evidence

    cfg = EvidenceConfig()
    if args.train_on:
        # trained on every identity of the other dataset (its heldout split made a training
        # one), measured on the clips of --dataset, which stay in their heldout split
        train = [replace(c, split="train") for c in load_clips(args.train_on, workers=2)]
        test = [replace(c, split="heldout") for c in load_clips(args.dataset, workers=2)]
        evidence, rep = train_evidence([train, test], cfg)
        if args.save_evidence:
            _write_json(args.save_evidence, evidence.to_dict(), indent=1)
        report = {"dataset": shown_path(args.dataset, ROOT),
                  "trained_on": shown_path(args.train_on, ROOT), "scorer": "pain evidence",
                  "config": asdict(cfg), "datasets": rep["datasets"],
                  "heldout": rep["heldout"], "seconds": round(time.perf_counter() - t0)}
        m = report["heldout"]
        print(f"pain evidence trained on {report['trained_on']}, on {report['dataset']}: "
              f"pain ROC-AUC {m['roc_auc']:.3f}, F1 {m['f1']:.3f}, non-pain frames < 0.5 "
              f"{100 * m['non_pain_below']:.1f} %")
    else:
        # a held-out dataset's clips are all in its heldout split: here they are trained on
        clips = [replace(c, split="train") for c in load_clips(args.dataset, workers=2)]
        _, rep = train_evidence([clips], cfg, folds=args.folds)
        report = {"dataset": shown_path(args.dataset, ROOT), "scorer": "pain evidence",
                  "config": asdict(cfg), "folds": rep["folds"], "pooled": rep["folds_pooled"],
                  "seconds": round(time.perf_counter() - t0)}
        m = report["pooled"]
        print(f"pain evidence, out-of-fold over {args.folds} folds: pain ROC-AUC "
              f"{m['roc_auc']:.3f}, F1 {m['f1']:.3f}, non-pain frames < 0.5 "
              f"{100 * m['non_pain_below']:.1f} %")
        for f in rep["folds"]:
            print(f"  fold {f['fold']}: ROC-AUC {f['metrics']['roc_auc']:.3f} "
                  f"({', '.join(f['test_subjects'])})")
    if args.json:
        _write_json(args.json, report)


if __name__ == "__main__":
    main()
