"""The optional extras of ``pip install painvision[...]``: what each needs, and the one-line
error a feature gives when its extra is not installed.

The core (``pip install painvision``) runs ``analyze``, ``watch`` and ``report`` with every
scorer; the learned model runs through ONNX Runtime there. The extras:

| extra | for | brings |
|---|---|---|
| ``train`` | ``train``, ``synth``, ``export``, the model on CUDA | PyTorch, the renderer's needs |
| ``bench`` | ``bench accuracy``, ``Analysis.frames`` | scikit-learn, SciPy, pandas |
| ``serve`` | ``watch --serve`` | FastAPI, uvicorn |
| ``fhir`` | ``analyze --fhir``, ``watch --notify-format fhir`` | fhir.resources |
"""

from __future__ import annotations

import importlib.util

from painvision.errors import DependencyError

__all__ = ["EXTRAS", "MissingExtraError", "extra_for_module", "has_extra", "require"]

#: extra -> the top-level modules it provides (checked without importing them)
EXTRAS: dict[str, tuple[str, ...]] = {
    "train": ("torch", "torchvision", "onnx", "scipy", "skimage", "sklearn"),
    "bench": ("scipy", "sklearn", "pandas"),
    "serve": ("fastapi", "uvicorn", "pydantic"),
    "fhir": ("fhir.resources", "fhir_core", "pydantic"),
}


class MissingExtraError(DependencyError):
    """A feature was used whose optional extra is not installed."""

    def __init__(self, feature: str, extra: str, missing: str) -> None:
        self.feature, self.extra, self.missing = feature, extra, missing
        super().__init__(f"{feature} needs the optional [{extra}] extra ({missing} is not "
                         f"installed): pip install 'painvision[{extra}]'")


def _found(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a broken one
        return False


def _missing(extra: str) -> str | None:
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}: expected one of {', '.join(EXTRAS)}")
    return next((m for m in EXTRAS[extra] if not _found(m)), None)


def has_extra(extra: str) -> bool:
    """Whether every module of ``extra`` can be imported."""
    return _missing(extra) is None


def require(extra: str, feature: str, needs: tuple[str, ...] | None = None) -> None:
    """Raise ``MissingExtraError`` unless ``extra`` is installed.

    Args:
        extra: a key of ``EXTRAS``.
        feature: what the user asked for, as they would name it (``"painvision train"``).
        needs: the modules of the extra this feature imports (default: all of them).
    """
    if needs is None:
        missing = _missing(extra)
    else:
        _missing(extra)  # a known extra
        missing = next((m for m in needs if not _found(m)), None)
    if missing is not None:
        raise MissingExtraError(feature, extra, missing)


def extra_for_module(name: str | None) -> str | None:
    """The extra that provides the module ``name`` (dotted or not), if any: for an
    ``ImportError`` that got past a ``require``."""
    if not name:
        return None
    for extra, modules in EXTRAS.items():
        for m in modules:
            if name == m or name.startswith(m + ".") or m.startswith(name + "."):
                return extra
    return None
