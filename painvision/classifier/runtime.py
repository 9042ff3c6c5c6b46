"""The exported model on ONNX Runtime: the learned scorer without PyTorch.

An ``.onnx`` file written by ``classifier.export`` holds a graph of operators and tensors
that takes ``features (B, T, F) float32`` and returns ``outputs (B, T, 8) float32`` in the
order of ``OUTPUTS``; its JSON description beside it (``<file>.onnx.json``) records that
order, the model's config, its receptive field and the sha256 of the weights it was
exported from. ONNX Runtime executes no Python from the file, so loading one runs no
code, as ``torch.load(weights_only=True)`` guarantees for ``.pt`` weights.

No PyTorch here: this module is what a slim install (no ``[train]`` extra) scores with.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from painvision.errors import DependencyError, WeightsError

__all__ = ["ONNX_THREADS", "OUTPUTS", "OnnxModel", "OnnxWindow", "file_sha256",
           "read_export_meta", "receptive_field"]

#: The exported graph's outputs, in order (its last axis).
OUTPUTS = ("pspi", "au4", "au6", "au7", "au9", "au10", "au43", "pain_prob")
#: Threads one session computes with. The model is small (56 k parameters): on a 2-core
#: machine ONNX Runtime's default pool (a thread per core) scored the sample's 400 frames
#: in 0.23-0.33 ms against 0.32-0.33 ms on one thread, and one frame at a time in 0.069-
#: 0.073 ms against 0.075-0.076 (docs/onnx_backend.json, scripts/onnx_backend.py): under a
#: microsecond a frame, next to MediaPipe's milliseconds, for threads that spin on the
#: cores MediaPipe and other ``analyze --jobs`` processes need. So one.
ONNX_THREADS = 1


def file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def receptive_field(model: dict) -> int:
    """Frames an output depends on, from a ``TemporalPainNet`` config (kernel ``k``,
    ``depth`` blocks with dilations 1, 2, 4, ...): ``1 + (k - 1) * (2**depth - 1)``."""
    return 1 + (int(model["kernel"]) - 1) * (2 ** int(model["depth"]) - 1)


def _runtime_errors() -> tuple[type[BaseException], ...]:
    from onnxruntime.capi import onnxruntime_pybind11_state as st

    names = ("Fail", "InvalidArgument", "InvalidGraph", "InvalidProtobuf", "NoSuchFile",
             "NotImplemented", "RuntimeException")
    return tuple(getattr(st, n) for n in names if hasattr(st, n))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_export_meta(path: str | os.PathLike[str]) -> dict:
    """The JSON description beside an ONNX export (``<path>.json``), checked.

    Raises:
        WeightsError: missing, not JSON, not an ONNX export's, other outputs, or without
            what the stream needs (the receptive field, or the kernel and depth).
    """
    side = Path(str(path) + ".json")
    if not side.is_file():
        raise WeightsError(f"{path}: its description {side.name} is missing beside it "
                           "(painvision export writes both)")
    try:
        meta = json.loads(side.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{side}: not readable JSON ({_first_line(exc)})") from None
    if not isinstance(meta, dict) or meta.get("format") != "onnx":
        raise WeightsError(f"{side} does not describe an ONNX export (format is not 'onnx')")
    if meta.get("outputs") != list(OUTPUTS):
        raise WeightsError(f"{side}: outputs {meta.get('outputs')!r}, expected "
                           f"{list(OUTPUTS)!r}; re-export with this version")
    model = meta.get("model")
    if not meta.get("receptive_field") and not (
            isinstance(model, dict) and {"kernel", "depth"} <= set(model)):
        raise WeightsError(f"{side} gives neither the receptive field nor the model's "
                           "kernel and depth; re-export with this version")
    return meta


class OnnxModel:
    """An exported model in an ONNX Runtime session on the CPU.

    Args:
        path: the ``.onnx`` file; its JSON description must be beside it.
        threads: threads the session computes with (``ONNX_THREADS``).

    Raises:
        WeightsError: a missing file or description, a description that is not one of
            ``classifier.export``'s, or a file ONNX Runtime cannot load.
        DependencyError: ONNX Runtime is not installed.
    """

    def __init__(self, path: str | os.PathLike[str], threads: int = ONNX_THREADS) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise WeightsError(f"cannot load weights {self.path}: no such file")
        self.meta = read_export_meta(self.path)
        model = self.meta.get("model")
        self.receptive_field = int(self.meta.get("receptive_field")
                                   or receptive_field(model))
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise DependencyError(f"ONNX Runtime cannot be imported ({exc}); it runs the "
                                  f"model from {self.path.name}: install onnxruntime") from None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3  # errors only: they come back as exceptions
        try:
            self.session = ort.InferenceSession(str(self.path), opts,
                                                providers=["CPUExecutionProvider"])
        except _runtime_errors() as exc:
            raise WeightsError(f"ONNX Runtime cannot load {self.path} ({_first_line(exc)})"
                               ) from None
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1 or len(inputs[0].shape) != 3:
            raise WeightsError(f"{self.path} is not a painvision export: expected one input "
                               "(batch, frames, features) and one output")
        self._input = inputs[0].name
        n = inputs[0].shape[-1]
        if not isinstance(n, int):
            raise WeightsError(f"{self.path}: its feature count is not fixed ({n!r}); "
                               "export it with painvision export")
        #: features per frame the graph takes
        self.in_features = n
        if outputs[0].shape[-1] != len(OUTPUTS):
            raise WeightsError(f"{self.path} gives {outputs[0].shape[-1]} outputs per frame, "
                               f"expected {len(OUTPUTS)} ({', '.join(OUTPUTS)})")

    def run(self, features: np.ndarray) -> np.ndarray:
        """``(T, F)`` features -> ``(T, 8) float32`` outputs (``OUTPUTS``)."""
        x = np.ascontiguousarray(features, np.float32)
        if x.shape[0] == 0:
            return np.zeros((0, len(OUTPUTS)), np.float32)
        return self.session.run(None, {self._input: x[None]})[0][0]


class OnnxWindow:
    """The exported model one frame at a time: a ring buffer of the last
    ``receptive_field`` frames' features, and the graph run over them for each new frame.

    The network is causal and its last output depends on exactly the last
    ``receptive_field`` frames, so this gives the offline numbers. Before that many
    frames the window is the frames so far: the graph pads with zeros after its input
    projection, as the offline pass does at a sequence's start (zero *features* in the
    buffer would not be the same thing).
    """

    def __init__(self, model: OnnxModel) -> None:
        self.model = model
        self._rf = model.receptive_field
        # Each frame is written twice, at i and i + rf: the window is always one slice.
        self._buf = np.zeros((2 * self._rf, model.in_features), np.float32)
        self._next = 0
        self._full = False

    def reset(self) -> None:
        self._next = 0
        self._full = False

    def push(self, features: np.ndarray) -> np.ndarray:
        """One frame's ``(F,)`` features -> its ``(8,)`` outputs (``OUTPUTS``)."""
        i, rf = self._next, self._rf
        self._buf[i] = features
        self._buf[i + rf] = features
        self._next = (i + 1) % rf
        self._full = self._full or self._next == 0
        window = self._buf[i + 1: i + 1 + rf] if self._full else self._buf[: i + 1]
        return self.model.run(window)[-1]
