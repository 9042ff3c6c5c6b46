from __future__ import annotations

import numpy as np
import pytest

from painvision.errors import InputError
from painvision.landmarks.facemesh import (
    SETTLE_FRAMES,
    FaceMeshExtractor,
    FaceMeshOptions,
    settling,
)
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


def test_landmarks_are_read_exactly_from_the_serialised_mesh(sample_video):
    """The fast reading of MediaPipe's landmark list (from its bytes) gives the same floats
    as reading each landmark's fields, and other layouts fall back to the fields."""
    import cv2
    from mediapipe.framework.formats import landmark_pb2

    from painvision.landmarks.facemesh import _import_mediapipe, _landmarks_array

    cap = cv2.VideoCapture(str(sample_video))
    ok, frame = cap.read()
    cap.release()
    with _import_mediapipe().FaceMesh(static_image_mode=True, refine_landmarks=True) as fm:
        face = fm.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)).multi_face_landmarks[0]
    slow = np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float32)
    assert slow.shape == (478, 3)
    np.testing.assert_array_equal(_landmarks_array(face), slow)
    odd = landmark_pb2.NormalizedLandmarkList()
    odd.landmark.add(x=0.25, y=0.5, z=0.0, visibility=0.9)  # a field the face mesh never sets
    odd.landmark.add(x=0.75, y=0.125)  # no z
    np.testing.assert_array_equal(_landmarks_array(odd), [[0.25, 0.5, 0.0], [0.75, 0.125, 0.0]])


def test_the_lean_graph_call_gives_what_mediapipes_process_gives(sample_video):
    """FaceMeshExtractor feeds MediaPipe's graph without its wrapper's per-call overhead;
    on the same frames, in tracking mode, the meshes are the wrapper's to the bit."""
    from painvision.io.video import FrameReader

    frames = [f.image_bgr for _, f in zip(range(30), FrameReader(sample_video), strict=False)]
    with FaceMeshExtractor() as lean, FaceMeshExtractor() as public:
        assert lean._lean is not None
        public._lean = None
        for img in frames:
            a, b = lean.process(img), public.process(img)
            assert len(a) == len(b) == 1
            np.testing.assert_array_equal(a[0], b[0])


def test_the_first_frames_of_each_face_found_are_settling():
    seen = np.array([0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1], bool)
    assert settling(seen, 3).astype(int).tolist() == \
        [0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0]
    long = settling(np.ones(30, bool))
    assert long[:SETTLE_FRAMES].all() and not long[SETTLE_FRAMES:].any()
    assert not settling(np.zeros(5, bool)).any() and settling(np.zeros(0, bool)).size == 0
