"""Latency and throughput of the pipeline, per stage, against an honest floor.

For each video (and each ``--sizes`` rescale of it, written to a temporary file), in a
fresh process so that its peak memory is its own, and in one run:

- the **floor**: OpenCV decoding, ``cv2.cvtColor`` and MediaPipe's face mesh (refined,
  one face, tracking mode) one after the other, with nothing from this project: the
  least work any pipeline built on this front end has to do (timed with OpenCV's thread
  pool as it comes and with one thread, the faster counting);
- the project's **front end** alone (``TrackReader``: decoding, conversion to RGB and
  the shrinking of big frames in a thread, the subject's mesh and the low-rate look for
  other people; OpenCV on one thread, as the CLI runs it);
- the **pipeline**: ``analyze_video`` end to end (front end, pose normalisation, features,
  the default scorer on the CPU; no output files); ``device`` and ``weights`` are the
  learned model's, for its stages below;
- each repeated ``repeats`` times, alternating, the fastest run counting (the machine may
  be shared); headline ``pipeline fps / floor fps``;
- per-stage costs per frame (floor: decode, BGR->RGB, mesh; project: decode, downscale,
  front end, one frame's features, the combined scorer's live step, the learned model),
  and **live latency** (frame in -> reading out on the streaming path);
- for frames larger than the working size (``FaceMeshOptions.max_side``): PSPI per frame
  against a run on the full-resolution frames (Pearson r, mean absolute difference);
- peak resident memory, the machine, versions and device.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
import re
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from painvision._version import __version__
from painvision.errors import InputError

__all__ = ["bare_floor", "encode_size", "latency_markdown", "parse_sizes", "pspi_agreement",
           "run_latency"]


def _stats(ms: list[float] | np.ndarray) -> dict[str, float]:
    a = np.asarray(ms, float)
    out = {f"p{q}": round(float(np.percentile(a, q)), 3) for q in (50, 95, 99)}
    return out | {"mean": round(float(a.mean()), 3)}


def parse_sizes(text: str) -> list[str]:
    """``"native,1080p,2160p"`` -> the list; each is ``native`` or a height ``<N>p``.

    Raises:
        InputError: anything else.
    """
    sizes = [s.strip().lower() for s in text.split(",") if s.strip()]
    for s in sizes:
        m = re.fullmatch(r"(\d+)p", s)
        if s != "native" and not (m and 144 <= int(m.group(1)) <= 4320):
            raise InputError(f"unknown size {s!r}: expected native or a height such as "
                             "480p, 1080p, 2160p (144p-4320p)")
    if not sizes:
        raise InputError("no size given: expected e.g. native,1080p,2160p")
    return list(dict.fromkeys(sizes))


def encode_size(video: str | os.PathLike[str], size: str, folder: Path) -> Path:
    """``video`` rescaled to ``size`` (a height ``<N>p``, aspect kept, even width), as an
    MPEG-4 file in ``folder``; ``native`` gives ``video`` itself."""
    import cv2

    from painvision.io.video import FrameReader, probe_video

    if size == "native":
        return Path(video)
    info = probe_video(video)
    h = int(size[:-1])
    w = max(2, int(round(info.width * h / info.height / 2)) * 2)
    out = folder / f"{Path(video).stem}_{size}.mp4"
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), info.fps or 25.0,
                             (w, h))
    try:
        for f in FrameReader(video):
            writer.write(cv2.resize(f.image_bgr, (w, h), interpolation=cv2.INTER_CUBIC))
    finally:
        writer.release()
    return out


def bare_floor(video: str, limit: int | None = None
                ) -> tuple[float, int, dict[str, list[float]]]:
    """OpenCV + MediaPipe alone, one after the other (imports nothing of this project),
    over the whole video or its first ``limit`` frames."""
    import cv2
    from mediapipe.python.solutions import face_mesh

    stages: dict[str, list[float]] = {"decode": [], "bgr_to_rgb": [], "face_mesh": []}
    start = time.perf_counter()
    cap = cv2.VideoCapture(video)
    mesh = face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1,
                              refine_landmarks=True)
    n = 0
    while limit is None or n < limit:
        t0 = time.perf_counter()
        ok, frame = cap.read()
        t1 = time.perf_counter()
        if not ok:
            break
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        t2 = time.perf_counter()
        mesh.process(rgb)
        t3 = time.perf_counter()
        stages["decode"].append((t1 - t0) * 1000)
        stages["bgr_to_rgb"].append((t2 - t1) * 1000)
        stages["face_mesh"].append((t3 - t2) * 1000)
        n += 1
    mesh.close()
    cap.release()
    return time.perf_counter() - start, n, stages


def pspi_agreement(a: np.ndarray, b: np.ndarray) -> dict[str, float | int | None]:
    """Per-frame PSPI of two runs over the same frames, on the frames both scored:
    Pearson r, mean absolute difference, how many and what share of frames."""
    both = np.isfinite(a) & np.isfinite(b)
    x, y = a[both], b[both]
    return {
        "frames_compared": int(both.sum()),
        "pspi_pearson": round(float(np.corrcoef(x, y)[0, 1]), 4)
        if x.size > 2 and np.std(x) > 0 and np.std(y) > 0 else None,
        "pspi_mean_abs_diff": round(float(np.abs(x - y).mean()), 4) if x.size else None,
        "face_found_both": round(float(both.mean()), 4),
    }


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def measure_video(video: str, device: str = "auto", weights: str | None = None,
                  repeats: int = 2) -> dict[str, object]:
    """Everything in the module docstring for one video, in this process."""
    import cv2
    import mediapipe

    from painvision.io.video import FrameReader, probe_video
    from painvision.landmarks.extract import TrackReader
    from painvision.landmarks.facemesh import FaceMeshOptions, fit_frame, fit_size
    from painvision.landmarks.subject import SubjectFrontEnd
    from painvision.pipeline import analyze_video

    info = probe_video(video)
    options = FaceMeshOptions()
    # Warm-up: page the video in, start MediaPipe once.
    for _ in FrameReader(video):
        pass
    bare_floor(video, limit=10)

    floor_s = front_s = pipe_s = np.inf
    floor_stages: dict[str, list[float]] = {}
    floor_threads = 0
    analysis = None
    default_threads = cv2.getNumThreads()
    for _ in range(max(repeats, 1)):
        # The floor with OpenCV's own thread pool as it comes and with one thread (as the
        # CLI runs it): the faster counts.
        for threads in (default_threads, 1):
            cv2.setNumThreads(threads)
            took, n, st = bare_floor(video)
            if took < floor_s:
                floor_s, floor_stages, floor_threads = took, st, threads
        cv2.setNumThreads(1)  # as painvision's CLI runs
        took, _ = _timed(lambda: [c for c in TrackReader(video, options=options).chunks()])
        front_s = min(front_s, took)
        # The pipeline as `painvision analyze` runs it: the default scorer and its shipped
        # evidence, on the CPU. --device and --weights are the learned model's, timed below.
        took, analysis = _timed(lambda: analyze_video(video))
        pipe_s = min(pipe_s, took)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # The project's stages one after the other, keeping the meshes for the scorer stages.
    dec_ms, fit_ms, front_ms, meshes, times = [], [], [], [], []
    with SubjectFrontEnd(options) as front:
        t0 = time.perf_counter()
        for f in FrameReader(video):
            t1 = time.perf_counter()
            small = fit_frame(f.image_bgr, options.max_side)
            t2 = time.perf_counter()
            found = front.process(small, f.t)
            t3 = time.perf_counter()
            dec_ms.append((t1 - t0) * 1000)
            fit_ms.append((t2 - t1) * 1000)
            front_ms.append((t3 - t2) * 1000)
            meshes.append(found.landmarks if found.landmarks is not None
                          else np.full((478, 3), np.nan, np.float32))
            times.append(f.t)
            t0 = time.perf_counter()
    scorer_part = _scorer_stages(np.stack(meshes), np.asarray(times), info.width, info.height,
                                 np.asarray(front_ms), device, weights)

    agreement = None
    if options.max_side and max(info.width, info.height) > options.max_side:
        full = analyze_video(video, face_mesh=FaceMeshOptions(max_side=0))
        agreement = {"working_size": list(fit_size(info.width, info.height, options.max_side)),
                     **pspi_agreement(analysis.aus.pspi, full.aus.pspi)}
    return {
        "video": video, "video_name": Path(video).name, "frames": n,
        "resolution": [info.width, info.height],
        "headline": {
            "floor_fps": round(n / floor_s, 2), "front_end_fps": round(n / front_s, 2),
            "pipeline_fps": round(n / pipe_s, 2),
            "front_end_over_floor": round(floor_s / front_s, 3),
            "pipeline_over_floor": round(floor_s / pipe_s, 3),
        },
        "floor_ms_per_frame": {k: _stats(v) for k, v in floor_stages.items()},
        "floor_opencv_threads": floor_threads,
        "stages_ms_per_frame": {
            "decode": _stats(dec_ms), "downscale": _stats(fit_ms),
            "front_end": _stats(front_ms), **scorer_part["stages"],
            "total_pipeline": round(1000 * pipe_s / n, 3),
        },
        "live_latency_ms": scorer_part["live"],
        "model_step_share_of_face_mesh_p50": scorer_part["model_share"],
        "agreement_with_full_resolution": agreement,
        "peak_rss_mb": round(peak_rss, 1),
        "scorer": analysis.scorer,
        "environment": {
            "painvision": __version__, "machine": platform.machine(),
            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "model_runtime": scorer_part["runtime"],
            "mediapipe": mediapipe.__version__, "opencv": cv2.__version__,
            "device": scorer_part["device"],
        },
    }


def _scorer_stages(lm: np.ndarray, t: np.ndarray, width: int, height: int,
                   front_ms: np.ndarray, device: str, weights: str | None) -> dict:
    """Features, the combined scorer's live step and the learned model, per frame (on
    PyTorch where it is installed, else on ONNX Runtime: ``classifier.scorer``)."""
    from painvision.classifier.scorer import ModelScorer, ModelStream
    from painvision.features.geometry import au_signals
    from painvision.features.inputs import model_features, prepare_inputs
    from painvision.landmarks.pose import align_to_template
    from painvision.scoring import create_scorer
    from painvision.types import LandmarkTrack

    n = len(t)
    det = np.isfinite(lm).all(axis=(1, 2))
    track = LandmarkTrack(t, np.arange(n), lm, det, det.astype(np.float32),
                          det.astype(np.int16), width, height)
    t1 = time.perf_counter()
    inputs = prepare_inputs(track)
    features_ms = (time.perf_counter() - t1) * 1000 / n
    scorer = ModelScorer(weights, device)
    t1 = time.perf_counter()
    scorer.score(inputs)
    model_offline_ms = (time.perf_counter() - t1) * 1000 / n
    neutral = inputs.neutral
    pix = track.pixels()
    step_ms, feat1_ms = [], []

    def measured(i: int):  # one frame's pose, AU signals and whether it can be scored
        pose = align_to_template(pix[i : i + 1])
        sig = au_signals(pose.aligned)
        return pose, sig, pose.pose_ok & np.isfinite(sig).all(axis=1)

    if scorer.backend == "torch":
        # Streaming: one frame's features, one model step, on one thread.
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        net = scorer.model
        try:
            with torch.inference_mode():
                state = net.init_state(1)
                feats = torch.from_numpy(inputs.features)
                for i in range(min(n, 30)):
                    _, state = net.step(feats[i][None].to(scorer.device), state)
                state = net.init_state(1)
                for i in range(n):
                    t1 = time.perf_counter()
                    pose, sig, valid = measured(i)
                    f1 = model_features(pose.aligned, sig, pose.yaw_pitch_roll, valid,
                                        track.t[i : i + 1], neutral)
                    t2 = time.perf_counter()
                    _, state = net.step(torch.from_numpy(f1).to(scorer.device), state)
                    if scorer.device.type == "cuda":
                        torch.cuda.synchronize()
                    t3 = time.perf_counter()
                    feat1_ms.append((t2 - t1) * 1000)
                    step_ms.append((t3 - t2) * 1000)
        finally:
            torch.set_num_threads(threads)
        runtime = torch.__version__
    else:  # ONNX Runtime: the model's step is the stream's update less its features
        import onnxruntime

        stream = ModelStream(scorer)
        for i in range(n):
            t1 = time.perf_counter()
            pose, sig, valid = measured(i)
            t2 = time.perf_counter()
            model_features(pose.aligned, sig, pose.yaw_pitch_roll, valid,
                           track.t[i : i + 1], neutral)
            t3 = time.perf_counter()
            stream.update(float(t[i]), pose.aligned[0], sig[0], pose.yaw_pitch_roll[0],
                          bool(valid[0]), neutral)
            t4 = time.perf_counter()
            feat1_ms.append((t3 - t1) * 1000)
            step_ms.append(max((t4 - t3) - (t3 - t2), 0.0) * 1000)
        runtime = f"onnxruntime {onnxruntime.__version__}"
    stream = create_scorer("combined").stream()
    combined_ms = []
    for i in range(n):
        t1 = time.perf_counter()
        stream.update(float(t[i]), inputs.pose.aligned[i], inputs.signals[i],
                      inputs.pose.yaw_pitch_roll[i], bool(inputs.valid[i]), neutral)
        combined_ms.append((time.perf_counter() - t1) * 1000)
    live = front_ms + np.asarray(feat1_ms) + np.asarray(combined_ms)
    return {
        "stages": {"features_one_frame": _stats(feat1_ms),
                   "combined_scorer_step": _stats(combined_ms),
                   "model_step_one_thread": _stats(step_ms),
                   "features_offline": round(features_ms, 3),
                   "model_offline": round(model_offline_ms, 3)},
        "live": _stats(live),
        "model_share": round(float(np.median(step_ms) / np.median(front_ms)), 4),
        "torch": runtime if scorer.backend == "torch" else None, "runtime": runtime,
        "device": str(scorer.device), "backend": scorer.backend,
    }


def _measure_in_child(video: str, device: str, weights: str | None, repeats: int) -> dict:
    # MediaPipe's native start-up notes (the bare floor's graph too) would land in the
    # middle of the report; errors come back to the parent as exceptions
    from painvision.landmarks.facemesh import _NativeStderrMute

    mute = _NativeStderrMute()
    mute.on()
    try:
        return measure_video(video, device, weights, repeats)
    finally:
        mute.off()


def run_latency(videos: list[str | os.PathLike[str]], *, sizes: list[str] | None = None,
                device: str = "auto", weights: str | os.PathLike[str] | None = None,
                repeats: int = 2,
                on_step: Callable[[str], None] | None = None) -> dict[str, object]:
    """Measure each video at each size (see the module docstring), each in a fresh
    process; returns a JSON-able report with one entry per (video, size)."""
    from concurrent.futures import ProcessPoolExecutor

    runs = []
    # the rescaled copies show the face: a private folder (mode 0700), removed at the end,
    # also after Ctrl-C or a kill (SIGTERM, which the command turns into an interrupt);
    # the measuring process is then stopped at once rather than waited for
    with tempfile.TemporaryDirectory(prefix="painvision-latency-") as tmp:
        for video in videos:
            for size in sizes or ["native"]:
                if on_step is not None:
                    on_step(f"{Path(video).name} {size}")
                path = encode_size(video, size, Path(tmp))
                ctx = mp.get_context("spawn")
                pool = ProcessPoolExecutor(1, mp_context=ctx)
                try:
                    r = pool.submit(_measure_in_child, str(path), device,
                                    None if weights is None else str(weights), repeats).result()
                except BaseException:
                    for proc in list(pool._processes.values()):  # noqa: SLF001
                        proc.kill()
                    raise
                finally:
                    pool.shutdown(wait=True, cancel_futures=True)
                r["size"] = size
                r["video_name"] = Path(video).name
                runs.append(r)
    return {"runs": runs, "repeats": repeats, "environment": runs[0]["environment"]}


def latency_markdown(report: dict) -> str:
    runs, env = report["runs"], report["environment"]
    rows = [
        f"{env['cpus']} CPUs ({env['processor']}), painvision {env['painvision']}, "
        f"mediapipe {env['mediapipe']}, OpenCV {env['opencv']}, model on "
        f"{env.get('model_runtime', env.get('torch'))}, "
        f"model device {env['device']} (the pipeline's default scorer runs on the CPU); "
        f"fastest of {report['repeats']} alternating runs each.",
        "",
        "| video | size | frames | floor fps (OpenCV + MediaPipe alone) | front end fps "
        "| pipeline fps | front end / floor | pipeline / floor | PSPI vs full resolution "
        "(r / mean abs diff) | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        h, a = r["headline"], r["agreement_with_full_resolution"]
        agree = "- (not downscaled)" if a is None else (
            f"{a['pspi_pearson']} / {a['pspi_mean_abs_diff']} "
            f"(at {a['working_size'][0]}x{a['working_size'][1]})")
        rows.append(
            f"| `{r['video_name']}` | {r['size']} {r['resolution'][0]}x{r['resolution'][1]} "
            f"| {r['frames']} | {h['floor_fps']} | {h['front_end_fps']} | {h['pipeline_fps']} "
            f"| {h['front_end_over_floor']} | **{h['pipeline_over_floor']}** | {agree} "
            f"| {r['peak_rss_mb']} |")
    rows += ["", "Per frame, p50 in ms (p95):", "",
             "| stage | " + " | ".join(f"{r['size']} {r['resolution'][0]}x{r['resolution'][1]}"
                                       for r in runs) + " |",
             "|---|" + "---|" * len(runs)]

    def line(name: str, get: Callable[[dict], dict | float]) -> None:
        cells = []
        for r in runs:
            v = get(r)
            cells.append(f"{v['p50']} ({v['p95']})" if isinstance(v, dict) else f"{v}")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")

    line("floor: decode", lambda r: r["floor_ms_per_frame"]["decode"])
    line("floor: BGR to RGB (cv2.cvtColor)", lambda r: r["floor_ms_per_frame"]["bgr_to_rgb"])
    line("floor: face mesh", lambda r: r["floor_ms_per_frame"]["face_mesh"])
    s = "stages_ms_per_frame"
    line("decode", lambda r: r[s]["decode"])
    line("downscale to the working size", lambda r: r[s]["downscale"])
    line("front end (mesh, look for others, tracker)", lambda r: r[s]["front_end"])
    line("features, one frame", lambda r: r[s]["features_one_frame"])
    line("combined scorer, live step", lambda r: r[s]["combined_scorer_step"])
    line("model step, one thread", lambda r: r[s]["model_step_one_thread"])
    line("live latency (frame in -> reading)", lambda r: r["live_latency_ms"])
    line("whole pipeline (mean)", lambda r: r[s]["total_pipeline"])
    return "\n".join(rows) + "\n"
