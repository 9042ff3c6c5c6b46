from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from scipy.stats import pearsonr

from painvision.errors import DeviceError, InputError
from painvision.pipeline import analyze_video
from painvision.pipeline.analysis import CSV_COLUMNS
from painvision.synth.faces import load_photo
from painvision.synth.render import FaceRig
from painvision.synth.sequence import HeadMotion

pytestmark = pytest.mark.mediapipe


@pytest.mark.parametrize("scorer", ["analytic", "model"])
def test_bundled_sample_meets_the_accuracy_bar(sample_video, scorer):
    """Acceptance: face on >= 95 % of frames, Pearson(PSPI, truth) >= 0.8."""
    a = analyze_video(sample_video, device="cpu", scorer=scorer)
    truth = np.genfromtxt(str(sample_video).replace(".mp4", ".labels.csv"), delimiter=",",
                          names=True)
    assert len(a.t) == truth.size
    assert a.track.detected.mean() >= 0.95
    ok = np.isfinite(a.pspi)
    r = pearsonr(a.pspi[ok], truth["pspi"][a.track.frame_index][ok])[0]
    assert r >= 0.8
    # Neutral seconds read near zero; the strong episode reads higher than the moderate one.
    assert np.nanmean(a.pspi[a.t < 2.5]) < 1.0
    moderate = np.nanmean(a.pspi[(a.t > 4.3) & (a.t < 5.3)])
    strong = np.nanmean(a.pspi[(a.t > 9.7) & (a.t < 11.5)])
    assert strong > moderate > 2.0
    # 16 s of face: the head-pose coupling was fitted and is reported
    coupling = a.summary["calibration"]["pose_coupling"]
    assert coupling["frames"] >= 100 and len(coupling["per_10_deg"]) == a.signals.shape[1]


def test_outputs_and_summary(short_clip, tmp_path):
    a = analyze_video(short_clip, device="cpu", stride=1, scorer="analytic")
    assert a.pspi.shape == (45,) and a.pspi.dtype == np.float32
    df = a.frames
    assert list(df.columns) == list(CSV_COLUMNS) and len(df) == 45
    s = a.summary
    assert s["video"]["frames"] == 45 and s["video"]["fps"] == pytest.approx(15.0)
    assert s["video"]["duration_s"] == pytest.approx(3.0)
    assert s["face"]["share_detected"] >= 0.95
    assert s["calibration"]["baseline"]["method"] == "auto_mode"
    assert s["calibration"]["pose_coupling"]["frames"] == 0  # 3 s: too short to fit
    assert s["model"] == {"scorer": "analytic-v1", "device": "cpu"}
    assert a.pain_prob is None and s["pain_prob"] is None
    assert df["pain_prob"].isna().all()
    assert 0 <= s["pspi"]["mean"] <= s["pspi"]["p95"] <= s["pspi"]["max"] <= 16
    a.to_json(tmp_path / "x.json")
    assert json.loads((tmp_path / "x.json").read_text())["video"]["frames"] == 45


def test_model_scorer_outputs(short_clip):
    a = analyze_video(short_clip, device="cpu", scorer="model")
    assert a.scorer == "painvision-default"
    ok = np.isfinite(a.pspi)
    assert ok.mean() >= 0.95
    assert ((a.pain_prob[ok] >= 0) & (a.pain_prob[ok] <= 1)).all()
    np.testing.assert_allclose(
        a.pspi[ok], (a.aus.au4 + np.maximum(a.aus.au6, a.aus.au7)
                     + np.maximum(a.aus.au9, a.aus.au10) + a.aus.au43)[ok], atol=1e-5)
    assert a.summary["pain_prob"]["max"] <= 1.0


def test_missing_weights_fail_before_decoding(short_clip, tmp_path):
    from painvision.errors import WeightsError

    with pytest.raises(WeightsError, match="no such file"):
        analyze_video(short_clip, scorer="model", weights=tmp_path / "none.pt")


def test_neutral_stretch_and_stride(short_clip):
    a = analyze_video(short_clip, neutral=(0.0, 0.8), stride=3)
    assert len(a.t) == 15
    np.testing.assert_array_equal(a.track.frame_index, np.arange(0, 45, 3))
    assert a.baseline.method == "neutral_range" and a.baseline.neutral_s == (0.0, 0.8)
    assert a.summary["video"]["frames"] == 45


