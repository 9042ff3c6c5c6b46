"""The only place that decides between CUDA and CPU."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from painvision.errors import DeviceError

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

DeviceName = Literal["auto", "cpu", "cuda"]

__all__ = ["DeviceName", "check_device_name", "resolve_device"]


def check_device_name(device: str) -> str:
    """The normalised name if it is ``auto``, ``cpu``, ``cuda`` or ``cuda:N``, without
    loading PyTorch.

    Raises:
        DeviceError: any other name.
    """
    name = str(device).strip().lower()
    if name in ("auto", "cpu", "cuda") or (name.startswith("cuda:") and name[5:].isdigit()):
        return name
    raise DeviceError(f"unknown device {device!r}: expected 'auto', 'cpu' or 'cuda'")


def resolve_device(device: str = "auto") -> torch.device:
    """Turn ``"auto" | "cpu" | "cuda" | "cuda:N"`` into a ``torch.device``.

    ``auto`` picks CUDA when torch sees a usable GPU, else the CPU. ``cuda`` on a
    machine without one falls back to the CPU with a single warning, so that a
    bedside box keeps working when its GPU driver is gone.

    Raises:
        DeviceError: for a name that is none of the above.
    """
    name = check_device_name(device)
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():  # "cuda" or "cuda:N"
        dev = torch.device(name)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(
                f"device {name!r} does not exist: this machine has "
                f"{torch.cuda.device_count()} CUDA device(s); use 'cuda:0' or 'auto'"
            )
        return dev
    logger.warning("CUDA was requested but torch sees no CUDA device; using the CPU")
    return torch.device("cpu")
