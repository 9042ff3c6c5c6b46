"""Build the bundled sample videos reproducibly.

sample_videos/astronaut_pain.mp4     the demo clip: neutral, a moderate and a strong pain
                                     episode, blinks, slow head motion
sample_videos/grace_hopper_pain.mp4  the same script on a second identity who wears
                                     glasses (a harder case for the face mesh)

Usage: python scripts/make_sample_video.py [--out sample_videos]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from painvision.synth.render import render_clip
from painvision.synth.sequence import sample_script

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "sample_videos"))
    args = ap.parse_args()
    for photo, seed in (("astronaut", 1), ("grace_hopper", 2)):
        t0 = time.perf_counter()
        path = render_clip(photo, sample_script(), Path(args.out) / f"{photo}_pain.mp4", seed=seed)
        print(f"{path}: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
