"""Model registry: ``@register_model`` on variant functions, ``create_model`` to build one."""

from __future__ import annotations

from collections.abc import Callable

from painvision.classifier.model import TemporalPainNet
from painvision.errors import InputError
from painvision.features.inputs import N_FEATURES

__all__ = ["create_model", "list_models", "register_model"]

_REGISTRY: dict[str, Callable[..., TemporalPainNet]] = {}


def register_model(name: str) -> Callable[[Callable[..., TemporalPainNet]],
                                          Callable[..., TemporalPainNet]]:
    def wrap(fn: Callable[..., TemporalPainNet]) -> Callable[..., TemporalPainNet]:
        _REGISTRY[name] = fn
        return fn

    return wrap


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def create_model(name: str, **kwargs: object) -> TemporalPainNet:
    """A new, untrained model of a registered variant."""
    if name not in _REGISTRY:
        raise InputError(f"unknown model {name!r}: expected one of {', '.join(list_models())}")
    return _REGISTRY[name](**kwargs)


@register_model("tcn_small")
def tcn_small(**kw: object) -> TemporalPainNet:
    """48 channels, 5 blocks: 2.5 s receptive field, ~56 k parameters (220 kB)."""
    return TemporalPainNet(in_features=N_FEATURES, hidden=48, depth=5, **kw)  # type: ignore[arg-type]


@register_model("tcn_tiny")
def tcn_tiny(**kw: object) -> TemporalPainNet:
    """24 channels, 5 blocks: for tests and the slowest boxes."""
    return TemporalPainNet(in_features=N_FEATURES, hidden=24, depth=5, **kw)  # type: ignore[arg-type]
