"""Scoring frames with the learned model, on PyTorch or on ONNX Runtime.

Which runs it (``ModelScorer.backend``):

- ``.onnx`` weights (an export, ``classifier.export``): ONNX Runtime, on the CPU;
- ``.pt`` weights with PyTorch installed: PyTorch, on the CPU or CUDA;
- the default weights without PyTorch (a slim install, no ``[train]`` extra): the ONNX
  export shipped beside them, if it was exported from these very weights (its
  description's sha256);
- ``.pt`` weights given explicitly without PyTorch: an error that says what to install.

PyTorch is imported only when it runs the model, so this module imports without it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from painvision.classifier.runtime import (
    OUTPUTS,
    OnnxModel,
    OnnxWindow,
    file_sha256,
    read_export_meta,
)
from painvision.device import check_device_name, resolve_cpu_device, resolve_device
from painvision.errors import DependencyError, WeightsError
from painvision.features.inputs import (
    MODEL_RATE_HZ,
    N_FEATURES,
    FrameInputs,
    Neutral,
    model_features,
)
from painvision.types import AU_NAMES, AUScores, AUSeries

if TYPE_CHECKING:
    import torch

    from painvision.classifier.model import TemporalPainNet

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_ONNX", "DEFAULT_WEIGHTS", "ModelScorer", "ModelStream", "SHIPPED_DIR",
           "default_weights_path", "run_model"]

DEFAULT_WEIGHTS = "painvision-default.pt"
#: Its ONNX export, shipped beside it (``scripts/export_default_onnx.py``).
DEFAULT_ONNX = "painvision-default.onnx"
#: Where the shipped model lives: package data.
SHIPPED_DIR = Path(__file__).resolve().parent / "data"

Backend = Literal["torch", "onnx"]


def default_weights_path() -> Path:
    """``$PAINVISION_WEIGHTS`` if set, else the shipped
    ``painvision/classifier/data/painvision-default.pt``."""
    env = os.environ.get("PAINVISION_WEIGHTS")
    if env:
        return Path(env)
    return SHIPPED_DIR / DEFAULT_WEIGHTS


def _import_torch():
    """``torch``, or None where it cannot be imported."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def _onnx_beside(pt: Path) -> Path:
    """The ONNX export beside the default ``.pt`` weights, for a machine without PyTorch;
    refused if it was exported from other weights than the ``.pt`` there now (taken as it
    is where there is no ``.pt``: an install that ships the export alone)."""
    onnx = pt.with_suffix(".onnx")
    if not onnx.is_file():
        raise DependencyError(
            f"PyTorch is not installed and {pt.name} has no ONNX export beside it "
            f"({onnx.name}); install the [train] extra (pip install 'painvision[train]') "
            "or pass an .onnx file as the weights")
    if pt.is_file() and read_export_meta(onnx).get("weights_sha256") != file_sha256(pt):
        raise WeightsError(
            f"{onnx} was not exported from {pt} (sha256 differs): re-export it "
            "(scripts/export_default_onnx.py, or painvision export) or install the [train] "
            "extra (pip install 'painvision[train]')")
    return onnx


def run_model(model: TemporalPainNet, features: np.ndarray, valid: np.ndarray,
              device: torch.device) -> dict[str, np.ndarray]:
    """The model over a whole sequence (PyTorch): ``(T, F)`` features -> each output
    ``(T,) float32``, NaN where the frame is not valid."""
    import torch

    model.eval()
    x = torch.from_numpy(np.asarray(features, np.float32)[None]).to(device)
    with torch.inference_mode():
        out = model(x)
    res = {k: v[0].float().cpu().numpy().astype(np.float32) for k, v in out.items()}
    for v in res.values():
        v[~np.asarray(valid, bool)] = np.nan
    return res


def _run_onnx(model: OnnxModel, features: np.ndarray, valid: np.ndarray
              ) -> dict[str, np.ndarray]:
    """``run_model`` on ONNX Runtime."""
    out = model.run(features)
    res = {k: np.array(out[:, i], np.float32) for i, k in enumerate(OUTPUTS)}
    for v in res.values():
        v[~np.asarray(valid, bool)] = np.nan
    return res


