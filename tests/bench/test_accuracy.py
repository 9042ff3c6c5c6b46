"""The accuracy bench on a UNBC-layout fixture and on a generic dataset (cache hits)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from unbc_layout import write_unbc

import painvision
from painvision.bench.accuracy import accuracy_markdown, run_accuracy
from painvision.datasets import is_unbc, item_labels, load_dataset

pytestmark = pytest.mark.mediapipe


@pytest.fixture(scope="module")
def unbc(tmp_path_factory):
    """Two subjects, one sequence each, in the archive's own layout."""
    return write_unbc(tmp_path_factory.mktemp("unbc") / "UNBC",
                      [("042-ll042", "ll042t1aaaff", 4.0), ("064-ak064", "ak064t1afaff", 2.0)])


def test_unbc_layout_is_read(unbc):
    assert is_unbc(unbc)
    items = load_dataset(unbc)
    assert [(i.id, i.subject) for i in items] == [("042-ll042/ll042t1aaaff", "042-ll042"),
                                                 ("064-ak064/ak064t1afaff", "064-ak064")]
    labels = item_labels(items[0])
    assert labels["frame"].tolist() == list(range(30))
    assert labels["pspi"].max() == pytest.approx(6.0, abs=1e-3)
    assert labels["au4"].max() == pytest.approx(4.0, abs=1e-3)
    np.testing.assert_allclose(labels["pain"], labels["pspi"] >= 1)
    assert (labels["au6"] == 0).all() and (labels["au43"] == 0).all()


def test_bench_on_unbc_then_cache_hits(unbc, tmp_path):
    cache = tmp_path / "cache" / "landmarks"
    first = run_accuracy(unbc, ("analytic",), cache_dir=cache, n_boot=50)
    second = run_accuracy(unbc, ("analytic",), cache_dir=cache, n_boot=50)
    assert first["cache_hits"] == 0 and second["cache_hits"] == 2
    # face meshes of patients: for this user alone, the folders made for them too
    files = list(cache.glob("*.npz"))
    assert len(files) == 2 and all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    assert all(d.stat().st_mode & 0o777 == 0o700 for d in (cache, cache.parent))
    a, b = first["scorers"]["analytic"], second["scorers"]["analytic"]
    assert a["pspi"] == b["pspi"]
    assert a["pspi"]["n"] == 60 and set(a["per_subject"]) == {"042-ll042", "064-ak064"}
    # two subjects: resampling them has three outcomes, which is no 95 % interval
    assert a["ci95_over_subjects"]["pearson"] is None
    text = accuracy_markdown(first)
    assert "| analytic |" in text and "false alarms / h" in text
    assert "no intervals: they need 5 subjects or more" in text


