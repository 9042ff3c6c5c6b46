"""The only place that decides between CUDA and CPU.

PyTorch is optional: without it ``auto`` and ``cpu`` give ``CPU`` (the learned model then
runs on ONNX Runtime, on the CPU), and ``cuda`` is an error that says what to install.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from painvision.errors import DeviceError

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

DeviceName = Literal["auto", "cpu", "cuda"]

__all__ = ["CPU", "CpuDevice", "DeviceName", "check_device_name", "require_torch_device",
           "resolve_cpu_device", "resolve_device"]

_TRAIN_EXTRA = "pip install 'painvision[train]'"


@dataclass(frozen=True)
class CpuDevice:
    """The CPU where PyTorch is not loaded (not installed, or not needed: the ONNX Runtime
    backend). Reads like ``torch.device("cpu")``: ``.type``, ``.index`` and ``str()``."""

    type: str = "cpu"
    index: int | None = None

    def __str__(self) -> str:
        return "cpu"


CPU = CpuDevice()


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


def resolve_device(device: str = "auto") -> torch.device | CpuDevice:
    """Turn ``"auto" | "cpu" | "cuda" | "cuda:N"`` into a ``torch.device``, or into
    ``CPU`` where PyTorch is not installed.

    ``auto`` picks CUDA when torch sees a usable GPU, else the CPU, and logs which.
    ``cuda`` is a promise: on a machine where torch sees no CUDA device (or that has no
    PyTorch) it is an error, not a silent run on the CPU (a bedside box whose GPU driver
    may go away should be set to ``auto``).

    Raises:
        DeviceError: a name that is none of the above, ``cuda`` without a CUDA device or
            without PyTorch, or ``cuda:N`` beyond the devices there are.
    """
    name = check_device_name(device)
    try:
        import torch
    except ImportError:
        if name == "cpu":
            return CPU
        if name == "auto":
            logger.info("device auto: cpu (PyTorch is not installed)")
            return CPU
        raise DeviceError(f"device {name!r} was asked for, but PyTorch, which runs the model "
                          f"on CUDA, is not installed; install it ({_TRAIN_EXTRA}) or use "
                          "'auto' or 'cpu'") from None

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


def resolve_cpu_device(device: str, runtime: str) -> CpuDevice:
    """The device for a runtime that runs on the CPU alone (the model on ONNX Runtime),
    without loading PyTorch: ``auto`` and ``cpu`` give ``CPU``.

    Args:
        runtime: what runs, and why on the CPU, for the messages.

    Raises:
        DeviceError: an unknown name, or ``cuda`` / ``cuda:N`` (never a silent CPU run).
    """
    name = check_device_name(device)
    if name.startswith("cuda"):
        raise DeviceError(f"device {name!r}: {runtime} runs on the CPU only; use 'auto' or "
                          "'cpu', or .pt weights with PyTorch installed for CUDA")
    if name == "auto":
        logger.info("device auto: cpu (%s)", runtime)
    return CPU


def require_torch_device(device: str, scorer: str) -> None:
    """Refuse a CUDA device for a scorer that runs on the CPU (all but the model), instead
    of running on the CPU while the user believes otherwise.

    Raises:
        DeviceError: ``cuda`` or ``cuda:N`` with a scorer other than ``model``.
    """
    if check_device_name(device).startswith("cuda") and scorer != "model":
        raise DeviceError(f"device {device!r}: the {scorer} scorer and the face mesh run on "
                          "the CPU; only the model scorer (--scorer model) runs on CUDA")
