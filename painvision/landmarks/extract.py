"""Run the face-mesh front end over a video file, following one subject."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from painvision.io.video import FrameReader, VideoInfo, prefetch, probe_video
from painvision.landmarks.facemesh import FaceMeshExtractor, FaceMeshOptions
from painvision.landmarks.tracking import SubjectTracker
from painvision.types import N_LANDMARKS, LandmarkTrack

__all__ = ["Progress", "extract_track"]

Progress = Callable[[int, int], None]


def extract_track(
    path: str | os.PathLike[str],
    *,
    stride: int = 1,
    options: FaceMeshOptions | None = None,
    on_progress: Progress | None = None,
    fps: float | None = None,
) -> tuple[VideoInfo, LandmarkTrack, int]:
    """Run the face-mesh front end over a video, following one subject.

    ``path`` may also be a folder of frame images, read at ``fps``.

    Returns:
        ``(info, track, decoded)``: container metadata, the subject's landmark track
        (one row per analysed frame), and how many frames were decoded in all.

    Raises:
        VideoError: the video cannot be opened or decoded.
    """
    info = probe_video(path, fps)
    total = max(info.frame_count // stride + (1 if info.frame_count % stride else 0), 1)
    times: list[float] = []
    indices: list[int] = []
    meshes: list[np.ndarray] = []
    counts: list[int] = []
    empty = np.full((N_LANDMARKS, 3), np.nan, dtype=np.float32)
    tracker = SubjectTracker()
    reader = FrameReader(path, stride=stride, fps=fps)
    with FaceMeshExtractor(options) as mesh:
        for frame in prefetch(reader):  # decode in a thread, overlapped with the mesh
            faces = mesh.process(frame.image_bgr)
            pick = tracker.select(faces, frame.t)
            times.append(frame.t)
            indices.append(frame.index)
            meshes.append(faces[pick] if pick is not None else empty)
            counts.append(len(faces))
            if on_progress is not None:
                on_progress(len(times), max(total, len(times)))
    landmarks = np.stack(meshes).astype(np.float32, copy=False)
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
