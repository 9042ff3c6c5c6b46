"""Export the model for runtimes without painvision: ONNX or TorchScript.

The exported graph takes ``features (B, T, F) float32`` (``features.inputs``) and returns
``outputs (B, T, 8) float32`` in the order of ``OUTPUTS``; a JSON file beside it records
the order, the feature count, the model's config and receptive field, and the source
weights (their path and sha256). ``classifier.runtime`` runs an ONNX export without
PyTorch.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from painvision.classifier.model import TemporalPainNet
from painvision.classifier.runtime import OUTPUTS, file_sha256
from painvision.classifier.weights import load_model
from painvision.errors import InputError
from painvision.fileio import atomic_output, atomic_write_text

__all__ = ["FORMATS", "OUTPUTS", "export_model"]

FORMATS = ("onnx", "torchscript")


class _Stacked(nn.Module):
    def __init__(self, model: TemporalPainNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        out = self.model(features)
        return torch.stack([out[k] for k in OUTPUTS], dim=-1)


def export_model(weights: str | os.PathLike[str], fmt: str, out: str | os.PathLike[str],
                 frames: int = 64) -> Path:
    """Write the model in ``fmt`` to ``out`` (atomically) and ``<out>.json`` beside it."""
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}: expected one of {', '.join(FORMATS)}")
    model, config = load_model(weights, "cpu")
    wrapped = _Stacked(model).eval()
    example = torch.zeros(1, frames, model.config["in_features"])
    target = Path(out)
    with atomic_output(target) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exporter deprecation chatter
        if fmt == "torchscript":
            with torch.no_grad():
                traced = torch.jit.trace(wrapped, example)
            traced.save(str(tmp))
        else:
            torch.onnx.export(
                wrapped, (example,), str(tmp), dynamo=False, opset_version=17,
                input_names=["features"], output_names=["outputs"],
                dynamic_axes={"features": {0: "batch", 1: "frames"},
                              "outputs": {0: "batch", 1: "frames"}},
            )
    meta = {"format": fmt, "inputs": {"features": ["batch", "frames",
                                                   model.config["in_features"]]},
            "outputs": list(OUTPUTS), "weights": str(weights),
            "weights_sha256": file_sha256(weights), "model": config["model"],
            "receptive_field": model.receptive_field,
            "info": config.get("info", {}).get("name")}
    atomic_write_text(str(target) + ".json", json.dumps(meta, indent=2) + "\n")
    return target
