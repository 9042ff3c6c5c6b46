"""The BioVid Heat Pain Database's layout (part A): read, benchmarked, trained on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from painvision.bench.accuracy import accuracy_markdown, run_accuracy
from painvision.datasets import is_biovid, item_labels, load_dataset
from painvision.errors import InputError
from painvision.synth.render import render_clip
from painvision.synth.sequence import Episode, Script

pytestmark = pytest.mark.mediapipe
EXE = Path(sys.executable).with_name("painvision")
SUBJECTS = ("071309_w_21", "071313_m_41", "071614_m_20", "071709_w_23")


def _sample(root: Path, subject: str, cls: str, number: int, seed: int) -> Path:
    """A 4-s, 15-fps sample of the astronaut face: PA4 grimaces from 1.5 s to 3.5 s, BL1
    rests."""
    episodes = ((Episode(1.5, 2.0, 3.0, 3.5, {"au4": 3.5, "au7": 3.0, "au9": 2.5}),)
                if cls == "PA4" else ())
    folder = root / "video" / subject
    folder.mkdir(parents=True, exist_ok=True)
    video = render_clip("astronaut", Script(4.0, 15.0, episodes=episodes),
                        folder / f"{subject}-{cls}-{number:03d}.mp4", size=(240, 180),
                        seed=seed)
    video.with_suffix(".labels.csv").unlink()  # the renderer's; BioVid has none
    return video


@pytest.fixture(scope="module")
def biovid(tmp_path_factory):
    """Four subjects with a BL1 and a PA4 sample each, one PA2 sample (not read) and a
    macOS resource file (not read either)."""
    root = tmp_path_factory.mktemp("biovid") / "PartA"
    for k, subject in enumerate(SUBJECTS):
        _sample(root, subject, "BL1", 81 + k, seed=k)
        _sample(root, subject, "PA4", 6 + k, seed=10 + k)
    _sample(root, SUBJECTS[0], "PA2", 40, seed=20)
    (root / "video" / SUBJECTS[0] / f"._{SUBJECTS[0]}-PA4-006.mp4").write_bytes(b"\0" * 64)
    (root / "starting_point").mkdir()
    return root


def test_the_layout_is_read_baseline_against_tolerance(biovid):
    assert is_biovid(biovid) and not is_biovid(biovid / "video")
    items = load_dataset(biovid)
    assert [i.subject for i in items] == [s for s in SUBJECTS for _ in range(2)]
    assert {i.id.split("-")[1] for i in items} == {"BL1", "PA4"}  # PA2 left out
    for item in items:
        labels = item_labels(item)
        cap = cv2.VideoCapture(str(item.video))
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        cap.release()
        assert labels["frame"].tolist() == list(range(frames)) and frames == 60
        pain = 1.0 if "-PA4-" in item.id else 0.0
        assert (labels["pain"] == pain).all()
        assert (labels["heat_level"] == 4 * pain).all()
        assert np.isnan(labels["pspi"]).all() and np.isnan(labels["au4"]).all()
    assert load_dataset(biovid, "heldout") == []


def test_its_video_folder_given_for_the_whole_is_pointed_above(biovid):
    with pytest.raises(InputError, match="give the folder above it"):
        load_dataset(biovid / "video")


def test_training_on_baselines_alone_is_refused_before_any_face_is_read(biovid, tmp_path):
    """The labels say there is no pain to learn: said at once, not after MediaPipe has read
    every video (hours on the real database)."""
    import os
    import shutil

    root = tmp_path / "PartA"
    for video in (biovid / "video").rglob("*-BL1-*.mp4"):
        (root / "video" / video.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(video, root / "video" / video.parent.name / video.name)
    cache = tmp_path / "cache"
    res = subprocess.run([str(EXE), "train", str(root), "--scorer", "combined", "--out",
                          str(tmp_path / "e.json")], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PAINVISION_CACHE": str(cache)})
    assert res.returncode == 2 and "no pain frame" in res.stderr, res.stderr
    assert not cache.exists() or not any(cache.rglob("*.npz"))  # no face was read
    assert not (tmp_path / "e.json").exists()


def test_a_sample_filed_under_another_subject_is_refused(tmp_path):
    folder = tmp_path / "PartA" / "video" / SUBJECTS[1]
    folder.mkdir(parents=True)
    (folder / f"{SUBJECTS[0]}-PA4-001.mp4").write_bytes(b"")
    with pytest.raises(InputError, match="its folder"):
        load_dataset(tmp_path / "PartA")


def test_bench_reports_pain_detection_and_no_pspi_agreement(biovid):
    report = run_accuracy(biovid, ("combined", "analytic"), n_boot=0)
    for name, s in report["scorers"].items():
        assert not np.isfinite(s["pspi"]["pearson"]), name  # nothing coded to agree with
        assert s["pspi_ge_3"]["f1"] is None and s["aus"]["au4"]["mae"] is None
        # the grimacing samples read as more painful than the resting ones; frame by
        # frame less so, as a PA4 sample is pain from its first frame, before the grimace
        assert s["sample_pain_roc_auc"] >= 0.9, (name, s["sample_pain_roc_auc"])
        assert s["pain_roc_auc"] > 0.55, (name, s["pain_roc_auc"])
        assert s["episodes"]["true_episodes"] == len(SUBJECTS)  # a PA4 sample: one each
    text = accuracy_markdown(report)
    assert "| combined | - | - | - |" in text and "Per sample" in text


def test_train_the_evidence_on_it_but_not_the_model(biovid, tmp_path):
    out = tmp_path / "biovid.json"
    res = subprocess.run([str(EXE), "train", str(biovid), "--scorer", "combined", "--out",
                          str(out), "--epochs", "2", "-q"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    report = json.loads(out.with_name("biovid.report.json").read_text())
    assert report["datasets"][0]["subjects"] == len(SUBJECTS)
    res = subprocess.run([str(EXE), "train", str(biovid), "--out", str(tmp_path / "m.pt")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "--scorer combined" in res.stderr, res.stderr
    assert not (tmp_path / "m.pt").exists()
