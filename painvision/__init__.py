"""painvision: facial pain (PSPI and its action units) from video, on a CPU."""

import os as _os

# FFmpeg's and OpenCV's own console chatter ("moov atom not found", "Could not find decoder
# for codec_id=0") would land on the user's terminal next to our one-line errors; we
# report problems ourselves. Set here, before any module of ours imports cv2 (OpenCV reads
# them when it loads), and only where the user has not set them.
_os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
_os.environ.setdefault("OPENCV_LOG_LEVEL", "FATAL")

from painvision._version import __version__  # noqa: E402
from painvision.errors import (  # noqa: E402
    DeviceError,
    InputError,
    PainVisionError,
    VideoError,
    WeightsError,
)
from painvision.types import (  # noqa: E402
    AU_NAMES,
    AUScores,
    AUSeries,
    LandmarkTrack,
    compute_pspi,
)


def analyze_video(*args, **kwargs):
    """See ``painvision.pipeline.analyze_video`` (imported lazily: it loads MediaPipe)."""
    from painvision.pipeline import analyze_video as _analyze

    return _analyze(*args, **kwargs)


__all__ = [
    "AU_NAMES",
    "AUScores",
    "AUSeries",
    "DeviceError",
    "InputError",
    "LandmarkTrack",
    "PainVisionError",
    "VideoError",
    "WeightsError",
    "__version__",
    "analyze_video",
    "compute_pspi",
]
