"""Scoring frames with the learned model."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch

from painvision.classifier.weights import load_model
from painvision.device import resolve_device
from painvision.errors import WeightsError
from painvision.features.inputs import N_FEATURES, FrameInputs
from painvision.types import AU_NAMES, AUSeries

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_WEIGHTS", "ModelScorer", "default_weights_path"]

DEFAULT_WEIGHTS = "painvision-default.pt"


def default_weights_path() -> Path:
    """``$PAINVISION_WEIGHTS`` if set, else ``weights/painvision-default.pt`` of the
    source tree the package runs from."""
    env = os.environ.get("PAINVISION_WEIGHTS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "weights" / DEFAULT_WEIGHTS


class ModelScorer:
    """AU intensities, PSPI and pain probability from the temporal model.

    Args:
        weights: a weights file (default: ``default_weights_path()``).
        device: ``"auto" | "cpu" | "cuda"``.
    """

    def __init__(self, weights: str | os.PathLike[str] | None = None,
                 device: str = "auto") -> None:
        self.weights = Path(weights) if weights is not None else default_weights_path()
        self.device = resolve_device(device)
        self.model, self.config = load_model(self.weights, self.device)
        if self.model.config["in_features"] != N_FEATURES:
            raise WeightsError(
                f"{self.weights} expects {self.model.config['in_features']} features per frame, "
                f"this version makes {N_FEATURES}; retrain or use matching weights")
        self.name = str(self.config.get("info", {}).get("name", self.weights.stem))

    def score(self, inputs: FrameInputs) -> tuple[AUSeries, np.ndarray]:
        """``(AUSeries, pain_prob (T,) float32)``, NaN where the frame is not valid."""
        x = torch.from_numpy(inputs.features[None]).to(self.device)
        with torch.inference_mode():
            out = self.model(x)
        arr = {k: v[0].float().cpu().numpy() for k, v in out.items()}
        invalid = ~inputs.valid
        cols = []
        for name in AU_NAMES:
            v = arr[name].astype(np.float32)
            v[invalid] = np.nan
            cols.append(v)
        pain = arr["pain_prob"].astype(np.float32)
        pain[invalid] = np.nan
        return AUSeries(*cols), pain
