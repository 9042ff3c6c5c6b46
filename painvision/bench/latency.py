"""Latency and throughput of the pipeline, per stage, against the front end's floor.

On one video, in one run:

- decode alone, and the **floor**: decode + MediaPipe one after the other on the same
  frames, with nothing else (the fastest a pipeline built on this front end can go
  without overlapping them);
- the **pipeline**: ``analyze_video`` end to end (decoding overlapped with the mesh,
  pose normalisation, features, scoring, no output files);
- per-stage costs per frame: decode, face mesh, features, the default (combined) scorer's
  live step, the learned model (offline pass, and streaming one frame at a time on one
  thread);
- **live latency**, frame in -> reading out, on the streaming path with the default
  scorer: face mesh, the one frame's alignment and signals, the combined scorer's step;
- peak resident memory, the machine, versions and device.

The headline is ``pipeline fps / floor fps``.
"""

from __future__ import annotations

import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
import torch

from painvision._version import __version__
from painvision.classifier.scorer import ModelScorer
from painvision.features.geometry import au_signals
from painvision.features.inputs import model_features, prepare_inputs
from painvision.io.video import FrameReader
from painvision.landmarks.facemesh import FaceMeshExtractor, FaceMeshOptions
from painvision.landmarks.pose import align_to_template
from painvision.landmarks.tracking import SubjectTracker
from painvision.pipeline import analyze_video
from painvision.scoring import create_scorer
from painvision.types import LandmarkTrack

__all__ = ["latency_markdown", "run_latency"]


def _stats(ms: list[float] | np.ndarray) -> dict[str, float]:
    a = np.asarray(ms, float)
    out = {f"p{q}": round(float(np.percentile(a, q)), 3) for q in (50, 95, 99)}
    return out | {"mean": round(float(a.mean()), 3)}


