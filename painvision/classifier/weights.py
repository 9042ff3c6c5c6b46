"""Saving and loading weights safely: tensors plus a JSON config, nothing pickled.

A weights file is ``torch.save({"config": <json string>, "state_dict": {name: tensor}})``
and is read back with ``torch.load(..., weights_only=True)``, which refuses any other
Python object: a weights file cannot run code on the machine that loads it.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

import torch

from painvision.classifier.model import TemporalPainNet
from painvision.errors import WeightsError
from painvision.fileio import atomic_output

__all__ = ["FORMAT", "load_model", "load_weights", "save_weights"]

FORMAT = "painvision-weights/1"


def save_weights(path: str | os.PathLike[str], model: TemporalPainNet,
                 info: dict[str, object] | None = None) -> Path:
    """Write ``model`` (its config and tensors) and ``info`` (JSON-able) atomically."""
    p = Path(path)
    config = {"format": FORMAT, "model": model.config, "info": info or {}}
    blob = {"config": json.dumps(config, sort_keys=True),
            "state_dict": {k: v.detach().cpu().contiguous() for k, v in
                           model.state_dict().items()}}
    with atomic_output(p) as tmp:
        torch.save(blob, tmp)
    return p


def load_weights(path: str | os.PathLike[str]) -> tuple[dict, dict[str, torch.Tensor]]:
    """``(config, state_dict)`` from a weights file.

    Raises:
        WeightsError: missing file, not a painvision weights file, or a file that holds
            anything but tensors and strings (refused unread).
    """
    p = Path(path)
    if p.is_dir():
        raise WeightsError(f"cannot load weights {p}: it is a folder; give the weights file")
    if not p.is_file():
        raise WeightsError(f"cannot load weights {p}: no such file")
    try:
        with warnings.catch_warnings():  # torch's about pickle protocols: our error says it
            warnings.simplefilter("ignore")
            blob = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # any bytes at all may come here: each is a damaged file
        code = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if code:
            raise WeightsError(
                f"refusing to load {p}: it holds a Python object that would run code when "
                f"loaded ({code[1]}); painvision weights are tensors and JSON only: do not "
                "use this file") from None
        with open(p, "rb") as fh:  # the start only: a damaged file may be large
            head = fh.read(4096)
        if head.lstrip()[:1] == b"{":  # JSON: the combined scorer's
            raise WeightsError(
                f"cannot load weights {p}: it is a JSON file, as the pain evidence of the "
                "combined scorer is (--scorer combined --weights); the model's weights are "
                ".pt or .onnx") from None
        if _is_torchscript(p):
            raise WeightsError(
                f"cannot load weights {p}: it is a TorchScript export (painvision export), "
                "which runs in other programs; give the weights it was made from") from None
        raise WeightsError(
            f"cannot load weights {p}: damaged, or not a painvision weights file "
            f"({type(exc).__name__}); use the shipped weights or a file written by "
            "painvision's training") from None
    if not isinstance(blob, dict) or "config" not in blob or "state_dict" not in blob:
        raise WeightsError(f"{p} is not a painvision weights file (no config / state_dict)")
    try:
        config = json.loads(blob["config"])
    except (TypeError, json.JSONDecodeError):
        raise WeightsError(f"{p}: its config is not JSON") from None
    found = config.get("format") if isinstance(config, dict) else None
    if found != FORMAT:
        version = re.fullmatch(r"painvision-weights/(\d+)", str(found))
        if version and int(version[1]) > int(FORMAT.rsplit("/", 1)[1]):
            raise WeightsError(
                f"{p} is in format {found!r}, from a newer painvision; this version reads "
                f"{FORMAT!r}: upgrade painvision, or use weights written by this version")
        raise WeightsError(f"{p} is not a painvision weights file (format {found!r}, "
                           f"expected {FORMAT!r})")
    return config, blob["state_dict"]


def load_model(path: str | os.PathLike[str], device: torch.device | str = "cpu"
               ) -> tuple[TemporalPainNet, dict]:
    """A ready-to-run model (eval mode, on ``device``) and its config."""
    config, state = load_weights(path)
    try:
        model = TemporalPainNet(**config["model"])
        model.load_state_dict(state)
    except (TypeError, KeyError, RuntimeError) as exc:
        why = " ".join(str(exc).split())  # torch's message spans lines: one line here
        raise WeightsError(f"{path}: weights do not fit the model ({why[:300]})") from None
    return model.to(device).eval(), config


def _is_torchscript(p: Path) -> bool:
    """Whether ``p`` is a TorchScript archive: a zip with the model's code inside."""
    import zipfile

    try:
        with zipfile.ZipFile(p) as z:
            return any("/code/" in n for n in z.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
