"""Videos per minute of ``painvision analyze --jobs N`` against ``--jobs 1``.

Copies a video N times (default: the bundled sample, 4 copies) into a temporary folder,
runs the installed command over the folder with ``--jobs 1`` and with each other job
count, alternating, ``--repeats`` times (the best run of each counts: the machine is
shared), start-up included, and checks that every CSV is byte for byte the one
``--jobs 1`` wrote.

    python scripts/jobs_throughput.py [--video V] [--copies 4] [--loops K] [--jobs 2]
        [--repeats 2] [--floor [--pin]] [--json OUT]

``--loops K`` makes each copy the video played K times over (longer videos, so that the
start-up every run pays, about a second, weighs less).

``--floor`` also measures what the machine allows: the bare floor of ``bench latency``
(OpenCV decoding, ``cv2.cvtColor``, MediaPipe's face mesh; nothing of this project on the
path) over the same copies, in one process and split over N processes, alternating with
the runs above (``--pin``: each of its processes on a core of its own, the single process
too, so that its baseline is one core). Its ratio is given for the loops alone (start-up
left out, so no start-up or project code can lower it) and for the whole processes.

``--startup`` also runs ``--jobs 1`` on one copy, and splits the time of a run into what
every run pays once (start-up and exit) and what each video adds. With those, a run over
the copies in N processes cannot beat (once + copies x video) / (once + ceil(copies / N) x
video) however well the cores scale; the bare floor's own start-up (Python, importing
OpenCV and MediaPipe's face mesh, and exiting) is timed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from painvision.io.video import loop_video

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "astronaut_pain.mp4"
EXE = Path(sys.executable).with_name("painvision")


def run(folder: Path, out: Path, jobs: int) -> float:
    if out.exists():
        shutil.rmtree(out)
    start = time.perf_counter()
    res = subprocess.run([str(EXE), "analyze", str(folder), "--out", str(out), "-q",
                          "--jobs", str(jobs)], capture_output=True, text=True)
    took = time.perf_counter() - start
    if res.returncode != 0:
        sys.exit(f"painvision analyze --jobs {jobs} failed: {res.stderr.strip()}")
    return took


def floor_worker(videos: list[str], core: int | None) -> None:
    """The bare floor over ``videos`` one after the other (on ``core`` alone, if given);
    prints the loops' seconds."""
    import cv2

    if core is not None:
        os.sched_setaffinity(0, {core})

    from painvision.bench.latency import bare_floor

    cv2.setNumThreads(1)  # as analyze does
    took = sum(bare_floor(v)[0] for v in videos)
    print(f"{took:.4f}")


def run_floor(videos: list[Path], jobs: int, pin: bool) -> tuple[float, float]:
    """The bare floor over ``videos`` split over ``jobs`` processes (with ``pin``, each on
    a core of its own): (seconds of the longest worker's loops, of the whole processes)."""
    shares = [share for share in (videos[k::jobs] for k in range(jobs)) if share]
    cores = sorted(os.sched_getaffinity(0))
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, __file__, "--floor-worker", *map(str, share)]
                              + (["--floor-core", str(cores[k % len(cores)])] if pin else []),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k, share in enumerate(shares)]
    outs = [p.communicate() for p in procs]
    took = time.perf_counter() - start
    for p, (_, err) in zip(procs, outs, strict=True):
        if p.returncode:
            sys.exit(f"the bare floor failed: {err.strip().splitlines()[-1:]}")
    return max(float(out) for out, _ in outs), took


