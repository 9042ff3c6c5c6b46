"""The learned model on ONNX Runtime against PyTorch, on one machine, in one run.

On the bundled sample's features (MediaPipe's landmarks of
sample_videos/astronaut_pain.mp4, from the landmark cache when present):

- agreement: the shipped painvision-default.onnx against painvision-default.pt through
  PyTorch, largest absolute difference over every output (AUs, PSPI, pain_prob), offline
  and streaming (``ModelStream``, one frame at a time), and the ONNX stream against ONNX
  offline;
- offline scoring time of the whole sequence on ONNX Runtime with one intra-op thread
  and with its default pool (one thread per core), PyTorch alongside;
- streaming, ms per frame: ``ModelStream.update`` (the frame's features and the model,
  what ``painvision watch --scorer model`` runs), ONNX (one thread, as shipped) against
  PyTorch on one thread (as ``painvision bench latency`` times it) and on its default
  threads; and the model alone (the ONNX window, on one thread and on ONNX Runtime's
  default pool, against ``TemporalPainNet.step`` on one thread).

Writes JSON (``--out``).

    python scripts/onnx_backend.py --out docs/onnx_backend.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

from painvision.classifier.runtime import ONNX_THREADS, OnnxModel, OnnxWindow  # noqa: E402
from painvision.classifier.scorer import (  # noqa: E402
    DEFAULT_ONNX,
    DEFAULT_WEIGHTS,
    SHIPPED_DIR,
    ModelScorer,
    ModelStream,
)
from painvision.features.inputs import FrameInputs, prepare_inputs  # noqa: E402
from painvision.landmarks.cache import cached_track, default_cache_dir  # noqa: E402
from painvision.types import AU_NAMES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def offline(sc: ModelScorer, inputs: FrameInputs) -> np.ndarray:
    aus, prob = sc.score(inputs)
    return np.stack([*(getattr(aus, n) for n in AU_NAMES), aus.pspi, prob], -1)


def streamed(sc: ModelScorer, inputs: FrameInputs) -> tuple[np.ndarray, list[float]]:
    stream = ModelStream(sc)
    rows, ms = [], []
    for k in range(len(inputs.t)):
        t0 = time.perf_counter()
        aus, prob = stream.update(float(inputs.t[k]), inputs.pose.aligned[k],
                                  inputs.signals[k], inputs.pose.yaw_pitch_roll[k],
                                  bool(inputs.valid[k]), inputs.neutral)
        ms.append((time.perf_counter() - t0) * 1000)
        rows.append(np.full(len(AU_NAMES) + 2, np.nan) if aus is None else
                    [*(getattr(aus, n) for n in AU_NAMES), aus.pspi, prob])
    return np.asarray(rows, np.float64), ms


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    assert (np.isnan(a) == np.isnan(b)).all()
    return float(np.nanmax(np.abs(a - b)))


def best_ms(fn, repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": round(float(np.median(times)), 3), "min_ms": round(min(times), 3)}


def stats(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms[10:])  # the first frames warm up
    return {"p50_ms": round(float(np.median(a)), 4),
            "p95_ms": round(float(np.percentile(a, 95)), 4),
            "mean_ms": round(float(a.mean()), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", default=str(ROOT / "sample_videos" / "astronaut_pain.mp4"))
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    track, hit = cached_track(args.video, default_cache_dir())
    inputs = prepare_inputs(track)
    n = len(inputs.t)
    feats = np.ascontiguousarray(inputs.features, np.float32)
    pt = ModelScorer(SHIPPED_DIR / DEFAULT_WEIGHTS, "cpu")
    onnx = ModelScorer(SHIPPED_DIR / DEFAULT_ONNX, "cpu")
    torch_threads = torch.get_num_threads()

    # agreement
    off_pt, off_onnx = offline(pt, inputs), offline(onnx, inputs)
    st_pt, _ = streamed(pt, inputs)
    st_onnx, _ = streamed(onnx, inputs)
    agreement = {"onnx_vs_torch_offline": max_diff(off_onnx, off_pt),
                 "onnx_vs_torch_streaming": max_diff(st_onnx, st_pt),
                 "onnx_stream_vs_onnx_offline": max_diff(st_onnx, off_onnx),
                 "torch_stream_vs_torch_offline": max_diff(st_pt, off_pt)}

    # Streaming first, offline after; torch's default threads before it is set to one
    # (toggling its thread count can leave tail latencies behind), ONNX Runtime's default
    # pool last (its threads spin for a while after each run).
    one = OnnxModel(SHIPPED_DIR / DEFAULT_ONNX, threads=1)
    pool = OnnxModel(SHIPPED_DIR / DEFAULT_ONNX, threads=0)  # 0: ONNX Runtime's default

    def window_ms(model: OnnxModel) -> dict[str, float]:
        window, step_ms = OnnxWindow(model), []
        for k in range(n):
            t0 = time.perf_counter()
            window.push(feats[k])
            step_ms.append((time.perf_counter() - t0) * 1000)
        return stats(step_ms)

    # streaming, per frame: features + model (ModelStream.update), and the model alone
    stream_ms: dict[str, dict[str, float]] = {}
    _, ms = streamed(onnx, inputs)
    stream_ms[f"onnx_{ONNX_THREADS}_thread_update"] = stats(ms)
    _, ms = streamed(pt, inputs)
    stream_ms[f"torch_{torch_threads}_threads_update"] = stats(ms)
    stream_ms["onnx_1_thread_model_only"] = window_ms(one)
    torch.set_num_threads(1)
    _, ms = streamed(pt, inputs)
    stream_ms["torch_1_thread_update"] = stats(ms)
    net, step_ms = pt.model, []
    with torch.inference_mode():
        state = net.init_state(1)
        x = torch.from_numpy(feats)
        for k in range(n):
            t0 = time.perf_counter()
            _, state = net.step(x[k][None], state)
            step_ms.append((time.perf_counter() - t0) * 1000)
    stream_ms["torch_1_thread_model_only"] = stats(step_ms)

    # offline: the whole sequence
    offline_ms = {"torch_1_thread": best_ms(lambda: pt.score(inputs), args.repeats)}
    torch.set_num_threads(torch_threads)
    offline_ms[f"torch_{torch_threads}_threads"] = best_ms(lambda: pt.score(inputs),
                                                           args.repeats)
    for name, model in (("onnx_1_thread", one), ("onnx_default_threads", pool)):
        model.run(feats)
        offline_ms[name] = best_ms(lambda m=model: m.run(feats), args.repeats)
    stream_ms["onnx_default_threads_model_only"] = window_ms(pool)

    report = {
        "command": "python scripts/onnx_backend.py" + (f" --out {args.out}" if args.out else ""),
        "video": Path(args.video).name, "frames": n, "landmarks_from_cache": hit,
        "max_abs_difference": agreement, "offline_ms_whole_sequence": offline_ms,
        "streaming_per_frame": stream_ms,
        "machine": {"cpu_count": os.cpu_count(), "processor": platform.processor(),
                    "python": platform.python_version(), "torch": torch.__version__,
                    "onnxruntime": ort.__version__},
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