def test_bad_arguments(short_clip):
    with pytest.raises(InputError):
        analyze_video(short_clip, scorer="magic")
    with pytest.raises(InputError):
        analyze_video(short_clip, stride=0)
    with pytest.raises(InputError, match="neutral"):
        analyze_video(short_clip, neutral=(10.0, 12.0))
    with pytest.raises(InputError, match=r"neutral must be \(start_s, end_s\)"):
        analyze_video(short_clip, neutral="0:3")
    with pytest.raises(DeviceError, match="run on the CPU"):  # as the CLI says it
        analyze_video(short_clip, device="cuda")


def test_no_face_video_gives_empty_scores(no_face_clip):
    a = analyze_video(no_face_clip)
    assert not a.track.detected.any() and np.isnan(a.pspi).all()
    assert a.summary["pspi"]["mean"] is None and a.summary["face"]["share_detected"] == 0.0


def test_follows_the_subject_when_a_second_face_enters(tmp_path):
    """Subject on the left from the start; a larger visitor appears on the right at 1 s."""
    subject = FaceRig(load_photo("astronaut"), size=(240, 240))
    visitor = FaceRig(load_photo("grace_hopper"), size=(300, 300))
    fps, n = 15, 36
    path = tmp_path / "two.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (560, 320))
    still = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0])  # yaw, pitch, roll, dx, dy, scale
    motion = HeadMotion(roll_deg=2.0, shift=0.03).at(np.arange(n) / fps)
    v_img = visitor.frame({}, still)
    for i in range(n):
        canvas = np.full((320, 560, 3), 90, np.uint8)
        canvas[40:280, 0:240] = subject.frame({}, motion[i])
        if i >= fps:
            canvas[10:310, 250:550] = v_img
        w.write(canvas)
    w.release()
    a = analyze_video(path, keep_landmarks=True)
    assert a.track.n_faces[fps + 2:].min() == 2  # MediaPipe sees both
    cx = np.nanmean(a.track.landmarks[:, :468, 0], axis=1)
    assert a.track.detected.mean() > 0.95
    assert np.nanmax(cx) < 0.45  # never jumps to the visitor on the right


@pytest.mark.parametrize("scorer", ["analytic", "model"])
def test_chunked_analysis_equals_scoring_the_whole_track(sample_video, scorer, monkeypatch):
    """analyze_video reads the track in chunks and drops the meshes; the scores must be the
    ones the whole-track path (extract_track + prepare_inputs) gives."""
    from painvision.classifier import ModelScorer
    from painvision.features import AnalyticScorer
    from painvision.features.inputs import prepare_inputs
    from painvision.landmarks import extract as extract_mod
    from painvision.pipeline import extract_track

    _, track, _ = extract_track(sample_video)
    inputs = prepare_inputs(track)
    if scorer == "model":
        aus, prob = ModelScorer(device="cpu").score(inputs)
    else:
        aus = AnalyticScorer().score(inputs.signals, track.t, inputs.valid,
                                     inputs.neutral.baseline)
    real = extract_mod.TrackReader.__init__
    monkeypatch.setattr(extract_mod.TrackReader, "__init__",  # small chunks: 400 frames -> 4
                        lambda self, *a, **k: real(self, *a, **{**k, "chunk": 128}))
    a = analyze_video(sample_video, device="cpu", scorer=scorer)
    assert a.track.landmarks.shape == (len(track), 0, 3)  # meshes not kept
    np.testing.assert_allclose(a.pspi, aus.pspi, atol=1e-4, equal_nan=True)
    np.testing.assert_allclose(a.pose.yaw_pitch_roll, inputs.pose.yaw_pitch_roll, atol=1e-4)
    if scorer == "model":
        np.testing.assert_allclose(a.pain_prob, prob, atol=1e-5, equal_nan=True)
    kept = analyze_video(sample_video, device="cpu", keep_landmarks=True)
    np.testing.assert_array_equal(kept.track.landmarks, track.landmarks)
