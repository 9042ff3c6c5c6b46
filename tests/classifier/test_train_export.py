from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from painvision.classifier import create_model, save_weights
from painvision.classifier.export import OUTPUTS, export_model
from painvision.classifier.train import (
    Clip,
    TrainConfig,
    _augment_window,
    _batch,
    _prior_correct,
    balance_datasets,
    cross_validate,
    fit,
    load_clips,
    loss_fn,
)
from painvision.errors import InputError
from painvision.features.geometry import SIGNAL_NAMES
from painvision.features.inputs import N_FEATURES
from painvision.synth.dataset import SynthConfig, write_dataset
from painvision.types import AU_NAMES

pytestmark = pytest.mark.mediapipe


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("tiny") / "ds",
                         SynthConfig(subjects=4, minutes=2.0, seed=3, clip_s=30.0))


def test_training_runs_end_to_end_and_lowers_the_loss(tiny_dataset):
    clips = load_clips(tiny_dataset)
    train = [c for c in clips if c.split == "train"]
    cfg = TrainConfig(model="tcn_tiny", epochs=6, steps_per_epoch=8, batch=8, window=128,
                      patience=100, seed=0)
    rng = np.random.default_rng(5)
    probe = [_batch(train, cfg, rng) for _ in range(3)]
    torch.manual_seed(cfg.seed)  # fit() starts from this same initialisation
    untrained = create_model("tcn_tiny").eval()

    def probe_loss(net):
        with torch.no_grad():
            return float(np.mean([float(loss_fn(net(x), y, m)) for x, y, m in probe]))

    before = probe_loss(untrained)
    model, info = fit(train, [], cfg, torch.device("cpu"))
    after = probe_loss(model)
    assert info["epochs_run"] == 6
    assert after < 0.8 * before, (before, after)
    assert info["pain_bias_correction"] == pytest.approx(-np.log(info["pos_weight"]), abs=1e-4)


def test_cross_validation_tests_each_subject_once_and_never_the_extra_clips(tiny_dataset):
    clips = load_clips(tiny_dataset)
    main = [c for c in clips if c.split == "train"]
    extra = [c for c in clips if c.split == "heldout"]
    cfg = TrainConfig(model="tcn_tiny", epochs=1, steps_per_epoch=1, batch=2, window=64,
                      folds=3, seed=0)
    folds = list(cross_validate(main, cfg, torch.device("cpu"), np.random.default_rng(0),
                                extra=extra))
    tested = [s for f in folds for s in f.test_subjects]
    assert sorted(tested) == sorted({c.subject for c in main})  # each once
    assert not {c.subject for c in extra} & set(tested)
    for f in folds:
        assert f.test and {c.subject for c in f.test} == set(f.test_subjects)


def test_balanced_datasets_give_equal_shares_of_the_windows(tiny_dataset):
    clips = load_clips(tiny_dataset)
    small = [replace(clips[0], subject=f"a/{clips[0].subject}")]
    large = [replace(c, subject=f"b/{c.subject}") for c in clips[1:]]
    frames = balance_datasets(small + large)
    assert frames == {"a": len(clips[0].track), "b": sum(len(c.track) for c in clips[1:])}
    assert frames["a"] < frames["b"]
    share = {k: sum(len(c.track) * c.weight for c in part)
             for k, part in (("a", small), ("b", large))}
    assert share["a"] == pytest.approx(share["b"])


def test_prior_correction_divides_the_odds_of_pain_and_nothing_else():
    torch.manual_seed(0)
    model = create_model("tcn_tiny").eval()
    x = torch.randn(2, 40, N_FEATURES)
    with torch.no_grad():
        before = model(x)
        _prior_correct(model, 7.0)
        after = model(x)
    odds = lambda p: p / (1 - p)  # noqa: E731
    ratio = odds(before["pain_prob"]) / odds(after["pain_prob"])
    assert torch.allclose(ratio, torch.full_like(ratio, 7.0), rtol=1e-3)
    for k in OUTPUTS:
        if k != "pain_prob":
            assert torch.equal(before[k], after[k]), k


