"""Fit the analytic scorer's gains on a calibration clip with one AU at a time.

The clip is rendered from the astronaut photo with its own timeline, head motion and
noise seed (the bundled sample uses the same photo with pain episodes in which all
AUs co-occur; the Grace Hopper clip is an identity the calibration never saw):
neutral, then AU4, AU6, AU7, AU9 and AU10 episodes each alone, then eyes held
closed, then a blink. MediaPipe runs on the
rendered frames; for each AU the gain of its own signal(s) is the non-negative
least-squares fit of the true intensity on the signal's fall below the neutral
baseline, after the share of the upper lid's descent that the mesh passes on to
each signal (fitted on the eyes-closed and blink frames) has been removed. AU43's
aperture threshold is set halfway between held closure and the
narrowest eye seen during the other AUs.

AU6's gain and those of the movements outside PSPI are set by scripts/au_response.py and
kept as they are when this script writes the calibration.

Usage: python scripts/calibrate_analytic.py [--write]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

from painvision.features.analytic import EXPRESSION_AUS, Calibration
from painvision.features.baseline import estimate_baseline
from painvision.features.geometry import SIGNAL_NAMES, au_signals
from painvision.landmarks.pose import align_to_template
from painvision.pipeline import extract_track
from painvision.synth.render import render_clip
from painvision.synth.sequence import Blink, Episode, HeadMotion, Script

OUT = Path(__file__).resolve().parent.parent / "painvision" / "features" / "data"
DESIGN = {
    "au4": ["brow_height", "brow_gap"],
    "au6": ["cheek_drop"],
    "au7": ["lower_lid_drop"],
    "au9": ["ala_drop"],
    "au10": ["lip_drop"],
}


def calibration_script() -> Script:
    eps = []
    start = 2.0
    for au in ("au4", "au6", "au7", "au9", "au10"):
        eps.append(Episode(start, start + 0.8, start + 1.7, start + 2.5, {au: 4.0}))
        start += 3.0
    eps.append(Episode(start, start + 0.3, start + 1.5, start + 1.8, {},
                       eyes_closed=(start, start + 1.8)))
    motion = HeadMotion(roll_deg=3.0, shift=0.05, scale=0.03, periods_s=(6.1, 4.3, 7.7, 8.2))
    return Script(duration_s=start + 4.0, fps=30.0, episodes=tuple(eps),
                  blinks=(Blink(start + 2.8),), motion=motion)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="overwrite the shipped calibration")
    args = ap.parse_args()
    script = calibration_script()
    with tempfile.TemporaryDirectory() as tmp:
        video = render_clip("astronaut", script, Path(tmp) / "calib.mp4", seed=7)
        _, track, _ = extract_track(video)
    labels, closure, _ = script.timelines()
    pose = align_to_template(track.pixels())
    sig = au_signals(pose.aligned)
    valid = pose.pose_ok
    base = estimate_baseline(sig, track.t, valid, neutral=(0.0, 1.9))
    drop = base.values[None, :] - sig
    truth = {n: getattr(labels, n) for n in ("au4", "au6", "au7", "au9", "au10", "au43")}
    # Lid compensation: on frames where only the lids move (neutral, eyes closed,
    # blink), regress each scored signal's fall on the upper lid's descent.
    lid = np.maximum(drop[:, SIGNAL_NAMES.index("upper_lid_height")], 0.0)
    lids_only = valid & np.all([truth[n] == 0 for n in DESIGN], axis=0)
    compensation = {}
    for s in sorted({s for sigs in DESIGN.values() for s in sigs}):
        col = drop[lids_only, SIGNAL_NAMES.index(s)]
        x = lid[lids_only]
        # Only a positive share is removed: compensation may take away evidence that
        # closing the lids fakes, never add evidence of its own.
        compensation[s] = round(max(float(x @ col / max(x @ x, 1e-12)), 0.0), 3)
        drop[:, SIGNAL_NAMES.index(s)] -= compensation[s] * lid
    gains: dict[str, dict[str, float]] = {}
    fit_stats = {}
    for au, sigs in DESIGN.items():
        rest = [n for n in truth if n != au]
        sel = valid & np.all([truth[n] == 0 for n in rest], axis=0) & (closure < 0.05)
        cols = [SIGNAL_NAMES.index(s) for s in sigs]
        x = drop[sel][:, cols].astype(np.float64)
        y = truth[au][sel].astype(np.float64)
        g, _ = nnls(x, y)
        gains[au] = {s: round(float(v), 2) for s, v in zip(sigs, g, strict=True)}
        pred = x @ g
        r = float(np.corrcoef(pred, y)[0, 1]) if np.std(pred) > 0 else None
        fit_stats[au] = {"r": None if r is None else round(r, 3), "frames": int(sel.sum())}
    k = SIGNAL_NAMES.index("eye_aperture")
    ratio = sig[:, k] / base.values[k]
    held = valid & (truth["au43"] == 1)
    awake = valid & (closure < 0.05)
    closed_level = float(np.median(ratio[held]))
    open_min = float(np.percentile(ratio[awake], 1))
    threshold = round(0.5 * (closed_level + open_min), 3)
    cal = Calibration(
        gains=gains,
        closed_ratio=threshold,
        closed_min_s=0.5,
        lid_compensation=compensation,
        source="scripts/calibrate_analytic.py: astronaut photo, one AU at a time, "
        "MediaPipe 0.10.21",
        extra={"fit": fit_stats, "aperture_ratio_closed": round(closed_level, 3),
               "aperture_ratio_open_p1": round(open_min, 3)},
    )
    # AU6 (which MediaPipe does not follow on a warped photo, so that NNLS gives it 0 here)
    # and the movements outside PSPI come from scripts/au_response.py: keep them.
    shipped = json.loads((OUT / "analytic_calibration.json").read_text(encoding="utf-8"))
    kept = {au: g for au, g in shipped["gains"].items() if au == "au6" or au in EXPRESSION_AUS}
    out = cal.to_dict()
    out["gains"] = {**out["gains"], **kept}
    if "expression_source" in shipped.get("extra", {}):
        out["extra"]["expression_source"] = shipped["extra"]["expression_source"]
    text = json.dumps(out, indent=2)
    print(text)
    if args.write:
        (OUT / "analytic_calibration.json").write_text(text + "\n", encoding="utf-8")
        print(f"wrote {OUT / 'analytic_calibration.json'}")


if __name__ == "__main__":
    main()
