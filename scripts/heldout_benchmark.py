"""The held-out rendered benchmark: both scorers on identities never seen in training,
with the real MediaPipe front end in the loop.

Builds (once, seeded) a rendered dataset of held-out identities only, runs MediaPipe on
every frame (landmarks cached, see painvision.landmarks.cache), scores every clip with the
analytic scorer and the learned model, and reports per scorer: PSPI Pearson r, MAE,
RMSE and ICC(3,1); pain detection ROC-AUC and F1 (the analytic scorer has no pain
probability: its PSPI / 16 stands in); and, on frames outside pain episodes, the share
where the pain probability stays below 0.5, overall and while the face does something
else (smiles, talking / yawning / chewing, blinks, brow raises).

Usage:
  python scripts/heldout_benchmark.py [--dataset bench/heldout] [--weights PATH]
                                      [--json OUT.json] [--markdown OUT.md]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from painvision.classifier.scorer import ModelScorer
from painvision.datasets import load_dataset, read_labels
from painvision.features import AnalyticScorer
from painvision.features.inputs import prepare_inputs
from painvision.landmarks.cache import cached_track, default_cache_dir
from painvision.metrics import pain_metrics, pspi_metrics
from painvision.synth.dataset import SynthConfig, write_dataset

ROOT = Path(__file__).resolve().parent.parent
BENCH = SynthConfig(subjects=6, minutes=6.0, render=True, seed=100, heldout_share=1.0)


def run(dataset: Path, weights: Path | None) -> dict[str, object]:
    if not (dataset / "subjects.csv").exists():
        print(f"building {dataset} ({BENCH})")
        write_dataset(dataset, BENCH, workers=2)
    items = load_dataset(dataset)
    model = ModelScorer(weights, "cpu")
    analytic = AnalyticScorer()
    acc = {"analytic": {"pspi": [], "score": []}, "model": {"pspi": [], "score": []}}
    truth = {k: [] for k in ("pspi", "pain", "au12", "au26", "au45", "au1")}
    face = []
    for item in items:
        tr, _ = cached_track(item.video, default_cache_dir())
        labels = read_labels(item.labels)
        n = min(len(tr), labels["frame"].size)
        inputs = prepare_inputs(tr)
        a = analytic.score(inputs.signals, tr.t, inputs.valid, inputs.neutral.baseline)
        m_aus, m_pain = model.score(inputs)
        acc["analytic"]["pspi"].append(a.pspi[:n])
        acc["analytic"]["score"].append(a.pspi[:n] / 16.0)
        acc["model"]["pspi"].append(m_aus.pspi[:n])
        acc["model"]["score"].append(m_pain[:n])
        for k in truth:
            truth[k].append(labels[k][:n])
        face.append(tr.detected[:n])
    y = {k: np.concatenate(v) for k, v in truth.items()}
    report: dict[str, object] = {
        "dataset": str(dataset), "clips": len(items),
        "subjects": sorted({i.subject for i in items}),
        "frames": int(y["pspi"].size),
        "share_face": round(float(np.concatenate(face).mean()), 4),
        "weights": str(model.weights), "scorers": {},
    }
    calm = y["pain"] == 0
    masks = {"all non-pain frames": calm, "smiles": calm & (y["au12"] > 0.5),
             "talking/yawning/chewing": calm & (y["au26"] > 0.5),
             "blinks": calm & (y["au45"] > 0), "brow raises": calm & (y["au1"] > 0.5)}
    for name, d in acc.items():
        pspi = np.concatenate(d["pspi"])
        score = np.concatenate(d["score"])
        below = {}
        for k, mask in masks.items():
            s = score[mask & np.isfinite(score)]
            below[k] = {"frames": int(s.size),
                        "share_below_0.5": round(float((s < 0.5).mean()), 4) if s.size else None}
        report["scorers"][name] = {
            "pspi": {k: round(v, 4) for k, v in pspi_metrics(pspi, y["pspi"]).items()},
            "pain": {k: round(v, 4) for k, v in pain_metrics(score, y["pain"]).items()},
            "pain_score": "pain_prob" if name == "model" else "PSPI / 16",
            "non_pain": below,
        }
    return report


def markdown(report: dict) -> str:
    rows = ["| scorer | PSPI Pearson r | PSPI MAE | PSPI RMSE | ICC(3,1) | pain ROC-AUC | pain F1 "
            "| score < 0.5 on non-pain frames |",
            "|---|---|---|---|---|---|---|---|"]
    for name, s in report["scorers"].items():
        p, q = s["pspi"], s["pain"]
        rows.append(f"| {name} | {p['pearson']:.3f} | {p['mae']:.3f} | {p['rmse']:.3f} | "
                    f"{p['icc31']:.3f} | {q['roc_auc']:.3f} ({s['pain_score']}) | {q['f1']:.3f} | "
                    f"{100 * s['non_pain']['all non-pain frames']['share_below_0.5']:.1f} % |")
    rows += ["", "| non-pain frames | frames | " + " | ".join(report["scorers"]) + " |",
             "|---|---|" + "---|" * len(report["scorers"])]
    first = next(iter(report["scorers"].values()))
    for k, v in first["non_pain"].items():
        cells = []
        for s in report["scorers"].values():
            share = s["non_pain"][k]["share_below_0.5"]
            cells.append("-" if share is None else f"{100 * share:.1f} % below 0.5")
        rows.append(f"| {k} | {v['frames']} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default=str(ROOT / "bench" / "heldout"))
    ap.add_argument("--weights", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--markdown", default=None)
    args = ap.parse_args()
    report = run(Path(args.dataset), Path(args.weights) if args.weights else None)
    text = markdown(report)
    print(json.dumps({k: v for k, v in report.items() if k != "scorers"}, indent=1))
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
