"""analyze_video(): decode -> face mesh -> pose normalisation -> AU signals -> scores."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import numpy as np

from painvision.device import resolve_device
from painvision.errors import InputError
from painvision.features import AnalyticScorer, au_signals, estimate_baseline
from painvision.io.video import FrameReader, VideoInfo, probe_video
from painvision.landmarks.facemesh import FaceMeshExtractor, FaceMeshOptions, frame_confidence
from painvision.landmarks.pose import align_to_template
from painvision.landmarks.tracking import SubjectTracker
from painvision.pipeline.analysis import Analysis
from painvision.types import N_LANDMARKS, LandmarkTrack

logger = logging.getLogger(__name__)

__all__ = ["SCORERS", "analyze_video", "extract_track"]

#: Scorers analyze_video can use.
SCORERS = ("analytic",)

Progress = Callable[[int, int], None]


def extract_track(
    path: str | os.PathLike[str],
    *,
    stride: int = 1,
    options: FaceMeshOptions | None = None,
    on_progress: Progress | None = None,
) -> tuple[VideoInfo, LandmarkTrack, int]:
    """Run the face-mesh front end over a video, following one subject.

    Returns:
        ``(info, track, decoded)``: container metadata, the subject's landmark track
        (one row per analysed frame), and how many frames were decoded in all.

    Raises:
        VideoError: the video cannot be opened or decoded.
    """
    info = probe_video(path)
    total = max(info.frame_count // stride + (1 if info.frame_count % stride else 0), 1)
    times: list[float] = []
    indices: list[int] = []
    meshes: list[np.ndarray] = []
    counts: list[int] = []
    empty = np.full((N_LANDMARKS, 3), np.nan, dtype=np.float32)
    tracker = SubjectTracker()
    reader = FrameReader(path, stride=stride)
    with FaceMeshExtractor(options) as mesh:
        for frame in reader:
            faces = mesh.process(frame.image_bgr)
            pick = tracker.select(faces, frame.t)
            times.append(frame.t)
            indices.append(frame.index)
            meshes.append(faces[pick] if pick is not None else empty)
            counts.append(len(faces))
            if on_progress is not None:
                on_progress(len(times), max(total, len(times)))
    landmarks = np.stack(meshes).astype(np.float32)
    detected = np.isfinite(landmarks).all(axis=(1, 2))
    track = LandmarkTrack(
        t=np.asarray(times, dtype=np.float64),
        frame_index=np.asarray(indices, dtype=np.int64),
        landmarks=landmarks,
        detected=detected,
        confidence=np.zeros(len(times), dtype=np.float32),
        n_faces=np.asarray(counts, dtype=np.int16),
        width=info.width,
        height=info.height,
    )
    return info, track, reader.decoded


def analyze_video(
    path: str | os.PathLike[str],
    *,
    device: str = "auto",
    neutral: tuple[float, float] | None = None,
    stride: int = 1,
    scorer: str = "analytic",
    face_mesh: FaceMeshOptions | None = None,
    on_progress: Progress | None = None,
) -> Analysis:
    """Per-frame PSPI and its action units for one video.

    Args:
        path: the video file.
        device: ``"auto" | "cpu" | "cuda"`` for the learned model; recorded in the
            results (the analytic scorer runs in numpy).
        neutral: (start_s, end_s) of a stretch where the face is known to be at rest,
            used as the subject's baseline; default: automatic (see ``features.baseline``).
        stride: analyse every ``stride``-th frame.
        scorer: one of ``SCORERS``.
        face_mesh: front-end settings.
        on_progress: called as ``on_progress(done, total)`` after each analysed frame.

    Raises:
        InputError: bad arguments. VideoError: unreadable video.
    """
    if scorer not in SCORERS:
        raise InputError(f"unknown scorer {scorer!r}: expected one of {', '.join(SCORERS)}")
    if stride < 1:
        raise InputError(f"stride must be >= 1, got {stride}")
    dev = resolve_device(device)
    options = face_mesh or FaceMeshOptions()
    info, track, decoded = extract_track(path, stride=stride, options=options,
                                         on_progress=on_progress)
    pose = align_to_template(track.pixels())
    track = LandmarkTrack(
        t=track.t, frame_index=track.frame_index, landmarks=track.landmarks,
        detected=track.detected, confidence=frame_confidence(track.landmarks, pose.residual),
        n_faces=track.n_faces, width=track.width, height=track.height,
    )
    signals = au_signals(pose.aligned)
    valid = pose.pose_ok
    baseline = estimate_baseline(signals, track.t, valid, neutral)
    analytic = AnalyticScorer()
    aus = analytic.score(signals, track.t, valid, baseline)
    logger.info("%s: %d frames analysed, face in %d", path, len(track), int(track.detected.sum()))
    return Analysis(
        info=info,
        track=track,
        pose=pose,
        signals=signals,
        aus=aus,
        baseline=baseline,
        scorer=analytic.name,
        calibration=analytic.calibration.to_dict(),
        device=str(dev),
        stride=stride,
        decoded_frames=decoded,
        face_mesh=options.to_dict(),
    )
