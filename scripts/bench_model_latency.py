"""Streaming cost of the temporal model per frame, next to MediaPipe's, in one run.

Feeds the bundled sample's frames through MediaPipe (timed per frame), prepares the
model features, then runs the model one frame at a time (``TemporalPainNet.step`` with
its cache; torch limited to one thread), timed per frame after a warm-up. Reports
median and p95 of both and their ratio, as JSON.

Usage: python scripts/bench_model_latency.py [--video sample_videos/astronaut_pain.mp4]
       [--weights PATH] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from painvision.classifier.scorer import ModelScorer
from painvision.features.inputs import prepare_inputs
from painvision.io.video import iter_frames
from painvision.landmarks.facemesh import FaceMeshExtractor, FaceMeshOptions
from painvision.landmarks.tracking import SubjectTracker
from painvision.types import LandmarkTrack

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", default=str(ROOT / "sample_videos" / "astronaut_pain.mp4"))
    ap.add_argument("--weights", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--repeats", type=int, default=3, help="passes of the model over the clip")
    args = ap.parse_args()
    torch.set_num_threads(1)
    frames = list(iter_frames(args.video))
    mp_ms, meshes, times = [], [], []
    tracker = SubjectTracker()
    with FaceMeshExtractor(FaceMeshOptions()) as fm:
        for f in frames[:10]:  # warm-up
            fm.process(f.image_bgr)
    with FaceMeshExtractor(FaceMeshOptions()) as fm:
        for f in frames:
            t0 = time.perf_counter()
            faces = fm.process(f.image_bgr)
            mp_ms.append((time.perf_counter() - t0) * 1000)
            pick = tracker.select(faces, f.t)
            meshes.append(faces[pick] if pick is not None else np.full((478, 3), np.nan))
            times.append(f.t)
    lm = np.stack(meshes).astype(np.float32)
    n = len(frames)
    h, w = frames[0].image_bgr.shape[:2]
    det = np.isfinite(lm).all(axis=(1, 2))
    track = LandmarkTrack(np.array(times), np.arange(n), lm, det, det.astype(np.float32),
                          det.astype(np.int16), w, h)
    feats = torch.from_numpy(prepare_inputs(track).features)
    scorer = ModelScorer(args.weights, "cpu")
    model = scorer.model
    step_ms = []
    with torch.inference_mode():
        state = model.init_state(1)
        for i in range(50):  # warm-up
            _, state = model.step(feats[i % n][None], state)
        for _ in range(args.repeats):
            state = model.init_state(1)
            for i in range(n):
                t0 = time.perf_counter()
                _, state = model.step(feats[i][None], state)
                step_ms.append((time.perf_counter() - t0) * 1000)
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, cwd=ROOT).stdout.strip()
    report = {
        "video": args.video, "frames": n, "weights": str(scorer.weights),
        "mediapipe_ms": {"p50": round(float(np.median(mp_ms)), 3),
                         "p95": round(float(np.percentile(mp_ms, 95)), 3)},
        "model_step_ms_1_thread": {"p50": round(float(np.median(step_ms)), 3),
                                   "p95": round(float(np.percentile(step_ms, 95)), 3)},
        "model_share_of_mediapipe_p50": round(float(np.median(step_ms) / np.median(mp_ms)), 3),
        "machine": platform.machine(), "cpus": __import__("os").cpu_count(),
        "torch": torch.__version__, "git": sha,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
