"""Regenerate the shipped ONNX export of the shipped model:
painvision/classifier/data/painvision-default.onnx and its description (.onnx.json) from
painvision/classifier/data/painvision-default.pt, with painvision's own exporter
(``classifier.export.export_model``).

A slim install (no PyTorch) scores ``--scorer model`` with this export, and only when its
description's ``weights_sha256`` is the .pt's (``tests/classifier/test_onnx.py`` fails on a
stale export). Run it after every change to the .pt (scripts/train_default_model.py runs
it). Needs PyTorch and onnx.

Usage: python scripts/export_default_onnx.py [--weights W.pt] [--out W.onnx]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from painvision.classifier.export import export_model  # noqa: E402
from painvision.classifier.scorer import DEFAULT_ONNX, DEFAULT_WEIGHTS, SHIPPED_DIR  # noqa: E402
from painvision.fileio import atomic_write_text  # noqa: E402


def export_default(weights: Path = SHIPPED_DIR / DEFAULT_WEIGHTS,
                   out: Path = SHIPPED_DIR / DEFAULT_ONNX) -> Path:
    """Export ``weights`` to ``out`` (ONNX) and its description; in the description the
    weights are named relative to it when they lie in the same folder (no machine's
    path in a shipped file)."""
    path = export_model(weights, "onnx", out)
    side = Path(str(path) + ".json")
    meta = json.loads(side.read_text())
    if Path(weights).resolve().parent == Path(out).resolve().parent:
        meta["weights"] = Path(weights).name
        atomic_write_text(side, json.dumps(meta, indent=2) + "\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", type=Path, default=SHIPPED_DIR / DEFAULT_WEIGHTS)
    ap.add_argument("--out", type=Path, default=SHIPPED_DIR / DEFAULT_ONNX)
    args = ap.parse_args()
    path = export_default(args.weights, args.out)
    meta = json.loads(Path(str(path) + ".json").read_text())
    print(f"wrote {path} ({path.stat().st_size} bytes) and {path.name}.json: "
          f"weights sha256 {meta['weights_sha256'][:12]}..., receptive field "
          f"{meta['receptive_field']} frames")


if __name__ == "__main__":
    main()
