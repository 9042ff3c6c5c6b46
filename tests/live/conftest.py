"""Fixtures of the live tests (helpers in live_scenes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from live_scenes import episode_script


@pytest.fixture(scope="session")
def episode_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """14 s, 15 fps, 320x240: neutral, a pain episode 6.0-9.8 s, neutral; three blinks."""
    from painvision.synth.render import render_clip

    out = tmp_path_factory.mktemp("live") / "episode.mp4"
    return render_clip("astronaut", episode_script(), out, size=(320, 240), seed=3)
