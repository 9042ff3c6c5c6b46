"""The environment holds exactly the OpenCV and MediaPipe builds the project chose, as
pip's own metadata resolves them (no install step beside it)."""

from __future__ import annotations

import importlib.metadata as md
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np


def _cv2_distributions() -> list[str]:
    names = []
    for dist in md.distributions():
        top = (dist.read_text("top_level.txt") or "").split()
        files = dist.files or []
        if "cv2" in top or any(str(f).startswith("cv2/") for f in files):
            names.append(dist.metadata["Name"].lower())
    return sorted(set(names))


def test_exactly_one_opencv_distribution_and_it_is_the_one_mediapipe_requires():
    assert _cv2_distributions() == ["opencv-contrib-python"]


def test_imported_cv2_comes_from_that_distribution():
    dist = md.distribution("opencv-contrib-python")
    cv2_init = Path(cv2.__file__).resolve()
    owned = {Path(dist.locate_file(f)).resolve() for f in dist.files or []}
    assert cv2_init in owned
    assert cv2.__version__ == dist.version.rsplit(".", 1)[0]


def test_pip_check_finds_every_requirement_met():
    """Every installed distribution's requirements hold: nothing was installed around
    pip's resolver (the old `--no-deps` step for mediapipe left it unsatisfied)."""
    res = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_mediapipe_is_the_release_that_bundles_the_face_mesh():
    import mediapipe

    assert mediapipe.__version__ == "0.10.21"
    assert int(np.__version__.split(".")[0]) < 2
