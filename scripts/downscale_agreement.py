"""Does reading big frames at a smaller working size keep the scores?

Rescales a video (default: the bundled sample) to each ``--sizes`` height in a temporary
folder, analyses each as decoded and again shrunk by each ``--factors`` whole factor
(``FaceMeshOptions.max_side``), and reports per-frame PSPI agreement with the
as-decoded run (Pearson r, mean absolute difference) and the time of each run.

    python scripts/downscale_agreement.py [--video V] [--sizes 1080p,2160p] [--factors 2 3]
        [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from painvision.bench.latency import encode_size, parse_sizes, pspi_agreement
from painvision.io.video import probe_video
from painvision.landmarks.facemesh import FaceMeshOptions
from painvision.pipeline import analyze_video

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "astronaut_pain.mp4"


def pspi(path: Path, max_side: int) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    a = analyze_video(path, face_mesh=FaceMeshOptions(max_side=max_side))
    return a.aus.pspi, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--video", type=Path, default=SAMPLE)
    ap.add_argument("--sizes", default="1080p,2160p")
    ap.add_argument("--factors", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="painvision-downscale-") as tmp:
        for size in parse_sizes(args.sizes):
            path = encode_size(args.video, size, Path(tmp))
            info = probe_video(path)
            full, full_s = pspi(path, 0)
            for k in args.factors:
                longer = max(info.width, info.height)
                small, small_s = pspi(path, -(-longer // k))
                agree = pspi_agreement(full, small)
                rows.append({
                    "size": size, "resolution": [info.width, info.height], "factor": k,
                    "working": [info.width // k, info.height // k],
                    "frames": agree["frames_compared"],
                    "pspi_pearson": agree["pspi_pearson"],
                    "pspi_mean_abs_diff": agree["pspi_mean_abs_diff"],
                    "time_over_full": round(small_s / full_s, 3),
                })
                r = rows[-1]
                print(f"{size} {info.width}x{info.height} read at 1/{k} "
                      f"({r['working'][0]}x{r['working'][1]}): PSPI r {r['pspi_pearson']}, "
                      f"mean abs diff {r['pspi_mean_abs_diff']}, time x{r['time_over_full']}")
    if args.json:
        args.json.write_text(json.dumps({"video": args.video.name, "runs": rows}, indent=2)
                             + "\n")


if __name__ == "__main__":
    main()