def test_cli_bench_accuracy_and_latency(tmp_path, short_clip):
    from painvision.synth.dataset import SynthConfig, write_dataset

    ds = write_dataset(tmp_path / "ds", SynthConfig(subjects=2, minutes=0.2, seed=5))
    exe = Path(sys.executable).with_name("painvision")
    res = subprocess.run([str(exe), "bench", "accuracy", str(ds), "--json",
                          str(tmp_path / "a.json"), "--markdown", str(tmp_path / "a.md"),
                          "--boot", "20", "-q"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""  # -q: the tables go to the files only
    report = json.loads((tmp_path / "a.json").read_text())
    assert set(report["scorers"]) == {"combined", "analytic"}
    assert report["scorers"]["combined"]["pain_score"] == "pain_prob"
    assert report["scorers"]["analytic"]["pain_score"] == "PSPI / 16"
    non_pain = report["scorers"]["analytic"]["non_pain"]  # synth labels mark confounders
    assert {"all non-pain frames", "smiles", "blinks"} <= set(non_pain)
    assert non_pain["blinks"]["frames"] <= non_pain["all non-pain frames"]["frames"]
    # per activity: minutes, alarms per hour and (with pain_prob) the share above 0.5
    acts = report["scorers"]["combined"]["activities"]
    assert acts and all(v["minutes"] > 0 for v in acts.values())
    assert all(v["share_prob_ge_0.5"] is not None for v in acts.values())
    assert all(v["share_prob_ge_0.5"] is None
               for v in report["scorers"]["analytic"]["activities"].values())
    md = (tmp_path / "a.md").read_text()
    assert "| combined |" in md and "| activity | minutes |" in md
    # --weights and --device are the learned model's: the pipeline still runs the default
    # scorer (model weights handed to it were read as pain evidence and failed)
    model = Path(painvision.__file__).parent / "classifier" / "data" / "painvision-default.pt"
    res = subprocess.run([str(exe), "bench", "latency", str(short_clip), "--json",
                          str(tmp_path / "l.json"), "--device", "cpu", "--sizes",
                          "native,480p", "--repeats", "1", "--weights", str(model)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "| " in res.stdout  # without -q the tables are printed
    report = json.loads((tmp_path / "l.json").read_text())
    native, big = report["runs"]
    assert native["size"] == "native" and big["size"] == "480p"
    assert big["resolution"][1] == 480 and big["resolution"][0] % 2 == 0
    assert big["resolution"][0] / 480 == pytest.approx(native["resolution"][0]
                                                       / native["resolution"][1], rel=0.01)
    for lat in (native, big):
        assert lat["frames"] == 45
        assert lat["scorer"].endswith("+pain-evidence-v2") and lat["environment"]["device"] == "cpu"
        h = lat["headline"]
        assert h["pipeline_over_floor"] > 0 and h["front_end_over_floor"] > 0
        assert set(lat["floor_ms_per_frame"]) == {"decode", "bgr_to_rgb", "face_mesh"}
        assert lat["live_latency_ms"]["p95"] >= lat["live_latency_ms"]["p50"] > 0
        assert lat["agreement_with_full_resolution"] is None  # nothing shrunk at these sizes
    assert {"model_runtime", "mediapipe", "cpus", "device"} <= set(report["environment"])
    assert "pipeline / floor" in res.stdout and "480p" in res.stdout
    bad = subprocess.run([str(exe), "bench", "latency", str(tmp_path / "none.mp4")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    for args in (["--sizes", "huge"], ["--device", "cuda"]):
        if args[0] == "--device" and torch_has_cuda():
            continue
        bad = subprocess.run([str(exe), "bench", "latency", str(short_clip), *args],
                             capture_output=True, text=True, timeout=60)
        lines = [line for line in bad.stderr.splitlines() if line.strip()]
        assert bad.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:"), \
            bad.stderr


def torch_has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_intervals_over_subjects_start_at_five_subjects(tmp_path):
    from painvision.synth.dataset import SynthConfig, write_dataset

    ds = write_dataset(tmp_path / "ds", SynthConfig(subjects=5, minutes=0.5, seed=5))
    report = run_accuracy(ds, ("analytic",), n_boot=50, cache_dir=tmp_path / "cache")
    lo, hi = report["scorers"]["analytic"]["ci95_over_subjects"]["pearson"]
    assert -1.0 <= lo < hi <= 1.0
    assert "no intervals" not in accuracy_markdown(report)


def test_the_live_emulation_leaves_a_face_just_found_unscored(tmp_path):
    """bench's alarms come from the live stream as the monitor computes it: the first
    frames of a face found again (``landmarks.facemesh.settling``) are not scored."""
    import dataclasses

    from painvision.bench.accuracy import _streamed
    from painvision.datasets import read_landmarks
    from painvision.features.inputs import prepare_inputs
    from painvision.landmarks.facemesh import SETTLE_FRAMES
    from painvision.scoring import create_scorer
    from painvision.synth.dataset import SynthConfig, write_dataset

    ds = write_dataset(tmp_path / "ds", SynthConfig(subjects=1, minutes=0.1, seed=3))
    track = read_landmarks(next(i.landmarks for i in load_dataset(ds)))
    lost = slice(40, 50)
    det = track.detected.copy()
    lm = track.landmarks.copy()
    det[lost], lm[lost] = False, np.nan
    track = dataclasses.replace(track, detected=det, landmarks=lm)
    assert det[:40].all() and det[50:50 + 2 * SETTLE_FRAMES].all()
    pspi, _ = _streamed(create_scorer("analytic"), prepare_inputs(track), track.detected)
    assert np.isnan(pspi[:SETTLE_FRAMES]).all() and np.isfinite(pspi[SETTLE_FRAMES:40]).all()
    assert np.isnan(pspi[50:50 + SETTLE_FRAMES]).all()
    assert np.isfinite(pspi[50 + SETTLE_FRAMES:50 + 2 * SETTLE_FRAMES]).all()