class ModelScorer:
    """AU intensities, PSPI and pain probability from the temporal model.

    Args:
        weights: a weights file, ``.pt`` (PyTorch) or ``.onnx`` (ONNX Runtime) (default:
            ``default_weights_path()``; without PyTorch, the ONNX export beside it).
        device: ``"auto" | "cpu" | "cuda"``; ONNX Runtime runs on the CPU only, so
            ``cuda`` with it is an error.

    Attributes:
        backend: ``"torch"`` or ``"onnx"``.
        weights: the file that is run (the ``.onnx`` when the default weights fell back
            to their export).
        model: the ``TemporalPainNet`` (PyTorch) or the ``runtime.OnnxModel``.

    Raises:
        WeightsError: weights missing, unsafe, or not for this version's features.
        DependencyError: ``.pt`` weights given without PyTorch installed.
        DeviceError: an unknown device, or CUDA where it cannot be used.
    """

    def __init__(self, weights: str | os.PathLike[str] | None = None,
                 device: str = "auto") -> None:
        path = Path(weights) if weights is not None else default_weights_path()
        check_device_name(device)
        torch = None if path.suffix.lower() == ".onnx" else _import_torch()
        if torch is not None:
            self._init_torch(path, device)
            return
        if path.suffix.lower() != ".onnx":  # PyTorch weights, and no PyTorch
            if not path.is_file() and (weights is not None
                                       or not path.with_suffix(".onnx").is_file()):
                raise WeightsError(f"cannot load weights {path}: no such file")
            if weights is not None:
                raise DependencyError(
                    f"{path} holds PyTorch weights, and PyTorch is not installed: install "
                    "the [train] extra (pip install 'painvision[train]') or pass an .onnx "
                    "export of them (painvision export --format onnx, where PyTorch is)")
            self.device = resolve_device(device)  # without PyTorch: the CPU, or an error
            path = _onnx_beside(path)
        else:
            self.device = resolve_cpu_device(device, f"the model on ONNX Runtime ({path.name})")
        self._init_onnx(path)

    def _init_torch(self, path: Path, device: str) -> None:
        from painvision.classifier.weights import load_model

        self.backend: Backend = "torch"
        self.weights = path
        self.device = resolve_device(device)
        self.model, self.config = load_model(path, self.device)
        self._check_features(self.model.config["in_features"])
        self.name = str(self.config.get("info", {}).get("name", path.stem))

    def _init_onnx(self, path: Path) -> None:
        self.backend = "onnx"
        self.weights = path
        self.model = OnnxModel(path)
        self._check_features(self.model.in_features)
        meta = self.model.meta
        name = meta.get("info") or path.stem
        self.config = {"format": "onnx", "model": meta.get("model"), "info": {"name": name},
                       "receptive_field": self.model.receptive_field,
                       "weights_sha256": meta.get("weights_sha256")}
        self.name = str(name)

    def _check_features(self, n: int) -> None:
        if n != N_FEATURES:
            raise WeightsError(
                f"{self.weights} expects {n} features per frame, "
                f"this version makes {N_FEATURES}; retrain or use matching weights")

    def score(self, inputs: FrameInputs) -> tuple[AUSeries, np.ndarray]:
        """``(AUSeries, pain_prob (T,) float32)``, NaN where the frame is not valid."""
        if self.backend == "onnx":
            out = _run_onnx(self.model, inputs.features, inputs.valid)
        else:
            out = run_model(self.model, inputs.features, inputs.valid, self.device)
        return AUSeries(*(out[name] for name in AU_NAMES)), out["pain_prob"]


class ModelStream:
    """The learned model one frame at a time, for a live camera.

    Frame features are built exactly as ``features.inputs.model_features`` builds them
    offline (the frame interval from the previous frame), and the past is carried, so a
    stream gives the numbers offline scoring gives for the same features. PyTorch:
    ``TemporalPainNet.step`` with one fixed-size cache per layer. ONNX Runtime:
    ``runtime.OnnxWindow``, the graph over the last ``receptive_field`` frames.
    """

    #: the model measures no movements outside PSPI (``scoring.ScoreStream``)
    expressions: dict[str, float] | None = None

    def __init__(self, scorer: ModelScorer) -> None:
        self.scorer = scorer
        self._torch = _import_torch() if scorer.backend == "torch" else None
        self._window = OnnxWindow(scorer.model) if scorer.backend == "onnx" else None
        self.reset()

    def reset(self) -> None:
        """Forget the past (a new subject, or a long gap)."""
        if self._window is not None:
            self._window.reset()
        else:
            self._state = self.scorer.model.init_state(1, self.scorer.device)
        self._last_t: float | None = None

    def update(self, t: float, aligned: np.ndarray, signals: np.ndarray, ypr: np.ndarray,
               valid: bool, neutral: Neutral) -> tuple[AUScores | None, float | None]:
        """``(AUScores, pain_prob)`` of the frame at ``t``, ``(None, None)`` if not valid
        (the model still sees the frame, as a gap)."""
        feats = model_features(aligned[None], signals[None], ypr[None], np.array([valid]),
                               np.array([t], dtype=np.float64), neutral)
        dt = 1.0 if self._last_t is None else (t - self._last_t) * MODEL_RATE_HZ
        feats[0, -1] = float(np.clip(dt, 0.0, 10.0))
        self._last_t = t
        if self._window is not None:
            row = self._window.push(feats[0])
            if not valid:
                return None, None
            vals = {k: float(row[i]) for i, k in enumerate(OUTPUTS)}
        else:
            torch = self._torch
            x = torch.from_numpy(feats).to(self.scorer.device)
            with torch.inference_mode():
                out, self._state = self.scorer.model.step(x, self._state)
            if not valid:
                return None, None
            vals = {k: float(v[0]) for k, v in out.items()}
        aus = AUScores(*(min(max(vals[n], 0.0), 1.0 if n == "au43" else 5.0) for n in AU_NAMES))
        return aus, vals["pain_prob"]
