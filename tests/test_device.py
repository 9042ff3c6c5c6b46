from __future__ import annotations

import logging

import pytest
import torch

from painvision.device import resolve_device
from painvision.errors import DeviceError


def test_auto_and_cpu():
    assert resolve_device("cpu").type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_cuda_without_a_gpu_falls_back_with_one_warning(caplog):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with caplog.at_level(logging.WARNING, logger="painvision.device"):
        assert resolve_device("cuda").type == "cpu"
    assert len(caplog.records) == 1 and "CUDA was requested" in caplog.records[0].message


@pytest.mark.cuda
def test_cuda_when_present():
    assert resolve_device("cuda").type == "cuda"


def test_unknown_device():
    with pytest.raises(DeviceError):
        resolve_device("tpu")
