"""On-disk cache of front-end results, keyed by the video's content and the front-end
settings, so a second pass over the same videos skips MediaPipe."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from painvision.fileio import atomic_output
from painvision.io.video import image_files
from painvision.landmarks.extract import TrackReader, concat_tracks
from painvision.landmarks.facemesh import FaceMeshOptions
from painvision.types import LandmarkTrack

__all__ = ["cache_key", "cached_track", "default_cache_dir"]

#: Bump when what extract_track produces changes.
_FRONT_END_VERSION = "mediapipe-0.10.21/facemesh-v1/appearance-v1/rotation-v1"


def default_cache_dir() -> Path:
    """``$PAINVISION_CACHE`` or ``~/.cache/painvision/landmarks``. Landmarks only: no
    frame is ever written there; the files (0600) and the folders made for them (0700)
    are readable by this user alone."""
    env = os.environ.get("PAINVISION_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "painvision" / "landmarks"


def cache_key(video: str | os.PathLike[str], options: FaceMeshOptions, stride: int = 1,
              fps: float | None = None, variant: str | None = None) -> str:
    """SHA-256 of the video's bytes (of every frame file, for a folder), the front-end
    settings, the stride, the frame rate given for image sequences and the name of a
    change made to the frames (``variant``: a corruption of the robustness benchmark)."""
    h = hashlib.sha256()
    files = image_files(video) if Path(video).is_dir() else [Path(video)]
    for f in files:
        h.update(f.name.encode())
        with open(f, "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                h.update(block)
    h.update(json.dumps({"options": options.to_dict(), "stride": stride, "fps": fps,
                         "front_end": _FRONT_END_VERSION, **({"variant": variant} if variant
                                                             else {})},
                        sort_keys=True).encode())
    return h.hexdigest()


def cached_track(video: str | os.PathLike[str], cache_dir: str | os.PathLike[str],
                 options: FaceMeshOptions | None = None, stride: int = 1,
                 fps: float | None = None, variant: str | None = None,
                 transform: Callable[[np.ndarray, int], np.ndarray] | None = None,
                 ) -> tuple[LandmarkTrack, bool]:
    """``(track, hit)``: the subject's landmark track, from the cache when present.

    ``transform`` changes the frames before the front end (``TrackReader``); ``variant``
    names it in the cache key, and must be given with it."""
    if (transform is None) != (variant is None):
        raise ValueError("cached_track: a transform needs a variant name, and only then")
    options = options or FaceMeshOptions()
    cache = Path(cache_dir)
    f = cache / f"{cache_key(video, options, stride, fps, variant)}.npz"
    if f.is_file():
        with np.load(f, allow_pickle=False) as z:
            return LandmarkTrack(z["t"], z["frame_index"], z["landmarks"], z["detected"],
                                 z["confidence"], z["n_faces"], int(z["width"]),
                                 int(z["height"]),
                                 z["appearance"] if "appearance" in z.files else None), True
    reader = TrackReader(video, stride=stride, options=options, fps=fps, transform=transform)
    tr = concat_tracks(list(reader.chunks()))
    with atomic_output(f, private=True) as tmp:  # face meshes: this user's alone
        np.savez_compressed(tmp, t=tr.t, frame_index=tr.frame_index, landmarks=tr.landmarks,
                            detected=tr.detected, confidence=tr.confidence,
                            n_faces=tr.n_faces, width=tr.width, height=tr.height,
                            **({} if tr.appearance is None else {"appearance": tr.appearance}))
    return tr, False
