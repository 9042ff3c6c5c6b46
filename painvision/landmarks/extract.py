"""Run the face-mesh front end over a video file, following one subject."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import cv2
import numpy as np

from painvision.io.video import Frame, FrameReader, VideoInfo, prefetch, probe_video
from painvision.landmarks.appearance import (
    APPEARANCE_NAMES,
    LookSchedule,
    measure_appearance,
)
from painvision.landmarks.facemesh import FaceMeshOptions, fit_frame, fit_size
from painvision.landmarks.subject import SubjectFrontEnd
from painvision.types import N_LANDMARKS, LandmarkTrack

__all__ = ["Progress", "TrackReader", "concat_tracks", "extract_track"]

Progress = Callable[[int, int], None]


class TrackReader:
    """Runs the face mesh over a video and hands the subject's track out in chunks, so a
    caller can reduce each chunk and let its meshes go (``analyze_video`` keeps about
    0.1 kB a frame instead of the mesh's 5.7 kB).

    With ``decode_thread`` (the default) decoding runs in a background thread beside the
    mesh; without it, in line, which is faster where every core is busy anyway (one
    ``analyze --jobs`` worker per core: 1.78x instead of 1.62x the throughput of one
    process on 2 cores, ``scripts/jobs_throughput.py --loops 6``).

    The face's appearance (``landmarks.appearance``) is measured every
    ``landmarks.appearance.APPEARANCE_EVERY_S`` seconds and when the face comes back, and
    held in between (``LookSchedule``).

    ``transform``, if given, changes each decoded BGR frame before the front end sees it
    (``transform(image_bgr, index) -> image_bgr``; the robustness benchmark's corruptions).

    Attributes after ``chunks()`` is exhausted: ``decoded`` (frames decoded in all).
    """

    def __init__(self, path: str | os.PathLike[str], *, stride: int = 1,
                 options: FaceMeshOptions | None = None, on_progress: Progress | None = None,
                 fps: float | None = None, chunk: int = 1024,
                 decode_thread: bool = True,
                 transform: Callable[[np.ndarray, int], np.ndarray] | None = None) -> None:
        self.path = path
        self.info: VideoInfo = probe_video(path, fps)
        self.stride = stride
        self.options = options
        self.on_progress = on_progress
        self.fps = fps
        self.chunk = chunk
        self.decode_thread = decode_thread
        self.transform = transform
        self.decoded = 0

    def chunks(self) -> Iterator[LandmarkTrack]:
        info = self.info
        total = max(info.frame_count // self.stride
                    + (1 if info.frame_count % self.stride else 0), 1)
        empty = np.full((N_LANDMARKS, 3), np.nan, dtype=np.float32)
        options = self.options or FaceMeshOptions()
        reader = FrameReader(self.path, stride=self.stride, fps=self.fps)
        done = 0
        buf = np.empty((self.chunk, N_LANDMARKS, 3), np.float32)
        times = np.empty(self.chunk, np.float64)
        indices = np.empty(self.chunk, np.int64)
        counts = np.empty(self.chunk, np.int16)
        looks = np.empty((self.chunk, len(APPEARANCE_NAMES)), np.float32)
        nothing = np.full(len(APPEARANCE_NAMES), np.nan, np.float32)
        last_look, schedule = nothing, LookSchedule()
        transform = self.transform
        n = 0

        def flush(k: int) -> LandmarkTrack:
            lm = buf[:k].copy()
            return LandmarkTrack(t=times[:k].copy(), frame_index=indices[:k].copy(),
                                 landmarks=lm, detected=np.isfinite(lm).all(axis=(1, 2)),
                                 confidence=np.zeros(k, dtype=np.float32),
                                 n_faces=counts[:k].copy(), width=info.width,
                                 height=info.height, appearance=looks[:k].copy())

        def prepared(frames: Iterator[Frame]) -> Iterator[tuple[int, float, np.ndarray]]:
            # in the decoding thread, off the mesh's path: big frames shrunk, and BGR
            # turned into the RGB MediaPipe reads, so the queue holds what it takes
            for f in frames:
                img = f.image_bgr if transform is None else transform(f.image_bgr, f.index)
                small = fit_frame(img, options.max_side)
                yield f.index, f.t, cv2.cvtColor(small, cv2.COLOR_BGR2RGB)

        with contextlib.ExitStack() as stack, SubjectFrontEnd(options) as front:
            # decode, shrink and convert in a thread, overlapped with the mesh
            frames = prepared(iter(reader))
            if self.decode_thread:
                frames = prefetch(frames, depth=queue_depth(info, options))
            # closed at once on an error, so the decoding thread and its queue go with it
            stack.enter_context(contextlib.closing(frames))
            for index, t, rgb in frames:
                found = front.process(rgb, t, rgb=True)
                buf[n] = found.landmarks if found.landmarks is not None else empty
                if found.landmarks is None:
                    last_look = nothing
                    schedule.lost()
                elif schedule.due(t):
                    last_look = measure_appearance(rgb, found.landmarks)
                looks[n] = last_look
                times[n] = t
                indices[n] = index
                counts[n] = found.n_faces
                n += 1
                done += 1
                if self.on_progress is not None:
                    self.on_progress(done, max(total, done))
                if n == self.chunk:
                    yield flush(n)
                    n = 0
        self.decoded = reader.decoded
        if n or done == 0:
            yield flush(n)


#: Decoded frames waiting for the mesh hold at most about this many bytes (8 frames at
#: 480x360 or 1080p, 3 at 2880x2160, 2 at 3840x2160).
QUEUE_BYTES = 64 * 2**20


def queue_depth(info: VideoInfo, options: FaceMeshOptions) -> int:
    """How many frames may wait between the decoding thread and the mesh."""
    w, h = fit_size(info.width, info.height, options.max_side)
    return int(np.clip(QUEUE_BYTES // max(w * h * 3, 1), 2, 8))


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
    reader = TrackReader(path, stride=stride, options=options, on_progress=on_progress,
                         fps=fps)
    return reader.info, concat_tracks(list(reader.chunks())), reader.decoded


def concat_tracks(parts: list[LandmarkTrack]) -> LandmarkTrack:
    """One track from consecutive pieces of the same video."""
    first = parts[0]
    return LandmarkTrack(
        t=np.concatenate([p.t for p in parts]),
        frame_index=np.concatenate([p.frame_index for p in parts]),
        landmarks=np.concatenate([p.landmarks for p in parts]),
        detected=np.concatenate([p.detected for p in parts]),
        confidence=np.concatenate([p.confidence for p in parts]),
        n_faces=np.concatenate([p.n_faces for p in parts]),
        width=first.width, height=first.height,
        appearance=(np.concatenate([p.appearance for p in parts])
                    if all(p.appearance is not None for p in parts) else None))
