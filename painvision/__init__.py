"""painvision: facial pain (PSPI and its action units) from video, on a CPU."""

__version__ = "0.1.0"

from painvision.errors import (  # noqa: E402
    DeviceError,
    InputError,
    PainVisionError,
    VideoError,
    WeightsError,
)
from painvision.types import AU_NAMES, AUScores, AUSeries, LandmarkTrack, compute_pspi  # noqa: E402


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
