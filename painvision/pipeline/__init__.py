"""Video in, per-frame PSPI out: the offline pipeline the CLI is a thin layer over."""

from painvision.pipeline.analysis import Analysis
from painvision.pipeline.analyze import SCORERS, analyze_video, extract_track

__all__ = ["SCORERS", "Analysis", "analyze_video", "extract_track"]
