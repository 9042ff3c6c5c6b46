"""How far MediaPipe's landmarks on rendered frames are from the generator's own.

Renders one random clip per split (a training and a held-out identity, camera
degradations on), runs the real MediaPipe front end on every frame, and compares its
478 points with where the generator put them (``FaceRig.landmarks``), in inter-ocular
distances (IOD) of the generator's face:

- ``raw_rms``: plain 2-D distance per point, averaged (RMS) over points and frames;
- after a per-frame 2-D similarity fit of MediaPipe's points onto the generator's
  (removing where the face is, which the two may disagree on as a whole), on frames
  where the face is at rest (no point moved by expression more than 0.01 IOD):
  ``bias_rms`` (each point's mean offset), ``jitter_rms`` (what is left, frame to
  frame) and its lag-1 autocorrelation ``jitter_rho``;
- ``expression_gain``: how much of the generator's expression movement (each point's
  displacement from the same face at rest in the same pose, points that moved more
  than 0.02 IOD) MediaPipe reproduces: least-squares slope of MediaPipe's
  displacement (bias removed) on the generator's.

Usage: python scripts/measure_landmark_gap.py [--seconds 30] [--json docs/landmark_gap.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from painvision.landmarks.facemesh import FaceMeshExtractor, FaceMeshOptions
from painvision.synth.degrade import Degrader
from painvision.synth.identity import sample_identities
from painvision.synth.render import identity_rig
from painvision.synth.scenario import random_timeline

ROOT = Path(__file__).resolve().parent.parent


def _similarity_2d(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Fit dst ~ s R src + t (2-D) and return the fitted src."""
    ms, md = src.mean(0), dst.mean(0)
    a, b = src - ms, dst - md
    u, sig, vt = np.linalg.svd(b.T @ a)
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    r = u @ d @ vt
    s = np.trace(np.diag(sig) @ d) / (a**2).sum()
    return s * a @ r.T + md


def measure(split: str, seconds: float, seed: int) -> dict[str, float]:
    ident = sample_identities(2, split, seed)[-1]
    rig = identity_rig(ident, (480, 360))
    rng = np.random.default_rng(seed)
    tl = random_timeline(rng, seconds, 25.0, ident.expressiveness, max_yaw_deg=20.0)
    degrade = Degrader(len(tl), tl.fps, seed)
    gen, rest, mp_pts = [], [], []
    with FaceMeshExtractor(FaceMeshOptions(max_faces=1)) as fm:
        for i in range(len(tl)):
            drive = {k: float(v[i]) for k, v in tl.drive.items()}
            img = degrade(rig.frame(drive, tl.head[i], float(tl.closure[i])), i)
            faces = fm.process(img)
            if not faces:
                continue
            gen.append(rig.landmarks(drive, tl.head[i], float(tl.closure[i]))[:468])
            rest.append(rig.landmarks({}, tl.head[i], 0.0)[:468])
            mp_pts.append(faces[0][:468, :2] * np.array([480, 360]))
    g = np.array(gen)
    g0 = np.array(rest)
    m = np.array(mp_pts)
    iod = np.linalg.norm(g0[:, [263, 362]].mean(1) - g0[:, [33, 133]].mean(1), axis=1)[:, None]
    raw = np.linalg.norm(m - g, axis=2) / iod
    fitted = np.array([_similarity_2d(mi, gi) for mi, gi in zip(m, g0, strict=True)])
    dg = (g - g0) / iod[:, :, None]  # expression movement, generator
    at_rest = np.linalg.norm(dg, axis=2).max(axis=1) < 0.01
    err = (fitted - g0) / iod[:, :, None]
    bias = err[at_rest].mean(axis=0)
    jitter = err[at_rest] - bias
    rho = float((jitter[1:] * jitter[:-1]).sum() / (jitter**2).sum())
    dm = err - bias  # expression movement as MediaPipe reports it
    moved = np.linalg.norm(dg, axis=2) > 0.02
    gain = float((dm[moved] * dg[moved]).sum() / (dg[moved] ** 2).sum())
    return {
        "identity": ident.subject,
        "frames": int(len(g)),
        "frames_without_face": int(len(tl) - len(g)),
        "frames_at_rest": int(at_rest.sum()),
        "raw_rms": round(float(np.sqrt((raw**2).mean())), 4),
        "bias_rms": round(float(np.sqrt((bias**2).sum(axis=1).mean())), 4),
        "jitter_rms": round(float(np.sqrt((jitter**2).sum(axis=2).mean())), 4),
        "jitter_rho": round(rho, 3),
        "expression_gain": round(gain, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--json", default=str(ROOT / "docs" / "landmark_gap.json"))
    args = ap.parse_args()
    report = {split: measure(split, args.seconds, args.seed) for split in ("train", "heldout")}
    text = json.dumps(report, indent=2)
    print(text)
    Path(args.json).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
