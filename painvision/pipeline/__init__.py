"""Video in, per-frame PSPI out: the offline pipeline the CLI is a thin layer over."""

from painvision.landmarks.extract import extract_track
from painvision.pipeline.analysis import Analysis
from painvision.pipeline.analyze import SCORERS, analyze_video

__all__ = ["SCORERS", "Analysis", "analyze_video", "extract_track"]
