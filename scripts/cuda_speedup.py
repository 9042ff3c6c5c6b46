"""CUDA against CPU for the temporal model, on one machine, in one run.

Synthesises a landmark dataset (no MediaPipe needed), then on each device:

- training: the same ``TrainConfig`` for a fixed number of steps, wall time per step
  (batch building on the CPU included, as ``painvision train`` runs it), and the model's
  own share: forward + backward + optimiser step on batches built beforehand;
- offline inference over one long recording (``ModelScorer.score``'s path);
- streaming: one frame at a time through ``step`` (the live-camera path).

CPU rows are measured with all cores and with one thread (a bedside box). Writes JSON.

    python scripts/cuda_speedup.py --out cuda_speedup.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from painvision.classifier.registry import create_model  # noqa: E402
from painvision.classifier.train import TrainConfig, _batch, fit, load_clips, loss_fn  # noqa: E402
from painvision.features.inputs import N_FEATURES  # noqa: E402
from painvision.synth.dataset import SynthConfig, write_dataset  # noqa: E402


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def time_model_steps(batches, dev: torch.device, repeats: int) -> float:
    """Seconds per optimiser step on prepared batches."""
    torch.manual_seed(0)
    model = create_model("tcn_small").to(dev).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    data = [tuple(v.to(dev) for v in b) for b in batches]
    for x, y, m in data[:2]:  # warm-up (cuDNN autotune, allocator)
        loss_fn(model(x), y, m).backward()
    _sync(dev)
    t0 = time.perf_counter()
    for _ in range(repeats):
        for x, y, m in data:
            loss = loss_fn(model(x), y, m)
            opt.zero_grad()
            loss.backward()
            opt.step()
    _sync(dev)
    return (time.perf_counter() - t0) / (repeats * len(data))


def time_offline(dev: torch.device, frames: int) -> float:
    """Seconds for one whole-recording forward pass of ``frames`` frames."""
    model = create_model("tcn_small").to(dev).eval()
    x = torch.randn(1, frames, N_FEATURES, device=dev)
    with torch.inference_mode():
        model(x)
        _sync(dev)
        t0 = time.perf_counter()
        for _ in range(3):
            model(x)
        _sync(dev)
    return (time.perf_counter() - t0) / 3


def time_streaming(dev: torch.device, frames: int) -> float:
    """Seconds per frame through ``step``, the output copied back to the host each frame
    (a live reading needs it there)."""
    model = create_model("tcn_small").to(dev).eval()
    xs = torch.randn(frames, 1, N_FEATURES)
    state = model.init_state(1, dev)
    with torch.inference_mode():
        for k in range(20):
            out, state = model.step(xs[k].to(dev), state)
        _sync(dev)
        t0 = time.perf_counter()
        for k in range(frames):
            out, state = model.step(xs[k].to(dev), state)
            float(out["pspi"][0])
    return (time.perf_counter() - t0) / frames


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="cuda_speedup.json")
    ap.add_argument("--data", help="a landmark dataset to use instead of synthesising one "
                    "(synthesising needs MediaPipe for the identities' photos)")
    ap.add_argument("--subjects", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument("--steps", type=int, default=30, help="training steps per device")
    ap.add_argument("--device", default="cuda",
                    help="the device to compare with the CPU ('cpu' only checks the script)")
    args = ap.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("error: torch sees no CUDA device on this machine")
    cuda = torch.device(args.device)
    cores = os.cpu_count() or 1
    report: dict[str, object] = {
        "machine": platform.node(), "cpu_count": cores, "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name(0) if cuda.type == "cuda" else None,
        "python": platform.python_version()}
    if args.data:
        clips = load_clips(args.data)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "data"
            write_dataset(root, SynthConfig(subjects=args.subjects, minutes=args.minutes,
                                            seed=7, heldout_share=0.0), workers=min(cores, 8))
            clips = load_clips(root)
    report["dataset"] = {"clips": len(clips), "frames": int(sum(len(c.track) for c in clips))}

    cfg = TrainConfig(epochs=1, steps_per_epoch=args.steps, patience=99, val_share=0.0)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    batches = [_batch(clips, cfg, rng) for _ in range(8)]
    build = (time.perf_counter() - t0) / len(batches)

    rows = {}
    for label, dev, threads in (("cpu, all cores", torch.device("cpu"), cores),
                                ("cpu, 1 thread", torch.device("cpu"), 1),
                                (args.device, cuda, cores)):
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        fit(clips, [], cfg, dev)
        _sync(dev)
        train_step = (time.perf_counter() - t0) / cfg.steps_per_epoch
        rows[label] = {
            "train_step_s": train_step,
            "model_step_s": time_model_steps(batches, dev, repeats=3),
            "offline_1h_s": time_offline(dev, 15 * 3600),
            "stream_frame_ms": 1000 * time_streaming(dev, 2000),
        }
        print(label, {k: round(v, 5) for k, v in rows[label].items()}, flush=True)
    report["batch_build_s"] = build
    report["rows"] = rows
    base = rows["cpu, all cores"]
    report["speedup_cuda_vs_cpu_all_cores"] = {
        k: base[k] / rows[args.device][k] for k in base}
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(json.dumps(report["speedup_cuda_vs_cpu_all_cores"], indent=2))


if __name__ == "__main__":
    main()
