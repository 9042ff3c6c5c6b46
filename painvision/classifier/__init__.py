"""The learned temporal model: architecture, registry, safe weights, scoring, training
and export. torch lives here and nowhere else in the package.

Importing this package loads no PyTorch: the names below are imported when first used,
and scoring (``ModelScorer``) runs an ONNX export on ONNX Runtime where PyTorch is not
installed. The architecture, the weights files, training and export need PyTorch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from painvision.classifier.model import HEADS, TemporalPainNet
    from painvision.classifier.registry import create_model, list_models, register_model
    from painvision.classifier.scorer import (
        DEFAULT_WEIGHTS,
        ModelScorer,
        default_weights_path,
    )
    from painvision.classifier.weights import load_model, load_weights, save_weights

__all__ = [
    "DEFAULT_WEIGHTS",
    "HEADS",
    "ModelScorer",
    "TemporalPainNet",
    "create_model",
    "default_weights_path",
    "list_models",
    "load_model",
    "load_weights",
    "register_model",
    "save_weights",
]

_WHERE = {
    "HEADS": "model", "TemporalPainNet": "model",
    "create_model": "registry", "list_models": "registry", "register_model": "registry",
    "DEFAULT_WEIGHTS": "scorer", "ModelScorer": "scorer", "default_weights_path": "scorer",
    "load_model": "weights", "load_weights": "weights", "save_weights": "weights",
}


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value  # once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
