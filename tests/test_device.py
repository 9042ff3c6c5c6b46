from __future__ import annotations

import logging

import pytest
import torch

from painvision.device import require_torch_device, resolve_device
from painvision.errors import DeviceError


def test_auto_and_cpu():
    assert resolve_device("cpu").type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_cuda_without_a_gpu_is_an_error_not_a_silent_cpu_run():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(DeviceError, match="no CUDA device"):
        resolve_device("cuda")
    with pytest.raises(DeviceError):
        resolve_device("cuda:0")


def test_auto_says_which_device_it_picked(caplog):
    with caplog.at_level(logging.INFO, logger="painvision.device"):
        dev = resolve_device("auto")
    assert any(str(dev) in r.message for r in caplog.records)


def test_a_cuda_device_is_refused_for_the_scorers_that_run_on_the_cpu():
    require_torch_device("cuda", "model")  # may run on CUDA: checked when it is resolved
    require_torch_device("auto", "combined")
    for scorer in ("combined", "analytic"):
        with pytest.raises(DeviceError, match="only the model scorer"):
            require_torch_device("cuda", scorer)


@pytest.mark.cuda
def test_cuda_when_present():
    assert resolve_device("cuda").type == "cuda"


def test_unknown_device():
    with pytest.raises(DeviceError):
        resolve_device("tpu")
