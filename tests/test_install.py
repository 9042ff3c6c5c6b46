"""The environment holds exactly the OpenCV and MediaPipe builds the project chose."""

from __future__ import annotations

import importlib.metadata as md
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


def test_exactly_one_opencv_distribution_and_it_is_headless():
    assert _cv2_distributions() == ["opencv-python-headless"]


def test_imported_cv2_comes_from_the_headless_distribution():
    dist = md.distribution("opencv-python-headless")
    cv2_init = Path(cv2.__file__).resolve()
    owned = {Path(dist.locate_file(f)).resolve() for f in dist.files or []}
    assert cv2_init in owned
    assert cv2.__version__ == dist.version.rsplit(".", 1)[0]
    build = cv2.getBuildInformation().splitlines()
    gui = [line for line in build if line.strip().startswith("GUI")]
    assert gui and "NONE" in gui[0]


def test_mediapipe_is_the_release_that_bundles_the_face_mesh():
    import mediapipe

    assert mediapipe.__version__ == "0.10.21"
    assert int(np.__version__.split(".")[0]) < 2