def run_latency(video: str | os.PathLike[str], *, device: str = "auto",
                weights: str | os.PathLike[str] | None = None) -> dict[str, object]:
    """Measure (see the module docstring); returns a JSON-able report."""
    options = FaceMeshOptions()
    # Warm-up: page the video in, start MediaPipe once.
    for _ in FrameReader(video):
        pass
    with FaceMeshExtractor(options) as fm:
        for i, f in enumerate(FrameReader(video)):
            fm.process(f.image_bgr)
            if i >= 10:
                break

    decode_ms = []
    t0 = time.perf_counter()
    for _ in FrameReader(video):
        decode_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
    n = len(decode_ms)

    mesh_ms, meshes, times = [], [], []
    tracker = SubjectTracker()
    start = time.perf_counter()
    with FaceMeshExtractor(options) as fm:
        reader = FrameReader(video)
        for f in reader:
            t1 = time.perf_counter()
            faces = fm.process(f.image_bgr)
            mesh_ms.append((time.perf_counter() - t1) * 1000)
            pick = tracker.select(faces, f.t)
            meshes.append(faces[pick] if pick is not None else np.full((478, 3), np.nan))
            times.append(f.t)
            height, width = f.image_bgr.shape[:2]
    floor_s = time.perf_counter() - start

    t1 = time.perf_counter()
    analysis = analyze_video(video, device=device, weights=weights)
    pipeline_s = time.perf_counter() - t1

    lm = np.stack(meshes).astype(np.float32)
    det = np.isfinite(lm).all(axis=(1, 2))
    track = LandmarkTrack(np.asarray(times), np.arange(n), lm, det, det.astype(np.float32),
                          det.astype(np.int16), width, height)
    t1 = time.perf_counter()
    inputs = prepare_inputs(track)
    features_ms = (time.perf_counter() - t1) * 1000 / n

    scorer = ModelScorer(weights, device)
    t1 = time.perf_counter()
    scorer.score(inputs)
    model_offline_ms = (time.perf_counter() - t1) * 1000 / n

    # Streaming path: one frame's features, one model step, on one thread.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    net = scorer.model
    neutral = inputs.neutral
    step_ms, feat1_ms = [], []
    try:
        with torch.inference_mode():
            state = net.init_state(1)
            feats = torch.from_numpy(inputs.features)
            for i in range(min(n, 30)):
                _, state = net.step(feats[i][None].to(scorer.device), state)
            state = net.init_state(1)
            pix = track.pixels()
            for i in range(n):
                t1 = time.perf_counter()
                pose = align_to_template(pix[i : i + 1])
                sig = au_signals(pose.aligned)
                valid = pose.pose_ok & np.isfinite(sig).all(axis=1)
                f1 = model_features(pose.aligned, sig, pose.yaw_pitch_roll, valid,
                                    track.t[max(i - 1, 0) : i + 1][-1:], neutral)
                t2 = time.perf_counter()
                _, state = net.step(torch.from_numpy(f1).to(scorer.device), state)
                if scorer.device.type == "cuda":
                    torch.cuda.synchronize()
                t3 = time.perf_counter()
                feat1_ms.append((t2 - t1) * 1000)
                step_ms.append((t3 - t2) * 1000)
    finally:
        torch.set_num_threads(threads)
    # The default scorer's live step (analytic AUs and pain evidence) on the same frames.
    stream = create_scorer("combined").stream()
    combined_ms = []
    for i in range(n):
        t1 = time.perf_counter()
        stream.update(float(track.t[i]), inputs.pose.aligned[i], inputs.signals[i],
                      inputs.pose.yaw_pitch_roll[i], bool(inputs.valid[i]), neutral)
        combined_ms.append((time.perf_counter() - t1) * 1000)
    live = np.asarray(mesh_ms) + np.asarray(feat1_ms) + np.asarray(combined_ms)
    floor_fps = n / floor_s
    pipeline_fps = n / pipeline_s
    import cv2
    import mediapipe

    return {
        "video": str(video), "frames": n, "resolution": [width, height],
        "headline": {"pipeline_fps": round(pipeline_fps, 2), "floor_fps": round(floor_fps, 2),
                     "pipeline_over_floor": round(pipeline_fps / floor_fps, 3)},
        "stages_ms_per_frame": {
            "decode": _stats(decode_ms), "face_mesh": _stats(mesh_ms),
            "features_offline": round(features_ms, 3),
            "model_offline": round(model_offline_ms, 3),
            "features_one_frame": _stats(feat1_ms), "model_step_one_thread": _stats(step_ms),
            "combined_scorer_step": _stats(combined_ms),
            "total_pipeline": round(1000 / pipeline_fps, 3),
        },
        "model_step_share_of_face_mesh_p50": round(float(np.median(step_ms) /
                                                         np.median(mesh_ms)), 4),
        "live_latency_ms": _stats(live),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "scorer": analysis.scorer,
        "environment": {
            "painvision": __version__, "machine": platform.machine(),
            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "torch": torch.__version__,
            "mediapipe": mediapipe.__version__, "opencv": cv2.__version__,
            "device": str(scorer.device),
        },
        "video_name": Path(video).name,
    }


def latency_markdown(r: dict) -> str:
    h, s = r["headline"], r["stages_ms_per_frame"]
    rows = [
        f"`{r['video_name']}`, {r['frames']} frames {r['resolution'][0]}x{r['resolution'][1]}, "
        f"{r['environment']['cpus']} CPUs, device {r['environment']['device']}, "
        f"torch {r['environment']['torch']}, mediapipe {r['environment']['mediapipe']}.",
        "",
        "| pipeline fps | floor fps (decode + MediaPipe) | pipeline / floor "
        "| live latency p50 / p95 (ms) | peak RSS (MB) |",
        "|---|---|---|---|---|",
        f"| {h['pipeline_fps']} | {h['floor_fps']} | **{h['pipeline_over_floor']}** | "
        f"{r['live_latency_ms']['p50']} / {r['live_latency_ms']['p95']} | {r['peak_rss_mb']} |",
        "",
        "| stage (ms / frame) | p50 | p95 | p99 |",
        "|---|---|---|---|",
    ]
    for name in ("decode", "face_mesh", "features_one_frame", "combined_scorer_step",
                 "model_step_one_thread"):
        v = s[name]
        rows.append(f"| {name.replace('_', ' ')} | {v['p50']} | {v['p95']} | {v['p99']} |")
    rows.append(f"| features, offline pass (mean) | {s['features_offline']} | | |")
    rows.append(f"| model, offline pass (mean) | {s['model_offline']} | | |")
    rows.append(f"| whole pipeline (mean) | {s['total_pipeline']} | | |")
    rows += ["", f"Model step / face mesh (p50): {r['model_step_share_of_face_mesh_p50']:.3f}."]
    return "\n".join(rows) + "\n"