def bare_startup() -> float:
    """Seconds for a Python that imports OpenCV and MediaPipe's face mesh, then exits."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import cv2; from mediapipe.python.solutions "
                    "import face_mesh"], check=True, capture_output=True)
    return time.perf_counter() - start


def loop_copy(src: Path, out: Path, loops: int) -> None:
    if loops == 1:
        shutil.copy(src, out)
    else:
        loop_video(src, out, loops)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--video", type=Path, default=SAMPLE)
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--loops", type=int, default=1)
    ap.add_argument("--jobs", type=int, nargs="+", default=[2])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--floor", action="store_true",
                    help="also the bare OpenCV + MediaPipe floor in 1 and N processes")
    ap.add_argument("--pin", action="store_true",
                    help="the floor's processes each on a core of its own")
    ap.add_argument("--startup", action="store_true",
                    help="also split a run's time into start-up and per video")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--floor-worker", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--floor-core", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.floor_worker:
        floor_worker(args.floor_worker, args.floor_core)
        return
    with tempfile.TemporaryDirectory(prefix="painvision-jobs-") as tmp:
        folder = Path(tmp) / "videos"
        folder.mkdir()
        loop_copy(args.video, folder / f"{args.video.stem}_0.mp4", args.loops)
        for k in range(1, args.copies):
            shutil.copy(folder / f"{args.video.stem}_0.mp4",
                        folder / f"{args.video.stem}_{k}.mp4")
        counts = [1, *[j for j in args.jobs if j != 1]]
        best = {j: float("inf") for j in counts}
        copies = sorted(folder.glob("*.mp4"))
        floor_loops = {j: float("inf") for j in counts}
        floor_whole = {j: float("inf") for j in counts}
        one = Path(tmp) / "one"
        one.mkdir()
        shutil.copy(copies[0], one / copies[0].name)
        single = bare = float("inf")
        for _ in range(args.repeats):
            if args.startup:
                single = min(single, run(one, Path(tmp) / "out_one", 1))
                bare = min(bare, bare_startup())
            for j in counts:
                best[j] = min(best[j], run(folder, Path(tmp) / f"out{j}", j))
                if args.floor:
                    loops_s, whole_s = run_floor(copies, j, args.pin)
                    floor_loops[j] = min(floor_loops[j], loops_s)
                    floor_whole[j] = min(floor_whole[j], whole_s)
        identical = all(
            (Path(tmp) / f"out{j}" / f.name).read_bytes() == f.read_bytes()
            for j in counts[1:] for f in (Path(tmp) / "out1").glob("*.csv"))
    per_min = {j: round(60 * args.copies / best[j], 2) for j in counts}
    report = {
        "video": args.video.name, "copies": args.copies, "loops": args.loops,
        "repeats": args.repeats,
        "seconds": {str(j): round(best[j], 2) for j in counts},
        "videos_per_minute": {str(j): per_min[j] for j in counts},
        "throughput_over_jobs_1": {str(j): round(per_min[j] / per_min[1], 3) for j in counts},
        "csv_identical_to_jobs_1": identical, "cpus": os.cpu_count(),
        **({"bare_floor": {
            "pinned_to_cores": args.pin,
            "seconds_loops": {str(j): round(floor_loops[j], 2) for j in counts},
            "seconds_processes": {str(j): round(floor_whole[j], 2) for j in counts},
            "throughput_over_1_process_loops": {
                str(j): round(floor_loops[1] / floor_loops[j], 3) for j in counts},
            "throughput_over_1_process_processes": {
                str(j): round(floor_whole[1] / floor_whole[j], 3) for j in counts},
        }} if args.floor else {}),
        "machine": platform.machine(),
    }
    if args.startup and args.copies > 1:
        once = (args.copies * single - best[1]) / (args.copies - 1)
        per_video = (best[1] - single) / (args.copies - 1)
        report["startup"] = {
            "seconds_one_copy": round(single, 2), "seconds_once_per_run": round(once, 2),
            "seconds_per_video": round(per_video, 2),
            "bare_python_opencv_mediapipe_import_and_exit": round(bare, 2),
            "ceiling_with_perfect_scaling": {
                str(j): round((once + args.copies * per_video)
                              / (once + -(-args.copies // j) * per_video), 3) for j in counts},
        }
    print(f"{args.copies} copies of {args.video.name} (played {args.loops}x), "
          f"{os.cpu_count()} CPUs, best of "
          f"{args.repeats}:")
    for j in counts:
        print(f"  --jobs {j}: {best[j]:.2f} s, {per_min[j]:.1f} videos/min, "
              f"{per_min[j] / per_min[1]:.2f}x --jobs 1")
    print(f"  CSVs identical to --jobs 1: {identical}")
    if args.floor:
        for j in counts[1:]:
            print(f"  bare floor (OpenCV + MediaPipe) in {j} processes: "
                  f"{floor_loops[1] / floor_loops[j]:.2f}x one process, its loops alone "
                  f"({floor_loops[1]:.2f} s against {floor_loops[j]:.2f} s); "
                  f"{floor_whole[1] / floor_whole[j]:.2f}x with their start-up")
    if "startup" in report:
        st = report["startup"]
        ceiling = st["ceiling_with_perfect_scaling"]
        print(f"  every run pays {st['seconds_once_per_run']:.2f} s once (the bare import and "
              f"exit alone: {bare:.2f} s), each video {st['seconds_per_video']:.2f} s: "
              + ", ".join(f"--jobs {j} could give at most {ceiling[str(j)]:.2f}x"
                          for j in counts[1:])
              + " if the cores scaled perfectly")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
