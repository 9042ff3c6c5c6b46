"""What the head's pose does to the AU readings, and what the per-person pose coupling
(``painvision/features/posefit.py``) takes away: the measurements behind the README's
"Head pose, per person".

1. **A still photo, moved.** Each bundled public-domain photo (astronaut, Grace Hopper) is
   read by MediaPipe one image at a time, as it is and tilted (4, 8, 15 degrees each way),
   shifted (1, 3, 7, 15 pixels) or zoomed (0.97, 1.03). Nothing in the face changes, so
   every AU reading against the untouched photo is the front end's own doing. Reported:
   the largest reading per AU, for tilts and for shifts and zooms.
2. **Quiet frames of a labelled dataset** (default: the held-out rendered benchmark,
   ``bench/heldout-large``, built by ``scripts/heldout_benchmark.py``). Frames where the
   face does nothing (activity ``none``, labelled PSPI < 0.5): the share with PSPI >= 3
   and >= 2, with and without the coupling; over all frames, PSPI's Pearson r with the
   labels; on frames labelled PSPI >= 3, the mean PSPI read (the coupling must not take
   pain away).

Usage: python scripts/pose_coupling_effect.py [--dataset bench/heldout-large]
                                              [--json docs/pose_coupling.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from painvision.datasets import load_dataset
from painvision.features.analytic import AnalyticScorer, Calibration
from painvision.features.geometry import SIGNAL_NAMES, au_signals
from painvision.features.inputs import prepare_inputs
from painvision.landmarks.cache import cached_track, default_cache_dir
from painvision.landmarks.facemesh import FaceMeshExtractor, FaceMeshOptions
from painvision.landmarks.pose import align_to_template
from painvision.synth.faces import load_photo

ROOT = Path(__file__).resolve().parent.parent
AUS = ("au4", "au6", "au7", "au9", "au10")
TILTS = (-15, -8, -4, 4, 8, 15)
MOVES = ((1, 1.0), (3, 1.0), (7, 1.0), (15, 1.0), (0, 0.97), (0, 1.03))


def _readings(fm: FaceMeshExtractor, image: np.ndarray) -> np.ndarray | None:
    faces = fm.process(image)
    if not faces:
        return None
    h, w = image.shape[:2]
    pts = faces[0] * np.array([w, h, w], np.float32)
    return au_signals(align_to_template(pts[None]).aligned)[0].astype(np.float64)


def still_photo(photo: str) -> dict[str, dict[str, float]]:
    cal = Calibration.load_default()
    gain = np.zeros((len(SIGNAL_NAMES), len(AUS)))
    for j, au in enumerate(AUS):
        for s, g in cal.gains.get(au, {}).items():
            gain[SIGNAL_NAMES.index(s), j] = g
    bgr = load_photo(photo)
    h, w = bgr.shape[:2]
    side = int(max(h, w) * 1.3)  # room to turn without cutting the face
    img = np.full((side, side, 3), 90, np.uint8)
    img[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = bgr
    out: dict[str, dict[str, float]] = {}
    with FaceMeshExtractor(FaceMeshOptions(static_image_mode=True)) as fm:
        ref = _readings(fm, img)
        if ref is None:
            raise SystemExit(f"no face found in the {photo} photo")
        for kind, moves in (("tilt", [(a, 0, 1.0) for a in TILTS]),
                            ("shift_or_zoom", [(0, dx, z) for dx, z in MOVES])):
            worst = np.zeros(len(AUS))
            for angle, dx, zoom in moves:
                m = cv2.getRotationMatrix2D((side / 2, side / 2), angle, zoom)
                m[0, 2] += dx
                moved = cv2.warpAffine(img, m, (side, side), borderValue=(90, 90, 90))
                r = _readings(fm, moved)
                if r is not None:
                    worst = np.maximum(worst, np.abs((ref - r) @ gain))
            out[kind] = {au: round(float(v), 2) for au, v in zip(AUS, worst, strict=True)}
    return out


def quiet_frames(dataset: Path) -> dict[str, dict[str, float]]:
    scorer = AnalyticScorer()
    res: dict[str, dict[str, list]] = {k: {"quiet": [], "all": [], "labels": [], "pain": []}
                                       for k in ("without", "with")}
    for item in load_dataset(dataset):
        track, _ = cached_track(item.video, default_cache_dir())
        labels = np.genfromtxt(item.labels, delimiter=",", names=True)
        for key, on in (("without", False), ("with", True)):
            inputs = prepare_inputs(track, pose_coupling=on)
            n = min(len(labels), len(inputs.t))
            pspi = scorer.score(inputs.signals, inputs.t, inputs.valid,
                                inputs.neutral.baseline).pspi[:n]
            valid = inputs.valid[:n]
            quiet = valid & (labels["activity"][:n] == 0) & (labels["pspi"][:n] < 0.5)
            r = res[key]
            r["quiet"].append(pspi[quiet])
            r["all"].append(pspi[valid])
            r["labels"].append(labels["pspi"][:n][valid])
            r["pain"].append(pspi[valid & (labels["pspi"][:n] >= 3)])
    out = {}
    for key, r in res.items():
        q, p, lab, pain = (np.concatenate(r[k]) for k in ("quiet", "all", "labels", "pain"))
        ok = np.isfinite(p)
        out[key] = {"quiet_frames": int(q.size),
                    "quiet_share_pspi_ge_3": round(float(np.nanmean(q >= 3)), 4),
                    "quiet_share_pspi_ge_2": round(float(np.nanmean(q >= 2)), 4),
                    "pspi_pearson": round(float(np.corrcoef(p[ok], lab[ok])[0, 1]), 4),
                    "mean_pspi_on_frames_labelled_ge_3": round(float(np.nanmean(pain)), 3)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default=str(ROOT / "bench" / "heldout-large"))
    ap.add_argument("--json", default=str(ROOT / "docs" / "pose_coupling.json"))
    args = ap.parse_args()
    report = {"still_photo_largest_au_reading": {p: still_photo(p)
                                                 for p in ("astronaut", "grace_hopper")}}
    dataset = Path(args.dataset)
    if (dataset / "subjects.csv").exists():
        report["dataset"] = dataset.name
        report["quiet_frames"] = quiet_frames(dataset)
    else:
        print(f"{dataset} not found: build it with scripts/heldout_benchmark.py")
    print(json.dumps(report, indent=1))
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
