from __future__ import annotations

import numpy as np
import pytest

from painvision.errors import InputError
from painvision.landmarks.facemesh import FaceMeshExtractor, FaceMeshOptions
from painvision.pipeline import extract_track

pytestmark = pytest.mark.mediapipe


def test_extracts_478_point_meshes_from_a_generated_video(short_clip):
    info, track, decoded = extract_track(short_clip)
    assert decoded == len(track) == info.frame_count == 45
    assert track.landmarks.shape == (45, 478, 3) and track.landmarks.dtype == np.float32
    assert track.detected.mean() >= 0.95
    xy = track.landmarks[track.detected][:, :, :2]
    assert (xy > 0).all() and (xy < 1).all()
    np.testing.assert_allclose(np.diff(track.t), 1 / 15, atol=2e-3)
    # The face sits near the frame centre, where the renderer put it.
    centre = np.nanmean(xy[:, :468], axis=(0, 1))
    assert np.all(np.abs(centre - [0.5, 0.45]) < 0.12)


def test_no_face_gives_empty_results(no_face_clip):
    _, track, _ = extract_track(no_face_clip)
    assert not track.detected.any()
    assert np.isnan(track.landmarks).all()


def test_rejects_non_bgr_frames():
    with FaceMeshExtractor(FaceMeshOptions(max_faces=1)) as fm, pytest.raises(InputError):
        fm.process(np.zeros((10, 10), np.uint8))


def test_options_are_validated():
    with pytest.raises(InputError):
        FaceMeshOptions(max_faces=0)
    with pytest.raises(InputError):
        FaceMeshOptions(min_tracking_confidence=1.5)
