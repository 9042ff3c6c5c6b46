"""Quality flags: frames too dark, blurred or covered are flagged and not scored.

The rules on appearance rows built by hand (each rule alone, and what must NOT be
flagged: a closed eye is a pain sign, not a cover), then the whole pipeline through
MediaPipe on the bundled sample with a mask and darkness drawn over part of it.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from painvision.bench.corruptions import corruption
from painvision.features.quality import FLAGS, SKIP_FLAGS, assess_quality
from painvision.io.video import FrameReader
from painvision.landmarks.extract import TrackReader, concat_tracks
from painvision.types import APPEARANCE_NAMES

CLEAN = {"face_luma": 150.0, "face_contrast": 100.0, "sharpness": 0.9, "eye_contrast_r": 0.9,
         "eye_contrast_l": 0.9, "lower_l": 140.0, "lower_a": 150.0, "lower_b": 155.0,
         "upper_l": 160.0, "upper_a": 149.0, "upper_b": 154.0, "eye_open_r": 0.25,
         "eye_open_l": 0.25}


def _rows(n: int = 40, **changes: tuple[slice, float]) -> np.ndarray:
    """``n`` clean frames; ``changes``: name -> (frames, value)."""
    a = np.array([[CLEAN[k] for k in APPEARANCE_NAMES]] * n, np.float32)
    rng = np.random.default_rng(0)
    a *= 1 + 0.01 * rng.standard_normal(a.shape).astype(np.float32)  # a little jitter
    for name, (sel, value) in changes.items():
        a[sel, APPEARANCE_NAMES.index(name)] = value
    return a


def _assess(a: np.ndarray, detected: np.ndarray | None = None):
    n = len(a)
    det = np.ones(n, bool) if detected is None else detected
    return assess_quality(a, det, np.ones(n, bool))


def test_clean_frames_are_not_flagged_and_score_high():
    q = _assess(_rows())
    assert (q.flags == 0).all()
    assert (q.score >= 0.75).all()  # the nearest threshold (blur) is 0.6 of its usual


@pytest.mark.parametrize("changes, flag", [
    ({"face_luma": (slice(30, 40), 30.0)}, "low_light"),  # a fifth of its usual
    ({"face_luma": (slice(30, 40), 9.0)}, "low_light"),
    ({"face_contrast": (slice(30, 40), 8.0)}, "low_light"),
    ({"sharpness": (slice(30, 40), 0.3)}, "blurred"),
    ({"lower_a": (slice(30, 40), 122.0), "lower_b": (slice(30, 40), 112.0)}, "occluded"),
    ({"lower_l": (slice(30, 40), 200.0)}, "occluded"),
])
def test_each_rule_flags_its_frames_and_only_them(changes, flag):
    q = _assess(_rows(**changes))
    assert q.has(flag)[30:].all(), q.reasons(35)
    assert (q.flags[:30] == 0).all()
    assert (q.score[30:] < 0.5).all() and (q.score[:30] > 0.5).all()
    assert (q.flags[30:] & SKIP_FLAGS).all()


@pytest.mark.parametrize("open_share", [0.02, 0.8])
def test_closed_or_squeezed_eyes_are_not_a_cover(open_share):
    """Eyes shut or squeezed show little iris: AU43 and orbital tightening are pain signs,
    never a reason to leave a frame unscored."""
    o = CLEAN["eye_open_r"] * open_share
    q = _assess(_rows(eye_contrast_r=(slice(30, 40), 0.2), eye_open_r=(slice(30, 40), o),
                      eye_contrast_l=(slice(30, 40), 0.2), eye_open_l=(slice(30, 40), o)))
    assert (q.flags == 0).all()


def test_a_darker_face_is_not_called_dark_in_the_same_light():
    """Skin of L* about 35 reads about 90 on the 8-bit scale: its usual, not darkness."""
    q = _assess(_rows(face_luma=(slice(0, 40), 90.0), face_contrast=(slice(0, 40), 60.0)))
    assert not q.has("low_light").any()


def test_a_cover_worn_most_of_the_time_does_not_make_the_bare_face_covered():
    """A white mask for 30 of 40 frames: the bare frames must stay readable."""
    q = _assess(_rows(lower_l=(slice(0, 30), 200.0), lower_a=(slice(0, 30), 128.0),
                      lower_b=(slice(0, 30), 130.0)))
    assert not q.has("occluded")[30:].any()


def test_a_beard_is_not_a_cover():
    """A dark or grey beard is far from the cheeks' colour, worn from the first frame: it
    must not silence the whole recording."""
    for lab in ((60.0, 131.0, 134.0), (170.0, 128.0, 129.0)):  # dark brown, grey
        q = _assess(_rows(lower_l=(slice(0, 40), lab[0]), lower_a=(slice(0, 40), lab[1]),
                          lower_b=(slice(0, 40), lab[2])))
        assert not q.has("occluded").any()


def test_a_change_of_light_over_the_whole_face_is_not_a_cover():
    q = _assess(_rows(lower_l=(slice(30, 40), 185.0), upper_l=(slice(30, 40), 205.0)))
    assert not q.has("occluded").any()


def test_without_a_face_or_appearance_only_the_face_and_pose_flags():
    det = np.ones(40, bool)
    det[:5] = False
    q = _assess(_rows(), det)
    assert q.has("no_face")[:5].all() and np.isnan(q.score[:5]).all()
    q2 = assess_quality(None, det, np.r_[np.ones(35, bool), np.zeros(5, bool)])
    assert q2.has("no_face")[:5].all() and q2.has("pose_out_of_range")[35:].all()
    assert set(q2.reasons(37)) == {"pose_out_of_range"}
    assert set(FLAGS) == set(q2.shares())


@pytest.fixture(scope="module")
def covered(sample_video, tmp_path_factory):
    """The sample's first 160 frames: frames 60-99 under a surgical mask, 100-139 in near
    darkness."""
    clean = concat_tracks(list(TrackReader(sample_video).chunks()))
    meshes = {int(i): clean.landmarks[k] for k, i in enumerate(clean.frame_index)
              if clean.detected[k]}
    mask = corruption("mask", 2, seed=0, meshes=meshes)
    dark = corruption("low_light", 3, seed=0)
    path = tmp_path_factory.mktemp("covered") / "covered.mp4"
    writer = None
    for f in FrameReader(sample_video):
        if f.index >= 160:
            break
        img = f.image_bgr
        img = mask(img, f.index) if 60 <= f.index < 100 else dark(img, f.index) \
            if 100 <= f.index < 140 else img
        if writer is None:
            h, w = img.shape[:2]
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (w, h))
        writer.write(img)
    writer.release()
    return path


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from painvision.cli.app import main; main()",
                           *args], capture_output=True, text=True, timeout=300)


@pytest.mark.mediapipe
def test_a_masked_and_a_darkened_stretch_are_flagged_and_left_unscored(covered, tmp_path):
    """Through analyze: the CSV flags them and leaves their scores empty."""
    out = tmp_path / "out"
    res = _cli("analyze", str(covered), "--out", str(out), "-q")
    assert res.returncode == 0, res.stderr
    with open(out / "covered.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 160
    flags = [r["quality_flags"] for r in rows]

    def share(lo: int, hi: int, word: str) -> float:
        return sum(word in f for f in flags[lo:hi]) / (hi - lo)

    assert share(65, 100, "occluded") >= 0.8   # the mask (after the first look at it)
    assert share(100, 140, "low_light") >= 0.9
    assert sum(f != "" for f in flags[:60]) <= 3  # the clean start stays clean
    for r in rows:
        if r["quality_flags"] and r["face_detected"] == "1":
            assert r["pspi"] == "" and r["pain_prob"] == ""  # flagged: not scored
        assert r["quality"] == "" or 0.0 <= float(r["quality"]) <= 1.0
    assert all(r["pspi"] != "" for r in rows[:60] if not r["quality_flags"])


@pytest.mark.mediapipe
def test_watch_flags_them_live_and_does_not_score_them(covered, tmp_path):
    """Through watch, one frame at a time (each look judged against the looks before it):
    the readings say why, and carry no score."""
    log = tmp_path / "w.jsonl"
    res = _cli("watch", str(covered), "-q", "--every", "0.04", "--calibrate", "2",
               "--out", str(log))
    assert res.returncode == 0, res.stderr
    readings = [r for r in map(json.loads, log.read_text().splitlines())
                if r["kind"] == "reading"]
    assert len(readings) == 160

    def share(lo: float, hi: float, flag: str) -> float:
        sel = [r for r in readings if lo <= r["t"] < hi]
        return sum(flag in r["quality"] for r in sel) / len(sel)

    assert share(2.5, 4.0, "occluded") >= 0.9
    assert share(4.1, 5.6, "low_light") >= 0.9
    assert share(0.0, 2.4, "occluded") == share(0.0, 2.4, "low_light") == 0.0
    for r in readings:
        if {"occluded", "low_light", "blurred"} & set(r["quality"]):
            assert r["pspi"] is None and r["aus"] is None
    assert any(r["pspi"] is not None for r in readings if r["t"] >= 5.7)  # back to scoring