def test_cli_train_with_folds_writes_weights_and_report(tiny_dataset, tmp_path):
    exe = Path(sys.executable).with_name("painvision")
    out = tmp_path / "m.pt"
    res = subprocess.run([str(exe), "train", str(tiny_dataset), "--out", str(out), "--epochs",
                          "2", "--steps", "3", "--folds", "3", "--model", "tcn_tiny",
                          "--device", "cpu"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    report = json.loads(out.with_name("m.report.json").read_text())
    assert len(report["folds"]) == 3
    tested = [s for f in report["folds"] for s in f["test_subjects"]]
    assert len(tested) == len(set(tested)) == 3  # each training subject tested once
    for f in report["folds"]:
        assert {"mae", "rmse", "pearson", "icc31"} <= set(f["metrics"]["pspi"])
        assert {"f1", "roc_auc"} <= set(f["metrics"]["pain_prob"])
    assert "heldout" in report and not set(report["final"]["train_subjects"]) & {"heldout-000"}
    again = subprocess.run([str(exe), "train", str(tiny_dataset), "--out", str(out)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and "--overwrite" in again.stderr
    assert "no validation subjects" not in res.stderr  # three training subjects: one validates
    # this tiny dataset's 90 s of training clips happen to hold no pain episode: said
    assert "warning: the training split has no pain frame" in res.stderr


def test_cli_train_says_when_the_data_cannot_train_a_model(tmp_path):
    """Two subjects, the held-out one included: no validation subject is left, and the
    short training clip holds no pain. Trained anyway, and both are said."""
    data = write_dataset(tmp_path / "ds", SynthConfig(subjects=2, minutes=0.05, seed=1,
                                                      clip_s=1.5))
    exe = Path(sys.executable).with_name("painvision")
    res = subprocess.run([str(exe), "train", str(data), "--out", str(tmp_path / "m.pt"),
                          "--epochs", "1", "--steps", "1", "--model", "tcn_tiny",
                          "--device", "cpu", "-q"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    text = " ".join(res.stderr.split())
    assert "warning: no validation subjects (1 training subject(s))" in text  # -q or not
    assert res.stdout == ""  # -q: no table
    assert (tmp_path / "m.pt").is_file() and (tmp_path / "m.report.json").is_file()


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_gives_the_same_outputs(tmp_path, fmt):
    torch.manual_seed(4)
    net = create_model("tcn_tiny").eval()
    weights = save_weights(tmp_path / "w.pt", net)
    path = export_model(weights, fmt, tmp_path / f"m.{fmt}")
    x = torch.randn(2, 97, N_FEATURES)  # another length than the export example
    with torch.no_grad():
        ref = net(x)
    expected = torch.stack([ref[k] for k in OUTPUTS], -1).numpy()
    if fmt == "onnx":
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = sess.run(None, {"features": x.numpy()})[0]
    else:
        got = torch.jit.load(str(path))(x).detach().numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-4)
    assert Path(str(path) + ".json").exists()


def test_a_signals_only_model_ignores_the_point_movements(tiny_dataset):
    from painvision.classifier.train import unused_inputs

    clips = [c for c in load_clips(tiny_dataset) if c.split == "train"]
    cfg = TrainConfig(model="tcn_tiny", epochs=2, steps_per_epoch=3, batch=4, window=64,
                      inputs="signals", seed=1)
    model, _ = fit(clips, [], cfg, torch.device("cpu"))
    unused = unused_inputs("signals")
    assert unused.size == N_FEATURES - 13  # 8 signals, pose 3, presence, interval remain
    assert torch.count_nonzero(model.inp.weight[:, unused]) == 0
    x = torch.from_numpy(clips[0].inputs.features[None, :200].copy())
    moved = x.clone()
    moved[..., unused] += torch.randn_like(moved[..., unused])
    with torch.no_grad():
        torch.testing.assert_close(model(moved)["pspi"], model(x)["pspi"])
    with pytest.raises(InputError):
        unused_inputs("pixels")


def _episode_clip() -> Clip:
    """A clean 12-s landmark clip: AU4 and AU7 rise to 4 and fall back."""
    from painvision.features.inputs import prepare_inputs
    from painvision.synth.identity import sample_identities
    from painvision.synth.meshgen import MeshGenerator, MeshNoise
    from painvision.synth.sequence import Episode, Script
    from painvision.types import LandmarkTrack

    tl = Script(12.0, 25.0, episodes=(Episode(4.0, 5.5, 7.5, 9.0, {"au4": 4.0, "au7": 4.0}),)
                ).timeline()
    noise = MeshNoise(region_spread=0.0, brow_occlusion_share=0.0, dropout_per_min=0.0)
    lm, detected = MeshGenerator(sample_identities(2, "train", 0)[1], (640, 480)).sequence(
        tl, np.random.default_rng(0), noise)
    n = len(tl)
    track = LandmarkTrack(tl.t, np.arange(n), lm, detected, detected.astype(np.float32),
                          detected.astype(np.int32), 640, 480)
    aus = tl.labels()
    labels = {name: getattr(aus, name) for name in AU_NAMES}
    labels |= {"pspi": aus.pspi, "pain": tl.pain.astype(np.float32)}
    return Clip("episode", "s", "train", track, labels, prepare_inputs(track))


def test_augmentation_can_freeze_the_brows_of_any_dataset():
    """Training windows may get an uneven front-end response: with the brow band occluded,
    the brow signal in the features barely follows AU4 while the lower lid still follows
    AU7."""
    clip = _episode_clip()
    frozen = TrainConfig(response_share=1.0, response_spread=0.0, brow_occlusion_share=1.0)
    off = TrainConfig(response_share=0.0)
    brow, lid = SIGNAL_NAMES.index("brow_height"), SIGNAL_NAMES.index("lower_lid_drop")
    got = {}
    for name, cfg in (("off", off), ("frozen", frozen)):
        # Same seed: the same rotation, jitter and drops; only the response differs.
        feats, y, valid = _augment_window(clip, 0, len(clip.track), np.random.default_rng(2),
                                          cfg)
        f, y = feats[valid], y[valid]
        # How much each signal moves per unit of its AU (au4: column 0, au7: column 2).
        got[name] = (np.polyfit(y[:, 0], f[:, brow], 1)[0], np.polyfit(y[:, 2], f[:, lid], 1)[0])
    assert got["off"][0] > 0.05  # the brows follow AU4 (features: IOD x 10)
    assert got["frozen"][0] < 0.35 * got["off"][0]
    assert got["frozen"][1] > 0.7 * got["off"][1] > 0
