"""The subject front end: one tracked face, other people looked for at a low rate."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from painvision.errors import InputError
from painvision.landmarks.facemesh import FaceDetector, FaceMeshOptions, fit_frame
from painvision.landmarks.subject import SubjectFrontEnd
from painvision.landmarks.tracking import face_box
from painvision.synth.faces import load_photo
from painvision.synth.render import FaceRig
from painvision.synth.sequence import HeadMotion

pytestmark = pytest.mark.mediapipe

FPS = 15
STILL = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0])  # yaw, pitch, roll, dx, dy, scale


@pytest.fixture(scope="module")
def tiles():
    """The subject (astronaut, moving a little) and a larger visitor (Grace Hopper)."""
    subject = FaceRig(load_photo("astronaut"), size=(240, 240))
    visitor = FaceRig(load_photo("grace_hopper"), size=(300, 300))
    motion = HeadMotion(roll_deg=2.0, shift=0.03).at(np.arange(90) / FPS)
    return [subject.frame({}, m) for m in motion], visitor.frame({}, STILL)


def scene(tiles, n: int, visitor_from: int | None, hidden: range = range(0)):
    """560x320 frames: the subject on the left (greyed out during ``hidden``), the visitor
    on the right from frame ``visitor_from``."""
    subj, vis = tiles
    for i in range(n):
        canvas = np.full((320, 560, 3), 90, np.uint8)
        if i not in hidden:
            canvas[40:280, 0:240] = subj[i % len(subj)]
        if visitor_from is not None and i >= visitor_from:
            canvas[10:310, 250:550] = vis
        yield i / FPS, canvas


def run(front: SubjectFrontEnd, frames) -> list:
    return [(t, front.process(img, t)) for t, img in frames]


def test_a_visitor_entering_is_counted_but_not_followed(tiles):
    with SubjectFrontEnd() as front:
        out = run(front, scene(tiles, 45, visitor_from=15))
    found = [f for _, f in out if f.landmarks is not None]
    assert len(found) == len(out)
    assert all(face_box(f.landmarks)[0] < 0.45 for f in found)  # always the subject (left)
    # the detector's look (about once a second) counts the visitor within a second
    assert all(f.n_faces == 2 for t, f in out if t >= 2.0)
    assert all(f.n_faces == 1 for t, f in out if t < 1.0)
    # the face detector ran about once a second, not on every frame
    assert front.scans <= 4


def test_the_look_runs_in_its_own_thread_and_answers_for_its_own_frame(tiles):
    """The look for other people runs in a thread beside the frame's mesh, and what it saw
    counts for that frame, as if it had looked first; closing the front end ends the
    thread. A look that fails raises from that frame's ``process`` only."""
    looking = []
    with SubjectFrontEnd() as front:
        out = []
        for t, img in scene(tiles, 20, visitor_from=15):  # the look at t = 1 s sees them
            out.append(front.process(img, t))
            looking.append(any(th.name.startswith("painvision-look")
                               for th in threading.enumerate()))
        counts = [f.n_faces for f in out]
        assert counts[:15] == [1] * 15 and counts[15:] == [2] * 5, counts
        assert all(looking) and front.scans == 2
        detector = front._detector
        real = detector.detect_small

        def failing(image):
            raise RuntimeError("the detector failed")

        detector.detect_small = failing
        frames = list(scene(tiles, 32, visitor_from=None))[20:]
        with pytest.raises(RuntimeError, match="the detector failed"):
            front.process(frames[10][1], frames[10][0] + 1.0)  # a look is due
        detector.detect_small = real
        assert front.process(frames[11][1], frames[11][0] + 1.01).landmarks is not None
    assert not any(th.name.startswith("painvision-look") for th in threading.enumerate())


def test_the_detector_reads_its_own_copy_of_the_frame(tiles):
    _, img = next(scene(tiles, 1, visitor_from=0))
    with FaceDetector() as det:
        for frame in (img, np.ascontiguousarray(img[40:280, 0:240])):  # shrunk, or not
            for rgb in (False, True):
                small = det.small(frame, rgb=rgb)
                assert not np.shares_memory(small, frame)
        assert sorted(det.detect_small(det.small(img))) == sorted(det.detect(img))


