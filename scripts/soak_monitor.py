"""Soak benchmark: feed a long stream through ``PainMonitor`` as fast as it goes and
watch resident memory and per-frame latency.

Renders a one-minute loop of random scenarios (pain episodes among blinks, talking,
smiles, yawns, head motion) once, keeps it JPEG-encoded as a camera would send it,
and decodes each frame again before ``process`` (timestamps keep increasing, so the
monitor sees one long recording). Resident memory (RSS) is sampled every 1 000 frames.

    python scripts/soak_monitor.py --minutes 30 --json docs/soak.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from painvision.live import PainMonitor  # noqa: E402


def render_loop(seconds: float, fps: float, size: tuple[int, int], seed: int) -> list[bytes]:
    """Runs in a child process: the renderer's dependencies (SciPy, scikit-image) must
    not inflate the monitored process's memory."""
    from painvision.synth.faces import load_photo
    from painvision.synth.render import FaceRig
    from painvision.synth.scenario import random_timeline

    rig = FaceRig(load_photo("astronaut"), size)
    tl = random_timeline(np.random.default_rng(seed), seconds, fps, 1.0)
    names = list(tl.drive)
    out = []
    for i in range(len(tl)):
        img = rig.frame({n: float(tl.drive[n][i]) for n in names}, tl.head[i],
                        float(tl.closure[i]))
        out.append(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="stream length (stream time)")
    ap.add_argument("--fps", type=float, default=15.0)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--scorer", default="combined", choices=["combined", "analytic", "model"])
    ap.add_argument("--seed", type=int, default=13,
                    help="scenario of the looped minute (13: one pain episode among "
                         "confounders)")
    ap.add_argument("--json", type=Path, help="write the report here")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    with mp.get_context("spawn").Pool(1) as pool:
        loop = pool.apply(render_loop, (60.0, args.fps, (w, h), args.seed))
    total = int(args.minutes * 60 * args.fps)
    proc = psutil.Process()
    lat = np.empty(total, np.float32)
    rss: list[tuple[int, float]] = []
    onsets = 0
    start = time.perf_counter()
    with PainMonitor(scorer=args.scorer) as monitor:
        for k in range(total):
            frame = cv2.imdecode(np.frombuffer(loop[k % len(loop)], np.uint8), cv2.IMREAD_COLOR)
            t0 = time.perf_counter()
            r = monitor.process(frame, k / args.fps)
            lat[k] = (time.perf_counter() - t0) * 1000.0
            onsets += r.event is not None and r.event.type == "onset"
            if k % 1000 == 0 or k == total - 1:
                rss.append((k, proc.memory_info().rss / 2**20))
                print(f"\r{k + 1}/{total} frames, RSS {rss[-1][1]:.0f} MB", end="",
                      file=sys.stderr, flush=True)
        status = monitor.status()
    wall = time.perf_counter() - start
    print(file=sys.stderr)
    after_warmup = [m for k, m in rss if k >= 1000] or [m for _, m in rss]
    report = {
        "frames": total, "stream_minutes": args.minutes, "fps": args.fps, "size": args.size,
        "scorer": args.scorer, "wall_s": round(wall, 1),
        "frames_per_s": round(total / wall, 1),
        "latency_ms": {f"p{q}": round(float(np.percentile(lat, q)), 2) for q in (50, 95, 99)},
        "rss_mb": {"start": round(after_warmup[0], 1), "end": round(after_warmup[-1], 1),
                   "min": round(min(after_warmup), 1), "max": round(max(after_warmup), 1),
                   "first_frame": round(rss[0][1], 1)},
        "rss_samples": [[k, round(m, 1)] for k, m in rss],
        "seed": args.seed, "episodes": onsets, "loops": round(total / len(loop), 1),
        "neutral": status["neutral"],
        "torch_loaded": "torch" in sys.modules,
        "machine": {"cpu_count": psutil.cpu_count(), "python": platform.python_version()},
    }
    r = report["rss_mb"]
    print(f"{total} frames ({args.minutes:g} min of stream at {args.fps:g} fps) in "
          f"{wall:.0f} s ({report['frames_per_s']} frames/s); latency p50 "
          f"{report['latency_ms']['p50']} ms, p95 {report['latency_ms']['p95']} ms; RSS after "
          f"warm-up {r['start']} MB -> {r['end']} MB (min {r['min']}, max {r['max']}); "
          f"{onsets} episodes")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
