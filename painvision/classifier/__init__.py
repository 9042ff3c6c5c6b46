"""The learned temporal model: architecture, registry, safe weights, scoring, training
and export. torch lives here and nowhere else in the package."""

from painvision.classifier.model import HEADS, TemporalPainNet
from painvision.classifier.registry import create_model, list_models, register_model
from painvision.classifier.scorer import DEFAULT_WEIGHTS, ModelScorer, default_weights_path
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
