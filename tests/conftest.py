"""Shared fixtures: small clips rendered with the real synthetic engine, cached per session."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from painvision.synth.sequence import Blink, Episode, HeadMotion, Script

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_videos" / "astronaut_pain.mp4"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--device", default="cpu", help="device for torch tests: cpu | cuda")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _landmark_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory):
    """Tests (and the commands they start) cache landmarks in a temporary folder, not in
    the user's ~/.cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("PAINVISION_CACHE", str(tmp_path_factory.mktemp("landmark-cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def device(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--device")


@pytest.fixture(scope="session")
def sample_video() -> Path:
    assert SAMPLE.exists(), "the bundled sample is missing: run scripts/make_sample_video.py"
    return SAMPLE


def short_script(duration_s: float = 3.0, fps: float = 15.0, peak: dict | None = None) -> Script:
    """Neutral, one pain episode, neutral; one blink."""
    peak = peak if peak is not None else {"au4": 4.0, "au7": 3.0, "au9": 3.0}
    return Script(
        duration_s=duration_s,
        fps=fps,
        episodes=(Episode(0.9, 1.4, 1.9, 2.4, peak),) if peak else (),
        blinks=(Blink(0.4),),
        motion=HeadMotion(roll_deg=1.5, shift=0.02, scale=0.01),
    )


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def short_clip(clip_dir: Path) -> Path:
    """A 3-s, 15-fps, 320x240 clip of the astronaut face with a pain episode."""
    from painvision.synth.render import render_clip  # the renderer's deps load on demand

    return render_clip("astronaut", short_script(), clip_dir / "short.mp4",
                       size=(320, 240), seed=3)


@pytest.fixture(scope="session")
def no_face_clip(clip_dir: Path) -> Path:
    """1 s of moving gradient, no face."""
    path = clip_dir / "noface.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15, (160, 120))
    for i in range(15):
        img = np.zeros((120, 160, 3), np.uint8)
        img[:] = np.linspace(0, 255, 160, dtype=np.uint8)[None, :, None]
        img = np.roll(img, i * 5, axis=1)
        w.write(img)
    w.release()
    return path


@pytest.fixture(scope="session")
def tilting_photo_clip(clip_dir: Path) -> Path:
    """Grace Hopper's photo (public domain, in matplotlib), still and without expression,
    tilted slowly by up to 10 degrees each way (a 7-s cycle), as a head rolls on a
    pillow: 40 s at 10 fps, 480x360."""
    import matplotlib

    img = cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"))
    w, h, fps = 480, 360, 10.0
    f = 0.9 * h / img.shape[0]
    face = cv2.resize(img, None, fx=f, fy=f)
    canvas = np.full((h, w, 3), 90, np.uint8)
    fh, fw = face.shape[:2]
    canvas[(h - fh) // 2:(h - fh) // 2 + fh, (w - fw) // 2:(w - fw) // 2 + fw] = face
    path = clip_dir / "tilting_photo.mp4"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for i in range(int(40 * fps)):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), 10 * np.sin(2 * np.pi * i / fps / 7.0), 1.0)
        out.write(cv2.warpAffine(canvas, m, (w, h), borderValue=(90, 90, 90)))
    out.release()
    return path
