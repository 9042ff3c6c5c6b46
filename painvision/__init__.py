"""painvision: facial pain (PSPI and its action units) from video, on a CPU."""

from painvision._version import __version__
from painvision.errors import (
    DeviceError,
    InputError,
    PainVisionError,
    VideoError,
    WeightsError,
)
from painvision.types import AU_NAMES, AUScores, AUSeries, LandmarkTrack, compute_pspi


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
