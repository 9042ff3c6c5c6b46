"""Training the pain evidence (``classifier.evidence_train.train_evidence``) and
``painvision train --scorer combined``, on small generated landmark datasets."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from unbc_layout import write_unbc

from painvision.classifier.evidence_train import (
    ClipChannels,
    EvidenceConfig,
    _check_parts,
    _shown_pspi,
    check_folds,
    evidence_set,
    preflight,
    rest_readings,
    split_subjects,
    train_evidence,
)
from painvision.classifier.train import load_clips
from painvision.errors import InputError
from painvision.features.evidence import CHANNELS, PainEvidence
from painvision.synth.dataset import SynthConfig, write_dataset

EXE = Path(sys.executable).with_name("painvision")
SMALL = EvidenceConfig(members=2, epochs=4, patience=2)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """10 identities (8 training, 2 held out), 10 minutes of landmark sequences with pain
    episodes among the look-alikes."""
    return write_dataset(tmp_path_factory.mktemp("evidence") / "ds",
                         SynthConfig(subjects=10, minutes=10.0, seed=5))


@pytest.fixture(scope="module")
def clips(dataset):
    return load_clips(dataset)


def _channels(subject: str, frames: int) -> ClipChannels:
    t = np.arange(frames) / 25.0
    return ClipChannels(subject, t, np.zeros((frames, len(CHANNELS))), np.zeros(frames),
                        np.zeros(frames), np.zeros(frames))


def test_split_holds_back_whole_subjects_of_each_dataset_and_none_of_a_tiny_one():
    big = [_channels(f"a/s{k}", 10) for k in range(10) for _ in range(2)]  # 2 clips each
    other = [_channels(f"b/s{k}", 10) for k in range(7)]
    tiny = [_channels(f"c/s{k}", 10) for k in range(2)]
    train, val = split_subjects([big, other, tiny], 0.15, np.random.default_rng(0))
    assert len(train) + len(val) == len(big) + len(other) + len(tiny)
    held = {c.subject for c in val}
    assert not held & {c.subject for c in train}  # whole subjects, both clips together
    by_set = {p: {s for s in held if s.startswith(p)} for p in "abc"}
    assert len(by_set["a"]) == 2 and len(by_set["b"]) == 1 and not by_set["c"]
    again = split_subjects([big, other, tiny], 0.15, np.random.default_rng(0))[1]
    assert [c.subject for c in again] == [c.subject for c in val]  # reproducible


def test_training_learns_pain_from_its_look_alikes_and_reports_each_fold(clips):
    evidence, report = train_evidence([clips], SMALL, folds=2, info={"name": "t"})
    assert isinstance(evidence, PainEvidence) and evidence.name == "t"
    assert evidence.b1.size == SMALL.members * SMALL.hidden  # the members, averaged
    train_subjects = {c.subject for c in clips if c.split != "heldout"}
    tested = [s for f in report["folds"] for s in f["test_subjects"]]
    assert sorted(tested) == sorted(train_subjects)  # each training subject tested once
    assert not set(report["final"]["train_subjects"]) & {c.subject for c in clips
                                                          if c.split == "heldout"}
    pooled = report["folds_pooled"]
    assert pooled["frames"] == sum(f["metrics"]["frames"] for f in report["folds"])
    # subjects never trained on, with the generator's laughs, cries and yawns among them:
    # an evidence that learned nothing sits at 0.5
    assert pooled["roc_auc"] > 0.7, pooled
    assert report["heldout"]["roc_auc"] > 0.7, report["heldout"]
    assert "laugh" in report["heldout"]["non_pain_below_by_activity"]
    assert report["datasets"][0]["subjects"] == len(train_subjects)


def test_the_same_seed_gives_the_same_weights_and_another_does_not(clips):
    a, _ = train_evidence([clips], replace(SMALL, members=1))
    b, _ = train_evidence([clips], replace(SMALL, members=1))
    c, _ = train_evidence([clips], replace(SMALL, members=1, seed=1))
    assert np.array_equal(a.w1, b.w1) and a.b2 == b.b2
    assert not np.array_equal(a.w1, c.w1)


def test_each_dataset_weighs_the_same_however_long(clips):
    """A second dataset that is one clip long moves the evidence as much as the whole first
    one: train on a copy of the data split in two unequal 'datasets' and compare with
    the weights the function gives each clip."""
    captured = {}
    import painvision.classifier.evidence_train as et

    real = et.fit_evidence

    def spy(train, val, cfg=None, info=None, **kw):
        captured["train"] = train
        return real(train, val, cfg, info, **kw)

    short = [replace(clips[0], subject="short/" + clips[0].subject)]
    long_ = [replace(c, subject="long/" + c.subject) for c in clips[1:] if c.split != "heldout"]
    try:
        et.fit_evidence = spy
        train_evidence([long_, short], replace(SMALL, members=1, epochs=1))
    finally:
        et.fit_evidence = real
    total = {p: sum(len(c.t) * c.weight for c in captured["train"] if c.subject.startswith(p))
             for p in ("short/", "long/")}
    assert total["short/"] == pytest.approx(1.0)  # not held back: a dataset of one subject
    assert 0.7 < total["long/"] <= 1.0  # what its validation subjects leave of 1


def test_folds_do_not_change_the_final_evidence(clips):
    cfg = replace(SMALL, members=1, epochs=2)
    alone, a = train_evidence([clips], cfg)
    after, b = train_evidence([clips], cfg, folds=2)
    assert a["final"]["val_subjects"] == b["final"]["val_subjects"]
    assert np.array_equal(alone.w1, after.w1)


def test_folds_that_leave_a_fold_too_few_subjects_are_refused_with_what_works():
    five = [[f"s{k}" for k in range(5)]]
    with pytest.raises(InputError, match="--folds 3 works"):  # 2 folds test 3 of 5 at once
        check_folds(five, 2, 0)
    check_folds(five, 3, 0)
    with pytest.raises(InputError, match="give more subjects"):
        check_folds([["a", "b", "c"]], 2, 0)
    with pytest.raises(InputError, match="at least 9.*--folds 5 works"):
        check_folds(five, 9, 0)


def test_what_the_labels_say_is_checked_before_any_face_is_read():
    pain, calm = np.ones(10), np.zeros(10)
    ok = [[(f"s{k}", "train", pain if k == 0 else calm) for k in range(4)]]
    preflight(ok)
    with pytest.raises(InputError, match="no pain frame"):
        preflight([[(s, sp, calm) for s, sp, _ in ok[0]]])
    with pytest.raises(InputError, match="only pain frames"):
        preflight([[(s, sp, pain) for s, sp, _ in ok[0]]])
    with pytest.raises(InputError, match="at least 3 subjects"):
        preflight([ok[0][:2]])
    with pytest.raises(InputError, match="heldout"):
        preflight([[(s, "heldout", p) for s, _, p in ok[0]]])
    with pytest.raises(InputError, match="--folds 4 works"):
        preflight(ok, folds=2)  # 4 subjects: a fold of 2 leaves 2
    # pain in one subject only, the one the final split holds back: nothing left to learn
    # pain from, known from the labels and the seed before any face is read
    final_val = split_subjects([[_channels(f"s{k}", 1) for k in range(4)]], 0.15,
                               np.random.default_rng(0))[1][0].subject
    only = [[(f"s{k}", "train", pain if f"s{k}" == final_val else calm) for k in range(4)]]
    with pytest.raises(InputError, match=r"final: .* no pain frame.*give more subjects$"):
        preflight(only)


def test_parts_without_faces_or_pain_are_refused_and_one_sided_validation_is_said():
    def clip(subject, pain, face=True):
        c = _channels(subject, 20)
        c.pain[:] = pain
        if not face:
            c.channels[:] = np.nan
        return c

    warnings: list[str] = []
    _check_parts([clip("a", 1), clip("b", 0)], [clip("c", 0), clip("c", 1)], "final", warnings)
    assert warnings == []
    with pytest.raises(InputError, match="no pain frame"):
        _check_parts([clip("a", 0), clip("b", 0)], [clip("c", 1)], "fold 2", warnings)
    with pytest.raises(InputError, match=r"no face .* \(c\)"):
        _check_parts([clip("a", 1), clip("b", 0)], [clip("c", 1, face=False)], "final",
                     warnings)
    _check_parts([clip("a", 1), clip("b", 0)], [clip("c", 0)], "final", warnings)
    assert len(warnings) == 1 and "no pain frame" in warnings[0]


def test_an_uncoded_pain_frame_weighs_by_what_the_face_shows():
    """BioVid codes no PSPI: a face at rest inside a pain sample must weigh as little as a
    coded PSPI of 0, a grimace as much as its reading."""
    from painvision.features.evidence import CHANNELS

    c = _channels("s", 30)
    c.pain[:] = 1.0
    c.pspi[:] = np.nan
    c.channels[:, CHANNELS.index("au9")] = 0.6  # what this face reads at rest
    c.channels[15:, CHANNELS.index("au4")] = 2.0
    c.channels[15:, CHANNELS.index("au7")] = 2.5
    rest = _channels("s", 30)  # the same person outside pain: a baseline sample
    rest.channels[:, CHANNELS.index("au9")] = 0.6
    assert rest_readings([c, rest]) == {"s": pytest.approx(0.6)}
    shown = _shown_pspi(c, 0.6)
    assert shown[:15].max() == 0.0 and shown[15:].min() == pytest.approx(4.5)
    _, y, w, _ = evidence_set([c, rest], SMALL, 1, np.random.default_rng(0))
    pain_w = w[y > 0.5]
    assert pain_w[:15].max() == pytest.approx(0.1) and pain_w[-1] == pytest.approx(1.0)
    assert _shown_pspi(c)[:15].min() == pytest.approx(0.6)  # without the rest: read as shown
    c.pspi[:] = 1.0  # coded: the label, not the reading
    assert (_shown_pspi(c, 0.6) == 1.0).all()


def test_made_up_activity_codes_are_named_as_numbers(clips):
    odd = [replace(c, labels={**c.labels, "activity": np.where(
        c.labels.get("activity", np.zeros(len(c.labels["pain"]))) > 1, 99.0, 0.0)})
        for c in clips]
    _, report = train_evidence([odd], replace(SMALL, members=1, epochs=1))
    assert "99" in report["final"]["validation"]["non_pain_below_by_activity"]


def test_data_without_pain_or_subjects_to_hold_back_are_refused(clips):
    calm = [replace(c, labels={**c.labels, "pain": np.zeros_like(c.labels["pain"])})
            for c in clips]
    with pytest.raises(InputError, match="no pain frame"):
        train_evidence([calm], SMALL)
    with pytest.raises(InputError, match="at least 3 subjects"):
        train_evidence([[c for c in clips if c.subject in ("train-000", "train-001")]], SMALL)
    with pytest.raises(InputError, match="folds"):
        train_evidence([clips], SMALL, folds=1)


def test_cli_refuses_the_same_dataset_twice_or_two_of_one_name(dataset, tmp_path):
    import shutil

    link = tmp_path / "link" / dataset.name  # the same folder by another path
    link.parent.mkdir()
    link.symlink_to(dataset)
    copy = shutil.copytree(dataset, tmp_path / "copy" / dataset.name)  # other people, maybe
    other_name = tmp_path / "renamed"
    other_name.symlink_to(dataset)
    for pair, message in (((dataset, dataset), "the same dataset twice"),
                          ((dataset, link), "the same dataset twice"),
                          ((dataset, other_name), "the same dataset twice"),
                          ((".", dataset), "the same dataset twice"),
                          ((dataset, copy), "two datasets named")):
        res = subprocess.run([str(EXE), "train", *map(str, pair), "--scorer", "combined",
                              "--out", str(tmp_path / "e.json")], cwd=dataset,
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 2 and message in res.stderr, (pair, res.stderr)
    aside = tmp_path / "ds-copy"  # as the advice says: the copy under another name, a link
    aside.symlink_to(copy)
    res = subprocess.run([str(EXE), "train", str(dataset), str(aside), "--scorer", "combined",
                          "--out", str(tmp_path / "e.json"), "--epochs", "1", "-q"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    report = json.loads((tmp_path / "e.report.json").read_text())
    held = report["final"]["val_subjects"]
    assert {s.split("/")[0] for s in report["final"]["train_subjects"] + held} == {
        dataset.name, "ds-copy"}


def test_cli_trains_the_evidence_that_analyze_then_uses(dataset, tmp_path, sample_video):
    out = tmp_path / "ward.json"
    res = subprocess.run([str(EXE), "train", str(dataset), "--scorer", "combined", "--out",
                          str(out), "--folds", "2", "--epochs", "2"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "folds pooled" in res.stdout and "held-out split" in res.stdout
    evidence = PainEvidence.load(out)  # JSON, loaded as the scorer loads it
    assert evidence.info["trained_by"] == "painvision train --scorer combined"
    report = json.loads(out.with_name("ward.report.json").read_text())
    assert len(report["folds"]) == 2 and report["datasets"][0]["path"] == str(dataset)
    res = subprocess.run([str(EXE), "analyze", str(sample_video), "--weights", str(out),
                          "--out", str(tmp_path / "a"), "-q"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    summary = json.loads((tmp_path / "a" / f"{Path(sample_video).stem}.json").read_text())
    assert summary["model"]["scorer"].endswith("+ward")  # its name: the file's stem
    again = subprocess.run([str(EXE), "train", str(dataset), "--scorer", "combined", "--out",
                            str(out)], capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "--overwrite" in again.stderr


@pytest.mark.mediapipe
def test_cli_trains_on_the_unbc_layout(tmp_path):
    """The archive's own layout, read through MediaPipe: pain is a frame with PSPI >= 1."""
    root = write_unbc(tmp_path / "UNBC", [(f"0{k}-s{k}", f"s{k}t1", peak) for k, peak in
                                          enumerate((4.0, 3.0, 2.5, 2.0))])
    out = tmp_path / "unbc.json"
    res = subprocess.run([str(EXE), "train", str(root), "--scorer", "combined", "--out",
                          str(out), "--epochs", "2", "-q"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""  # -q
    report = json.loads(out.with_name("unbc.report.json").read_text())
    assert report["datasets"][0]["subjects"] == 4
    validation = report["final"]["validation"]
    assert len(report["final"]["val_subjects"]) == 1  # 15 % of 4, at least one
    assert 0 < validation["pain_frames"] < validation["frames"]
    PainEvidence.load(out)


@pytest.mark.parametrize(("args", "message"), [
    (["--scorer", "combined", "--out", "e.pt"], "name it .json"),
    (["--scorer", "combined", "--out", "e.json", "--steps", "3"], "--steps only applies"),
    (["--scorer", "combined", "--out", "e.json", "--device", "cpu"], "--device only applies"),
    (["--scorer", "analytic", "--out", "e.json"], "nothing to learn"),
    (["--out", "e.json"], "name them .pt"),
    (["--scorer", "combined", "--out", "e.json", "--seed", "-1"], "--seed"),
    (["--out", "e.pt", "--seed", str(2**64)], "--seed"),
])
def test_cli_train_refuses_options_that_do_not_fit(dataset, tmp_path, args, message):
    res = subprocess.run([str(EXE), "train", str(dataset),
                          *[str(tmp_path / a) if a.startswith("e.") else a for a in args]],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and not list(tmp_path.iterdir())
