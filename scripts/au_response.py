"""How every geometric signal answers every facial action, on generated meshes and through
MediaPipe on rendered real photos: the AU-response table behind the AU measures.

For each drive channel (PSPI AUs, the confounders' AUs, and the eyelids closing) a short
clip holds that one action at intensity 4 (closure: fully shut) between neutral
stretches. Two readings per action:

- ``generated``: the generator's own meshes (``synth.meshgen``), no front end: what the
  deformation fields do to each signal;
- ``<photo>``: the clip rendered on a bundled public-domain photo and read back by
  MediaPipe (``analyze``'s front end), the neutral taken from the first second.

Each entry is the signal's fall below neutral at the apex, in thousandths of an IOD
(negative: it rose). Writes docs/au_response.json.

With ``--write`` it also sets the analytic calibration's gains for the movements outside
PSPI (``features.analytic.EXPRESSION_AUS``), fitted on the astronaut photo alone (the
photo the PSPI gains were fitted on; Grace Hopper is the held-out identity and only
checks them): for each AU, the least-squares weights (light ridge) over its named signals
that read 4 on its own clip and 0 on every other action's. And AU6's cheek gain, which
cannot be fitted there (MediaPipe does not follow a cheek raise warped into a photo, see
the table): the generated cheek response per AU6 point times the share of the generated
movement MediaPipe reports for the brows, lower lid, nasal wings and upper lip on the
same photo (their median), inverted.

Usage: python scripts/au_response.py [--json docs/au_response.json] [--write]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from painvision.features.analytic import EXPRESSION_AUS
from painvision.features.geometry import SIGNAL_NAMES, au_signals
from painvision.landmarks.extract import extract_track
from painvision.landmarks.pose import align_to_template
from painvision.synth.identity import Identity
from painvision.synth.meshgen import MeshGenerator
from painvision.synth.render import render_clip
from painvision.synth.sequence import one_action_script

ROOT = Path(__file__).resolve().parent.parent
ACTIONS = ("au1", "au4", "au6", "au7", "au9", "au10", "au12", "au15", "au20", "au26", "closure")
APEX = (2.1, 2.8)
CALIBRATION = ROOT / "painvision" / "features" / "data" / "analytic_calibration.json"
#: The signals each movement is read from (``features.geometry``).
DESIGN = {
    "au1_2": ["brow_height", "upper_lid_height"],
    "au12": ["corner_height", "mouth_width", "lip_gap", "chin_height"],
    "au15": ["corner_height", "mouth_width", "lip_gap", "chin_height"],
    "au20": ["mouth_width", "corner_height", "lip_gap", "chin_height"],
    "au25": ["lip_gap"],
    "au26": ["chin_height", "lip_gap"],
}
#: Each PSPI AU's own signal, for the share of movement the front end reports.
OWN_SIGNAL = {"au4": "brow_height", "au7": "lower_lid_drop", "au9": "ala_drop",
              "au10": "lip_drop"}


def falls(signals: np.ndarray, t: np.ndarray) -> dict[str, float]:
    neutral = np.nanmedian(signals[t < 1.0], axis=0)
    apex = np.nanmedian(signals[(t >= APEX[0]) & (t <= APEX[1])], axis=0)
    return {n: round(float(v) * 1000, 1) for n, v in zip(SIGNAL_NAMES, neutral - apex,
                                                            strict=True)}


def generated(action: str) -> dict[str, float]:
    gen = MeshGenerator(Identity("gen", "train", "astronaut", False, 0, 0.0, 1.0))
    tl = one_action_script(action).timeline()
    return falls(au_signals(gen.meshes(tl)), tl.t)


def rendered(photo: str, action: str, folder: Path) -> dict[str, float]:
    video = render_clip(photo, one_action_script(action), folder / f"{photo}_{action}.mp4",
                        size=(480, 360), seed=11)
    _, track, _ = extract_track(video)
    return falls(au_signals(align_to_template(track.pixels()).aligned), track.t)


def fit_gains(table: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Gains (AU units per IOD of fall) for ``EXPRESSION_AUS`` and AU6, see the docstring."""
    photo = table["astronaut"]
    actions = list(photo)
    gains: dict[str, dict[str, float]] = {}
    for au in EXPRESSION_AUS:
        target = "au1" if au == "au1_2" else ("au26" if au == "au25" else au)
        x = np.array([[photo[a][s] / 1000 for s in DESIGN[au]] for a in actions])
        y = np.array([4.0 if a == target else 0.0 for a in actions])
        if au == "au25":  # lips apart: 5 at a gap of 0.15 IOD, a wide-open mouth
            gains[au] = {"lip_gap": round(-5.0 / 0.15, 1)}
            continue
        if au == "au1_2":
            # 4 on its own clip and 0 with the eyes shut: MediaPipe lifts the brows a
            # little when the lids close, which the upper lid's descent cancels.
            rows = [actions.index("au1"), actions.index("closure")]
            w = np.linalg.solve(x[rows], y[rows])
            gains[au] = {s: round(float(v), 1) for s, v in zip(DESIGN[au], w, strict=True)}
            continue
        w = np.linalg.solve(x.T @ x + 1e-4 * np.eye(len(DESIGN[au])), x.T @ y)
        gains[au] = {s: round(float(v), 1) for s, v in zip(DESIGN[au], w, strict=True)}
    gen = table["generated"]
    share = float(np.median([photo[a][s] / gen[a][s] for a, s in OWN_SIGNAL.items()]))
    per_point = gen["au6"]["cheek_drop"] / 1000 / 4.0
    gains["au6"] = {"cheek_drop": round(1.0 / (per_point * share), 1)}
    return gains


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default=str(ROOT / "docs" / "au_response.json"))
    ap.add_argument("--write", action="store_true", help="update the analytic calibration")
    args = ap.parse_args()
    out: dict[str, dict[str, dict[str, float]]] = {"generated": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for action in ACTIONS:
            out["generated"][action] = generated(action)
        for photo in ("astronaut", "grace_hopper"):
            out[photo] = {a: rendered(photo, a, Path(tmp)) for a in ACTIONS}
    for source, table in out.items():
        print(f"\n{source} (fall below neutral, 1/1000 IOD)")
        print("action  " + " ".join(f"{n[:11]:>11}" for n in SIGNAL_NAMES))
        for a, row in table.items():
            print(f"{a:7s} " + " ".join(f"{row[n]:11.1f}" for n in SIGNAL_NAMES))
    Path(args.json).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    gains = fit_gains(out)
    print("\ngains:", json.dumps(gains))
    if args.write:
        cal = json.loads(CALIBRATION.read_text(encoding="utf-8"))
        cal["gains"].update(gains)
        cal.setdefault("extra", {})["expression_source"] = (
            "scripts/au_response.py: astronaut photo, one movement at a time; AU6 from the "
            "generated cheek response and MediaPipe's measured share of movement")
        CALIBRATION.write_text(json.dumps(cal, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
