"""Exception hierarchy. Every message says what was expected, what was found, and a fix."""

from __future__ import annotations

__all__ = [
    "PainVisionError",
    "InputError",
    "VideoError",
    "WeightsError",
    "DeviceError",
    "DependencyError",
]


class PainVisionError(Exception):
    """Base class of every error painvision raises on purpose."""


class InputError(PainVisionError, ValueError):
    """An argument has the wrong shape, dtype, range or format."""


class VideoError(PainVisionError):
    """A video cannot be opened, decoded or written."""


class WeightsError(PainVisionError):
    """Model weights are missing, malformed or unsafe to load."""


class DeviceError(PainVisionError):
    """A compute device was requested that cannot be used."""


class DependencyError(PainVisionError):
    """A required package is missing or is the wrong build."""