def test_the_subject_is_found_again_after_the_mesh_went_to_a_visitor(tiles):
    """The subject vanishes for half a second while a visitor is in view: MediaPipe's
    single-face mesh then locks on to the visitor, and keeps tracking them after the
    subject is back unless the front end steers it back."""
    hidden = range(20, 28)
    with SubjectFrontEnd() as front:
        out = run(front, scene(tiles, 60, visitor_from=8, hidden=hidden))
    during = [f for t, f in out if 20 / FPS <= t < 28 / FPS]
    assert all(f.landmarks is None for f in during)  # the visitor is never the subject
    back = [f for t, f in out if t >= 28 / FPS + 0.3]  # the detector looks every 0.25 s
    assert all(f.landmarks is not None and face_box(f.landmarks)[0] < 0.45 for f in back)
    assert front.retries >= 1  # it had to steer the mesh away from the visitor


def test_without_the_low_rate_look_the_mesh_stays_on_the_visitor(tiles):
    """The same scene with the look switched off: shows what the look is for."""
    hidden = range(20, 28)
    with SubjectFrontEnd(FaceMeshOptions(scan_every_s=0.0)) as front:
        out = run(front, scene(tiles, 60, visitor_from=8, hidden=hidden))
    back = [f for t, f in out if t >= 28 / FPS + 0.3]
    assert sum(f.landmarks is not None for f in back) < 0.5 * len(back)


def test_the_first_sighting_is_the_subject_even_when_the_mesh_starts_elsewhere(tiles):
    """Both in view from the first frame, a bed region on the left: only the face there
    is the subject, whichever face MediaPipe's detector would have chosen."""
    with SubjectFrontEnd(region=(0.0, 0.0, 0.45, 1.0)) as front:
        out = run(front, scene(tiles, 20, visitor_from=0))
    assert all(f.landmarks is not None and face_box(f.landmarks)[0] < 0.45 for _, f in out)
    assert all(f.n_faces == 2 for _, f in out)  # the visitor is counted, outside the bed


def test_big_frames_are_meshed_at_a_bounded_size(tiles):
    """A 4x upscale gives the same normalised mesh as the original, within a pixel of
    the original frame."""
    frames = list(scene(tiles, 12, visitor_from=None))
    with SubjectFrontEnd() as small, SubjectFrontEnd() as big:
        for t, img in frames:
            a = small.process(img, t).landmarks
            up = cv2.resize(img, (img.shape[1] * 4, img.shape[0] * 4),
                            interpolation=cv2.INTER_LINEAR)
            b = big.process(up, t).landmarks
            err_px = np.abs(a[:, :2] - b[:, :2]) * np.array([560, 320])
            assert np.median(err_px) < 1.0
    assert fit_frame(up, 1920).shape == (640, 1120, 3)  # 2240x1280 halved
    assert fit_frame(up, 700).shape == (320, 560, 3)  # a quarter
    assert fit_frame(up[:, :2239], 1000).shape == (426, 746, 3)  # by 3, the last column left
    assert fit_frame(img, 1920) is img


def test_the_detector_boxes_compare_with_mesh_boxes(tiles):
    frames = list(scene(tiles, 1, visitor_from=0))
    _, img = frames[0]
    with FaceDetector() as det, SubjectFrontEnd(FaceMeshOptions(max_faces=2,
                                                                static_image_mode=True)) as f:
        boxes = sorted(det.detect(img))
        mesh = sorted(face_box(m) for m in f._mesh.process(img))
    assert len(boxes) == len(mesh) == 2
    for b, m in zip(boxes, mesh, strict=True):
        assert abs(b[0] - m[0]) < 0.25 * m[2] and abs(b[1] - m[1]) < 0.25 * m[2]
        assert 0.8 < b[2] / m[2] < 1.25


def test_options_for_the_look_and_the_working_size_are_checked():
    with pytest.raises(InputError):
        FaceMeshOptions(scan_every_s=-1.0)
    with pytest.raises(InputError):
        FaceMeshOptions(max_side=100)


def test_a_face_above_or_beside_the_subject_is_greyed_out_and_the_subject_kept():
    from painvision.landmarks.subject import _grey_out

    img = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    subject = (0.5, 0.7, 0.15)
    for other in ((0.5, 0.25, 0.15), (0.85, 0.7, 0.15), (0.2, 0.3, 0.1)):
        out = _grey_out(img, [other, subject], subject)
        ox, oy = int(other[0] * 640), int(other[1] * 480)
        assert (out[oy - 20:oy + 20, ox - 20:ox + 20] == 128).all()  # the other face hidden
        sx, sy = int(subject[0] * 640), int(subject[1] * 480)
        np.testing.assert_array_equal(out[sy - 40:sy + 40, sx - 40:sx + 40],
                                      img[sy - 40:sy + 40, sx - 40:sx + 40])
