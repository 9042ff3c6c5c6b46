"""What ``--plot --report`` and ``--overlay`` cost ``painvision analyze``, measured in one run.

Runs the CLI as a user does (a fresh process each time, start-up included) on the
bundled sample: plain ``analyze``, ``analyze --plot --report`` and ``analyze --overlay``,
interleaved (A B C C B A ...) so that a change in the machine's load hits all three alike,
and reports the medians as ratios. The cost of ``--plot --report`` is judged round by
round: each round's two runs are seconds apart, so their ratio is free of the machine's
drift over the whole measurement (here the medians of ten rounds range over a fifth and
more within one run, which moves the ratio of the two medians by as much as the cost).
Its median comes with a 95 % bootstrap interval: single runs vary by more than the cost,
so it takes many rounds to tell the cost from the noise.
Targets (issue #14): ``--plot --report`` adds at most 5 % to analyze's time; ``--overlay``
runs at no less than 0.5x the speed of plain analyze.

``--loops K`` times the video played K times over instead (a temporary file): the plot
and the page cost about the same whatever the length, the analysis grows with it.

    python scripts/report_cost.py [--repeats 7] [--video sample_videos/astronaut_pain.mp4]
                                  [--loops 1] [--json docs/report_cost.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from painvision.io.video import loop_video

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "astronaut_pain.mp4"
EXE = Path(sys.executable).with_name("painvision")

VARIANTS = {"analyze": [], "plot_report": ["--plot", "--report"], "overlay": ["--overlay"]}


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(video: Path, out: Path, extra: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, all threads) of one CLI run."""
    cmd = [str(EXE), "analyze", str(video), "--out", str(out), "--overwrite", "-q", *extra]
    c0, t0 = _cpu(), time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {res.stderr.strip()}")
    return wall, cpu


def _median_interval(values: list[float], n: int = 4000) -> tuple[float, float]:
    """A 95 % bootstrap interval of the median of ``values`` (fixed seed: the same
    interval for the same runs)."""
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(n))
    return medians[int(0.025 * n)], medians[int(0.975 * n) - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", type=Path, default=SAMPLE)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--loops", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    times: dict[str, list[float]] = {k: [] for k in VARIANTS}
    cpus: dict[str, list[float]] = {k: [] for k in VARIANTS}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        video = args.video
        if args.loops > 1:
            video = Path(tmp) / f"{args.video.stem}_x{args.loops}.mp4"
            loop_video(args.video, video, args.loops)
        _run(video, Path(tmp) / "warm", [])  # caches warm, files in the page cache
        for r in range(args.repeats):
            order = list(VARIANTS.items())
            for name, extra in order if r % 2 == 0 else order[::-1]:
                wall, cpu = _run(video, Path(tmp) / name, extra)
                times[name].append(wall)
                cpus[name].append(cpu)
            print(f"round {r + 1}/{args.repeats}: "
                  + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    load_after = os.getloadavg()
    med = {k: statistics.median(v) for k, v in times.items()}
    # each round's runs are next to each other, so their ratio is free of the load's drift
    # over the whole measurement: its median, with its quartiles for the spread
    paired = [p / a - 1 for a, p in zip(times["analyze"], times["plot_report"], strict=True)]
    quartiles = (statistics.quantiles(paired, n=4, method="inclusive") if len(paired) > 1
                 else paired * 3)
    paired_median = statistics.median(paired)
    ci95 = _median_interval(paired)
    cpu_med = {k: statistics.median(v) for k, v in cpus.items()}
    report = {
        "video": str(args.video.resolve().relative_to(ROOT)) if args.video.resolve().is_relative_to(
            ROOT) else str(args.video),
        "loops": args.loops,
        "repeats": args.repeats,
        "median_s": {k: round(v, 3) for k, v in med.items()},
        "runs_s": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "cpu_median_s": {k: round(v, 3) for k, v in cpu_med.items()},
        "plot_report_added": round(med["plot_report"] / med["analyze"] - 1, 4),
        "plot_report_added_paired": {"median": round(paired_median, 4),
                                     "quartiles": [round(quartiles[0], 4),
                                                   round(quartiles[2], 4)],
                                     "ci95": [round(ci95[0], 4), round(ci95[1], 4)]},
        "plot_report_added_cpu": round(cpu_med["plot_report"] / cpu_med["analyze"] - 1, 4),
        "overlay_speed_vs_analyze_cpu": round(cpu_med["analyze"] / cpu_med["overlay"], 3),
        "overlay_speed_vs_analyze": round(med["analyze"] / med["overlay"], 3),
        "targets": {"plot_report_added_max": 0.05, "overlay_speed_min": 0.5},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(),
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in load_after]},
        "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip(),
    }
    ok_plot = paired_median <= 0.05
    ok_overlay = report["overlay_speed_vs_analyze"] >= 0.5
    print(f"analyze {med['analyze']:.2f} s, --plot --report {med['plot_report']:.2f} s "
          f"(round by round {100 * paired_median:+.1f} %, quartiles "
          f"{100 * quartiles[0]:+.1f} to {100 * quartiles[2]:+.1f} %, 95 % interval of the "
          f"median {100 * ci95[0]:+.1f} to {100 * ci95[1]:+.1f} %; target <= 5 %: "
          f"{'ok' if ok_plot else 'MISSED'}; the medians' ratio, not paired, "
          f"{100 * report['plot_report_added']:+.1f} %), --overlay {med['overlay']:.2f} s "
          f"(speed {report['overlay_speed_vs_analyze']:.2f}x of analyze, target >= 0.5x: "
          f"{'ok' if ok_overlay else 'MISSED'}). CPU time: "
          f"{100 * report['plot_report_added_cpu']:+.1f} % and "
          f"{report['overlay_speed_vs_analyze_cpu']:.2f}x; load average {load_before[0]:.2f} -> "
          f"{load_after[0]:.2f} on {os.cpu_count()} CPUs")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
