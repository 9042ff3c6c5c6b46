from __future__ import annotations

import csv
import filecmp

import cv2
import numpy as np
import pytest

from painvision.datasets import LABEL_COLUMNS, load_dataset, read_labels, read_landmarks
from painvision.errors import InputError
from painvision.synth.dataset import SynthConfig, plan_clips, write_dataset
from painvision.synth.identity import sample_identities

pytestmark = pytest.mark.mediapipe  # identities start from MediaPipe meshes of the photos


@pytest.fixture(scope="module")
def landmark_sets(tmp_path_factory):
    d = tmp_path_factory.mktemp("ds")
    cfg = SynthConfig(subjects=4, minutes=1.0, seed=7, clip_s=10.0)
    a = write_dataset(d / "a", cfg)
    b = write_dataset(d / "b", cfg)
    c = write_dataset(d / "c", SynthConfig(subjects=4, minutes=1.0, seed=8, clip_s=10.0))
    return a, b, c


def test_same_seed_same_dataset(landmark_sets):
    a, b, c = landmark_sets
    items = load_dataset(a)
    assert len(items) == 8  # 4 subjects x 15 s in clips of <= 10 s
    for item in items:
        other = b / "labels" / item.labels.name
        assert filecmp.cmp(item.labels, other, shallow=False)
        x = read_landmarks(item.landmarks)
        y = read_landmarks(b / "landmarks" / item.landmarks.name)
        np.testing.assert_array_equal(x.landmarks, y.landmarks)
    assert filecmp.cmp(a / "subjects.csv", b / "subjects.csv", shallow=False)
    assert not filecmp.cmp(a / "labels" / items[0].labels.name,
                           c / "labels" / items[0].labels.name, shallow=False)


def test_labels_align_with_frames(landmark_sets):
    for item in load_dataset(landmark_sets[0]):
        labels = read_labels(item.labels)
        track = read_landmarks(item.landmarks)
        assert len(track) == labels["frame"].size == 188  # 15 s a subject, 2 clips, 25 fps
        np.testing.assert_array_equal(labels["frame"], np.arange(188))
        np.testing.assert_allclose(np.diff(track.t), 1 / 25)
        np.testing.assert_allclose(
            labels["pspi"],
            labels["au4"] + np.maximum(labels["au6"], labels["au7"])
            + np.maximum(labels["au9"], labels["au10"]) + labels["au43"], atol=2e-3)
        assert set(np.unique(labels["pain"])) <= {0.0, 1.0}
        lost = ~track.detected
        assert np.isnan(track.landmarks[lost]).all()
        assert np.isfinite(track.landmarks[~lost]).all()
        xy = track.landmarks[~lost][:, :468, :2]
        assert 0.0 < np.median(xy) < 1.0


def test_subjects_never_cross_the_heldout_split(landmark_sets):
    items = load_dataset(landmark_sets[0])
    train = {i.subject for i in items if i.split == "train"}
    held = {i.subject for i in items if i.split == "heldout"}
    assert train and held and not train & held
    with open(landmark_sets[0] / "subjects.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    photos = {s: {r["photo"] for r in rows if r["split"] == s} for s in ("train", "heldout")}
    seeds = {s: {r["shape_seed"] for r in rows if r["split"] == s} for s in ("train", "heldout")}
    assert not photos["train"] & photos["heldout"]
    assert not seeds["train"] & seeds["heldout"]
    assert [i.subject for i in load_dataset(landmark_sets[0], split="heldout")] == sorted(held) * 2


def test_identity_seeds_never_overlap_across_splits_at_any_size():
    train = {i.shape_seed for i in sample_identities(500, "train", 0)}
    held = {i.shape_seed for i in sample_identities(500, "heldout", 0)}
    assert not train & held


def test_rendered_dataset_frames_match_labels(tmp_path):
    cfg = SynthConfig(subjects=2, minutes=0.1, seed=1, render=True, size=(240, 180))
    out = write_dataset(tmp_path / "r", cfg, workers=1)
    items = load_dataset(out)
    assert {i.split for i in items} == {"train", "heldout"}
    for item in items:
        cap = cv2.VideoCapture(str(item.video))
        n = 0
        while cap.grab():
            n += 1
        assert n == read_labels(item.labels)["frame"].size == 75
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        assert size == (240, 180)
    again = write_dataset(tmp_path / "r2", cfg, workers=1)
    first = items[0].video.name
    a = cv2.VideoCapture(str(out / "videos" / first))
    b = cv2.VideoCapture(str(again / "videos" / first))
    for _ in range(5):
        np.testing.assert_array_equal(a.read()[1], b.read()[1])


def test_refuses_a_non_empty_folder_and_leaves_it_alone(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        write_dataset(tmp_path, SynthConfig(subjects=1, minutes=0.05))
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_plan_is_a_function_of_the_config():
    cfg = SynthConfig(subjects=5, minutes=3.0, seed=2, clip_s=20.0)
    assert plan_clips(cfg) == plan_clips(cfg)
    jobs = plan_clips(cfg)
    assert sum(j.duration_s for j in jobs) == pytest.approx(180.0)
    assert sum(1 for s in {j.identity.subject for j in jobs} if s.startswith("heldout")) == 1


def test_bad_configs():
    with pytest.raises(InputError):
        SynthConfig(subjects=0)
    with pytest.raises(InputError):
        SynthConfig(minutes=0)
    with pytest.raises(InputError):
        SynthConfig(heldout_share=1.5)
    only_held = plan_clips(SynthConfig(subjects=3, minutes=0.3, heldout_share=1.0))
    assert {j.identity.split for j in only_held} == {"heldout"}


def test_a_folder_of_videos_with_labels_beside_them_is_a_dataset(sample_video):
    items = load_dataset(sample_video.parent)
    ids = [i.id for i in items]
    assert "astronaut_pain" in ids and all(i.subject == i.id for i in items)
    item = items[ids.index("astronaut_pain")]
    assert item.video == sample_video and read_labels(item.labels)["frame"].size == 400
    assert load_dataset(sample_video.parent, split="heldout") == []


@pytest.mark.parametrize("row, message", [("1,1,0,0,0,0,abc,0,0", "'abc' is not a number"),
                                          ("1,1,0", "3 values where the header has 9")])
def test_a_damaged_labels_file_names_its_line(tmp_path, row, message):
    path = tmp_path / "c.labels.csv"
    # a blank line before it: the number is the file's own line number
    path.write_text(f"{','.join(LABEL_COLUMNS)}\n0,0,0,0,0,0,0,0,0\n\n{row}\n")
    with pytest.raises(InputError, match=f"c.labels.csv:4: {message}"):
        read_labels(path)
