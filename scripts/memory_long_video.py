"""Peak resident memory of ``analyze`` against video length.

Writes the bundled sample looped K times (same frames, continuing timestamps) for each
K, analyses each in a fresh process, and reports peak RSS and its growth per frame
between the shortest and the longest video.

    python scripts/memory_long_video.py --loops 6 12 24 [--scorer combined|analytic|model]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from painvision.io.video import loop_video

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "astronaut_pain.mp4"

CHILD = """
import json, resource, sys
from painvision.pipeline import analyze_video
a = analyze_video(sys.argv[1], device="cpu", scorer=sys.argv[2])
print(json.dumps({"frames": len(a.t),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loops", type=int, nargs="+", default=[6, 12, 24])
    ap.add_argument("--scorer", default="combined", choices=["combined", "analytic", "model"])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in sorted(args.loops):
            video = Path(tmp) / f"loop{k}.mp4"
            loop_video(SAMPLE, video, k)
            res = subprocess.run([sys.executable, "-c", CHILD, str(video), args.scorer],
                                 capture_output=True, text=True, check=True)
            row = json.loads(res.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"{row['frames']:>7} frames: peak RSS {row['peak_rss_mb']:.0f} MB", flush=True)
            video.unlink()
    first, last = rows[0], rows[-1]
    slope = ((last["peak_rss_mb"] - first["peak_rss_mb"]) * 1024
             / max(last["frames"] - first["frames"], 1))
    print(f"growth: {slope:.2f} kB per frame between {first['frames']} and {last['frames']} "
          "frames")
    if args.json:
        args.json.write_text(json.dumps({"scorer": args.scorer, "rows": rows,
                                         "kb_per_frame": round(slope, 3)}, indent=2) + "\n")


if __name__ == "__main__":
    main()
