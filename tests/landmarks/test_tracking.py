from __future__ import annotations

import numpy as np

from painvision.landmarks.pose import load_template
from painvision.landmarks.tracking import SubjectTracker, face_box


def _face(cx: float, cy: float, width: float) -> np.ndarray:
    tpl = load_template()
    xy = tpl[:, :2] - tpl[:468, :2].mean(axis=0)
    span = np.ptp(tpl[:468, 0])
    pts = np.zeros((478, 3), np.float32)
    pts[:, :2] = xy / span * width + np.array([cx, cy])
    return pts


def test_face_box():
    cx, cy, w = face_box(_face(0.3, 0.4, 0.2))
    assert abs(w - 0.2) < 1e-5 and abs(cx - 0.3) < 0.02 and abs(cy - 0.4) < 0.05


def test_first_choice_is_the_largest_face():
    tr = SubjectTracker()
    faces = [_face(0.2, 0.5, 0.1), _face(0.7, 0.5, 0.25)]
    assert tr.select(faces, 0.0) == 1


def test_keeps_following_the_subject_when_a_bigger_face_enters():
    tr = SubjectTracker()
    assert tr.select([_face(0.3, 0.5, 0.15)], 0.0) == 0
    t = 0.04
    for step in range(20):
        subject = _face(0.3 + 0.002 * step, 0.5, 0.15)
        visitor = _face(0.75 - 0.01 * step, 0.45, 0.3)  # larger, walking in
        faces = [visitor, subject] if step % 2 else [subject, visitor]
        pick = tr.select(faces, t)
        assert faces[pick] is subject
        t += 0.04


def test_a_face_elsewhere_is_not_taken_for_the_subject():
    tr = SubjectTracker()
    tr.select([_face(0.25, 0.5, 0.15)], 0.0)
    assert tr.select([_face(0.8, 0.5, 0.15)], 0.04) is None  # subject gone, visitor present
    assert tr.select([], 0.08) is None
    # After a gap the subject is found again near where it was.
    assert tr.select([_face(0.8, 0.5, 0.15), _face(0.32, 0.52, 0.15)], 2.0) == 1


def test_with_a_home_the_subject_is_looked_for_there_after_a_gap():
    tr = SubjectTracker()
    tr.home = (0.3, 0.5, 0.2)  # where the patient was at calibration
    visitor, patient = _face(0.75, 0.5, 0.3), _face(0.32, 0.5, 0.2)
    assert tr.select([visitor], 0.0) is None  # first sighting: only near home
    assert tr.select([visitor, patient], 0.1) == 1
    # the patient drifts a little, then is gone for longer than home_after_s ...
    assert tr.select([_face(0.4, 0.5, 0.2)], 0.2) == 0
    assert tr.select([visitor], 5.0) is None
    # ... and is found again near home, not at the last place seen
    assert tr.select([_face(0.75, 0.5, 0.2), _face(0.3, 0.52, 0.2)], 5.1) == 1
