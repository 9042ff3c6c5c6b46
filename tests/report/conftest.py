"""Fixtures of the report tests: one real analysis of the short clip, meshes kept."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def short_analysis(short_clip):
    from painvision.pipeline import analyze_video

    return analyze_video(short_clip, keep_landmarks=True)
