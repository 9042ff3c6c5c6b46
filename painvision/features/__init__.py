"""Interpretable per-frame AU measures on pose-normalised meshes, and the analytic
PSPI scorer built from them. numpy (and scipy) only: no MediaPipe, no OpenCV."""

from painvision.features.analytic import AnalyticScorer, Calibration
from painvision.features.baseline import Baseline, estimate_baseline
from painvision.features.geometry import SIGNAL_NAMES, au_signals

__all__ = [
    "SIGNAL_NAMES",
    "AnalyticScorer",
    "Baseline",
    "Calibration",
    "au_signals",
    "estimate_baseline",
]
