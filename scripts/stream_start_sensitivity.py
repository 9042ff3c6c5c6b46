"""How much the monitor's alarms on one look-alike stream depend on the frame it starts at.

Renders one identity's 10-minute look-alike stream of ``scripts/confounder_stream.py``
(the same identity, timeline and camera as there: ``--identity K`` of its three), then
runs ``PainMonitor`` with its defaults (what ``painvision watch FILE`` runs) over it
several times, each starting ``k`` frames later, and counts the onsets. The automatic
neutral is learned from the first seconds the monitor sees, so a start a few frames later
gives it a slightly different neutral (and head-pose reference); the spread of the counts
is the part of ``confounder_stream.py``'s onset count that is luck.

    python scripts/stream_start_sensitivity.py [--identity 2] [--offsets 0,4,8,16]
        [--minutes 10] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from confounder_stream import render_one, sample_identities, timelines  # noqa: E402

from painvision.io.video import FrameReader  # noqa: E402
from painvision.live.monitor import PainMonitor  # noqa: E402


def onsets(video: Path, skip: int) -> list[float]:
    """Onset times of ``PainMonitor()`` over ``video`` from frame ``skip`` on."""
    found = []
    with PainMonitor() as m:
        for i, f in enumerate(FrameReader(video)):
            if i < skip:
                continue
            r = m.process(f.image_bgr, f.t)
            if r.event is not None and r.event.type == "onset":
                found.append(round(r.event.t, 2))
    return found


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--identity", type=int, default=2, help="0, 1 or 2")
    ap.add_argument("--offsets", default="0,4,8,16", help="frames skipped at the start")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    t0 = time.perf_counter()
    ident = sample_identities(3, "heldout", 500)[args.identity]
    look, _ = timelines(600 + args.identity, args.minutes, ident.expressiveness)
    report = {"identity": ident.subject, "minutes": args.minutes, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / f"{ident.subject}_look_alikes.mp4"
        render_one((ident, look, video, 700 + args.identity))
        for k in (int(v) for v in args.offsets.split(",")):
            times = onsets(video, k)
            report["runs"].append({"skipped_frames": k, "onsets": len(times), "t": times})
            print(f"start at frame {k}: {len(times)} onsets", flush=True)
    report["seconds"] = round(time.perf_counter() - t0)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
