"""The only place that decides between CUDA and CPU."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from painvision.errors import DeviceError

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

DeviceName = Literal["auto", "cpu", "cuda"]

__all__ = ["DeviceName", "check_device_name", "require_torch_device", "resolve_device"]


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

    ``auto`` picks CUDA when torch sees a usable GPU, else the CPU, and logs which.
    ``cuda`` is a promise: on a machine where torch sees no CUDA device it is an error,
    not a silent run on the CPU (a bedside box whose GPU driver may go away should be
    set to ``auto``).

    Raises:
        DeviceError: a name that is none of the above, ``cuda`` without a CUDA device,
            or ``cuda:N`` beyond the devices there are.
    """
    name = check_device_name(device)
    import torch

    if name == "auto":
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        logger.info("device auto: %s", dev)
        return dev
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
    raise DeviceError(f"device {name!r} was asked for, but torch sees no CUDA device on this "
                      "machine; use 'auto' (CUDA when present, else the CPU) or 'cpu'")


def require_torch_device(device: str, scorer: str) -> None:
    """Refuse a CUDA device for a scorer that runs on the CPU (all but the model), instead
    of running on the CPU while the user believes otherwise.

    Raises:
        DeviceError: ``cuda`` or ``cuda:N`` with a scorer other than ``model``.
    """
    if check_device_name(device).startswith("cuda") and scorer != "model":
        raise DeviceError(f"device {device!r}: the {scorer} scorer and the face mesh run on "
                          "the CPU; only the model scorer (--scorer model) runs on CUDA")
