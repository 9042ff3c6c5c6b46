"""On-disk cache of front-end results, keyed by the video's content and the front-end
settings, so a second pass over the same videos skips MediaPipe."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from painvision.landmarks.extract import extract_track
from painvision.landmarks.facemesh import FaceMeshOptions
from painvision.types import LandmarkTrack

__all__ = ["cache_key", "cached_track"]

#: Bump when what extract_track produces changes.
_FRONT_END_VERSION = "mediapipe-0.10.21/facemesh-v1"


def cache_key(video: str | os.PathLike[str], options: FaceMeshOptions, stride: int = 1) -> str:
    """SHA-256 of the file's bytes, the front-end settings and the stride."""
    h = hashlib.sha256()
    with open(video, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    h.update(json.dumps({"options": options.to_dict(), "stride": stride,
                         "front_end": _FRONT_END_VERSION}, sort_keys=True).encode())
    return h.hexdigest()


def cached_track(video: str | os.PathLike[str], cache_dir: str | os.PathLike[str],
                 options: FaceMeshOptions | None = None, stride: int = 1
                 ) -> tuple[LandmarkTrack, bool]:
    """``(track, hit)``: the subject's landmark track, from the cache when present."""
    options = options or FaceMeshOptions()
    cache = Path(cache_dir)
    f = cache / f"{cache_key(video, options, stride)}.npz"
    if f.is_file():
        with np.load(f, allow_pickle=False) as z:
            return LandmarkTrack(z["t"], z["frame_index"], z["landmarks"], z["detected"],
                                 z["confidence"], z["n_faces"], int(z["width"]),
                                 int(z["height"])), True
    _, tr, _ = extract_track(video, stride=stride, options=options)
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache, prefix=".tmp-", suffix=".npz")
    os.close(fd)
    try:
        np.savez_compressed(tmp, t=tr.t, frame_index=tr.frame_index, landmarks=tr.landmarks,
                            detected=tr.detected, confidence=tr.confidence,
                            n_faces=tr.n_faces, width=tr.width, height=tr.height)
        os.replace(tmp, f)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tr, False
