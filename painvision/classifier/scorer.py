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
from painvision.features.inputs import (
    MODEL_RATE_HZ,
    N_FEATURES,
    FrameInputs,
    Neutral,
    model_features,
)
from painvision.types import AU_NAMES, AUScores, AUSeries

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_ONNX", "DEFAULT_WEIGHTS", "ModelScorer", "ModelStream", "SHIPPED_DIR",
           "default_weights_path", "run_model"]

DEFAULT_WEIGHTS = "painvision-default.pt"
#: Its ONNX export, shipped beside it (``scripts/export_default_onnx.py``).
DEFAULT_ONNX = "painvision-default.onnx"
#: Where the shipped model lives: package data.
SHIPPED_DIR = Path(__file__).resolve().parent / "data"


def default_weights_path() -> Path:
    """``$PAINVISION_WEIGHTS`` if set, else the shipped
    ``painvision/classifier/data/painvision-default.pt``."""
    env = os.environ.get("PAINVISION_WEIGHTS")
    if env:
        return Path(env)
    return SHIPPED_DIR / DEFAULT_WEIGHTS


def run_model(model: torch.nn.Module, features: np.ndarray, valid: np.ndarray,
              device: torch.device) -> dict[str, np.ndarray]:
    """The model over a whole sequence: ``(T, F)`` features -> each output ``(T,) float32``,
    NaN where the frame is not valid."""
    model.eval()
    x = torch.from_numpy(np.asarray(features, np.float32)[None]).to(device)
    with torch.inference_mode():
        out = model(x)
    res = {k: v[0].float().cpu().numpy().astype(np.float32) for k, v in out.items()}
    for v in res.values():
        v[~np.asarray(valid, bool)] = np.nan
    return res


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
        out = run_model(self.model, inputs.features, inputs.valid, self.device)
        return AUSeries(*(out[name] for name in AU_NAMES)), out["pain_prob"]


class ModelStream:
    """The learned model one frame at a time, for a live camera.

    Frame features are built exactly as ``features.inputs.model_features`` builds them
    offline (the frame interval from the previous frame), and ``TemporalPainNet.step``
    carries the past, so a stream gives the numbers offline scoring gives for the same
    features. State: one fixed-size cache per layer.
    """

    #: the model measures no movements outside PSPI (``scoring.ScoreStream``)
    expressions: dict[str, float] | None = None

    def __init__(self, scorer: ModelScorer) -> None:
        self.scorer = scorer
        self._state = scorer.model.init_state(1, scorer.device)
        self._last_t: float | None = None

    def reset(self) -> None:
        """Forget the past (a new subject, or a long gap)."""
        self._state = self.scorer.model.init_state(1, self.scorer.device)
        self._last_t = None

    def update(self, t: float, aligned: np.ndarray, signals: np.ndarray, ypr: np.ndarray,
               valid: bool, neutral: Neutral) -> tuple[AUScores | None, float | None]:
        """``(AUScores, pain_prob)`` of the frame at ``t``, ``(None, None)`` if not valid
        (the model still sees the frame, as a gap)."""
        feats = model_features(aligned[None], signals[None], ypr[None], np.array([valid]),
                               np.array([t], dtype=np.float64), neutral)
        dt = 1.0 if self._last_t is None else (t - self._last_t) * MODEL_RATE_HZ
        feats[0, -1] = float(np.clip(dt, 0.0, 10.0))
        self._last_t = t
        x = torch.from_numpy(feats).to(self.scorer.device)
        with torch.inference_mode():
            out, self._state = self.scorer.model.step(x, self._state)
        if not valid:
            return None, None
        vals = {k: float(v[0]) for k, v in out.items()}
        aus = AUScores(*(min(max(vals[n], 0.0), 1.0 if n == "au43" else 5.0) for n in AU_NAMES))
        return aus, vals["pain_prob"]
