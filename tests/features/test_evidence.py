"""The pain evidence: causal features, the same numbers live and offline, safe weights,
and pain told from its look-alikes on generated faces of the held-out photo."""

from __future__ import annotations

import json

import numpy as np
import pytest

from painvision.errors import WeightsError
from painvision.features.analytic import AnalyticScorer
from painvision.features.evidence import (
    CHANNELS,
    N_EVIDENCE_FEATURES,
    EvidenceStream,
    PainEvidence,
    evidence_channels,
    evidence_features,
)
from painvision.features.inputs import prepare_inputs
from painvision.live.alerts import AlertPolicy, alarm_series
from painvision.scoring import create_scorer
from painvision.synth.identity import sample_identities
from painvision.synth.meshgen import MeshGenerator, MeshNoise
from painvision.synth.sequence import Episode, HeadMotion, Script
from painvision.types import LandmarkTrack


def _track(script: Script, seed: int = 0, identity: int = 0) -> LandmarkTrack:
    ident = sample_identities(identity + 1, "heldout", 77)[identity]
    gen = MeshGenerator(ident, size=(480, 360))
    tl = script.timeline()
    lm, det = gen.sequence(tl, np.random.default_rng(seed),
                           MeshNoise(dropout_per_min=0.0, brow_occlusion_share=0.0))
    return LandmarkTrack(t=tl.t, frame_index=np.arange(len(tl)), landmarks=lm, detected=det,
                         confidence=np.ones(len(tl), np.float32),
                         n_faces=det.astype(np.int16), width=480, height=360)


def _scene(kind: str) -> Script:
    """12 s: neutral, then 6 s of a strong laugh, a yawn, or a pain face, then neutral."""
    peaks = {
        "laugh": {"au12": 4.5, "au6": 4.0, "au26": 3.0, "au7": 2.0, "au10": 2.5},
        "yawn": {"au26": 5.0, "au6": 1.0},
        "pain": {"au4": 4.0, "au6": 3.0, "au7": 3.5, "au9": 3.0, "au10": 2.5},
    }[kind]
    shut = (5.0, 7.5) if kind in ("laugh", "yawn", "pain") else None
    return Script(duration_s=12.0, fps=25.0,
                  episodes=(Episode(3.5, 4.5, 8.5, 9.5, peaks, eyes_closed=shut),),
                  motion=HeadMotion(roll_deg=2.0))


def test_features_are_causal_and_restart_after_a_gap():
    rng = np.random.default_rng(0)
    t = np.arange(200) / 25.0
    x = rng.normal(size=(200, len(CHANNELS)))
    f = evidence_features(x, t)
    assert f.shape == (200, N_EVIDENCE_FEATURES) and np.isfinite(f).all()
    y = x.copy()
    y[150:] += 10.0  # the future must not change the past
    np.testing.assert_array_equal(evidence_features(y, t)[:150], f[:150])
    gap = x.copy()
    gap[50:110] = np.nan  # 2.4 s without a face: the averages start again
    g = evidence_features(gap, t)
    assert np.isnan(g[50:110]).all()
    np.testing.assert_allclose(g[110, :len(CHANNELS)], x[110])


def test_stream_gives_the_offline_numbers():
    track = _track(_scene("pain"))
    inputs = prepare_inputs(track)
    analytic = AnalyticScorer()
    evidence = PainEvidence.load()
    offline = evidence.score(inputs.signals, track.t, inputs.valid, inputs.neutral.baseline,
                             analytic)
    stream = EvidenceStream(evidence, analytic)
    live = np.array([np.nan if (p := stream.update(float(t), s, bool(v),
                                                   inputs.neutral.baseline)) is None else p
                     for t, s, v in zip(track.t, inputs.signals, inputs.valid, strict=True)])
    np.testing.assert_allclose(live, offline, atol=1e-6, equal_nan=True)


def test_channels_clip_and_keep_missing_frames_missing():
    raw = np.array([[100.0] * 11, [np.nan] * 11])
    ch = evidence_channels(raw, np.array([0.2, 0.5]))
    assert ch[0].max() <= 6.0 and ch[0, -1] == pytest.approx(0.8)
    assert np.isnan(ch[1]).all()


def test_weights_are_json_checked_and_never_unpickled(tmp_path):
    ev = PainEvidence.load()
    path = tmp_path / "ev.json"
    path.write_text(json.dumps(ev.to_dict()))
    again = PainEvidence.load(path)
    np.testing.assert_array_equal(again.w1, ev.w1)
    bad = ev.to_dict() | {"w1": [[0.0]]}
    path.write_text(json.dumps(bad))
    with pytest.raises(WeightsError):
        PainEvidence.load(path)
    path.write_bytes(b"\x80\x04\x95 pickle")
    with pytest.raises(WeightsError):
        PainEvidence.load(path)
    with pytest.raises(WeightsError):
        PainEvidence.load(tmp_path / "missing.json")


@pytest.mark.parametrize("identity", [0, 1, 2])
def test_a_strong_laugh_and_a_yawn_do_not_alarm_and_pain_does(identity):
    """Generated faces of the held-out photo: a laugh that squeezes the eyes shut reads a
    high PSPI, as FACS says it should, and no alarm follows; a pain face alarms."""
    scorer = create_scorer("combined")
    result = {}
    for kind in ("laugh", "yawn", "pain"):
        track = _track(_scene(kind), seed=identity, identity=identity)
        scores = scorer.score(prepare_inputs(track))
        alarm = alarm_series(track.t, scores.aus.pspi, scores.pain_prob, AlertPolicy())
        result[kind] = (float(np.nanmax(scores.aus.pspi)), bool(alarm.any()),
                        float(np.nanmax(scores.pain_prob)))
    assert result["laugh"][0] >= 3.0, result  # PSPI keeps its definition
    assert not result["laugh"][1] and not result["yawn"][1], result
    assert result["pain"][1], result


def _held(values: dict[str, float], seconds: float = 3.0, pulse: dict | None = None) -> float:
    """pain_prob after a face has held these per-person AU readings for a few seconds."""
    t = np.arange(int(seconds * 25)) / 25.0
    x = np.zeros((t.size, len(CHANNELS)))
    for k, v in values.items():
        x[:, CHANNELS.index(k)] = v
    for k, v in (pulse or {}).items():  # laughter's mouth pulses at ~4.5 Hz
        x[:, CHANNELS.index(k)] += v * np.abs(np.sin(np.pi * 4.5 * t))
    return float(PainEvidence.load().prob(evidence_features(x, t))[-1])


PAIN_FACES = {
    "brows, lids, nose": dict(au4=2, au6=2, au7=3, au9=2, au10=1.5, closure=0.5),
    "eyes squeezed shut": dict(au4=4, au6=3, au7=4, au9=3, au10=2.5, closure=1.0),
    "with an open mouth": dict(au4=2, au6=2, au7=3, au9=2, au10=1.5, closure=0.5, au25=2.5,
                               au26=2),
}
BEHIND_GLASSES = dict(au6=2, au7=3, au9=2.5, au10=1.5, closure=0.4)  # no brow reading
LAUGHS = {
    "broad, eyes squeezed": dict(au4=0.5, au6=3, au7=3, au9=3, au10=4, au12=4, au20=1.5,
                                 au25=3, au26=2, closure=0.8),
    "broad, brows read as lowered": dict(au4=2, au6=3, au7=3, au9=3, au10=4, au12=4, au20=1.5,
                                         au25=3, au26=2, closure=0.8),
    "closed mouth": dict(au6=3, au7=2, au10=2, au12=4, closure=0.6),
}


GATE = AlertPolicy().evidence_threshold


@pytest.mark.parametrize("face", list(PAIN_FACES))
def test_the_shipped_evidence_reads_pain_faces_as_pain(face):
    assert _held(PAIN_FACES[face]) >= GATE


@pytest.mark.parametrize("face", list(LAUGHS))
def test_the_shipped_evidence_does_not_read_laughter_as_pain(face):
    # a real laugh's PSPI can be as high as a grimace's: this is what keeps the alarm off
    assert _held(LAUGHS[face]) < GATE
    assert _held(LAUGHS[face], pulse={"au25": 1.5, "au26": 1.5}) < GATE


def test_pain_behind_glasses_reads_more_like_pain_than_any_laugh():
    # Without a brow reading the evidence is weaker (a known limit: it sits near the
    # gate, see the README), but it must still rank above every laugh. (v1 had a margin
    # of 0.27 here; v2, which no longer reads shut eyes as a laugh, 0.05 over a laugh with
    # the mouth closed and the eyes squeezed: see the model card.)
    glasses = _held(BEHIND_GLASSES)
    assert glasses > max(_held(v) for v in LAUGHS.values()) + 0.03


def test_an_average_of_networks_gives_the_mean_of_their_logits():
    rng = np.random.default_rng(0)
    f, h = N_EVIDENCE_FEATURES, 5

    def net(seed: int) -> PainEvidence:
        r = np.random.default_rng(seed)
        return PainEvidence(r.normal(0, 1, f), r.uniform(0.5, 2.0, f), r.normal(0, 1, (f, h)),
                            r.normal(0, 1, h), r.normal(0, 1, h), float(r.normal()), {})

    def logit(e: PainEvidence, x: np.ndarray) -> np.ndarray:  # before the sigmoid, float64
        return np.tanh(((x - e.mean) / e.std) @ e.w1 + e.b1) @ e.w2 + e.b2

    members = [net(s) for s in range(3)]
    merged = PainEvidence.average(members, {"name": "avg"})
    x = rng.normal(0, 3, (50, f))
    want = np.mean([logit(m, x) for m in members], axis=0)
    np.testing.assert_allclose(logit(merged, x), want, rtol=1e-10, atol=1e-10)
    assert np.abs(want).max() > 1.0  # not a trivial case near zero
    assert merged.w1.shape == (f, 3 * h) and merged.info == {"name": "avg"}


def test_eyes_shut_on_a_resting_face_read_as_rest():
    # a dozing patient, what a bedside camera sees most: eyes shut, jaw slack
    assert _held(dict(closure=1.0, au26=1.0)) < 0.3


def test_training_copies_close_the_eyes_with_the_orbits_and_doze_outside_pain():
    from painvision.classifier.evidence_train import ClipChannels, _eyes_closing

    t = np.arange(250) / 25.0
    x = np.zeros((t.size, len(CHANNELS)))
    x[:, CHANNELS.index("au7")] = np.linspace(0.0, 4.0, t.size)
    x[5] = np.nan  # a frame without a face stays without one
    pain = (t >= 8.0).astype(float)
    clip = ClipChannels("s", t, x, pain, 3 * pain, np.zeros(t.size), weight=2.0)
    plain, closing = _eyes_closing([clip], 0.5, np.random.default_rng(0))
    assert (plain.weight, closing.weight) == (1.0, 1.0)
    np.testing.assert_array_equal(plain.channels, x)
    shut = closing.channels[:, CHANNELS.index("closure")]
    assert np.isnan(shut[5]) and np.isnan(closing.channels[5]).all()
    # in pain, the eyes close with the orbits (AU7 2 or more: 0.6-1 shut), nothing else
    assert (shut[(pain > 0) & (x[:, CHANNELS.index("au7")] >= 2.0)] >= 0.6).all()
    assert ((shut[pain > 0][1:] - shut[pain > 0][:-1]) >= -1e-9).all()
    # one stretch of dozing shuts them fully, at least 3 s before the pain starts, so the
    # eyes opening never marks where a label changes
    dozing = np.isfinite(shut) & (shut > 0.99) & (x[:, CHANNELS.index("au7")] < 2.0)
    assert dozing.any() and t[dozing].max() <= 5.0 + 1e-9
    others = [c for c in CHANNELS if c != "closure"]
    idx = [CHANNELS.index(c) for c in others]
    np.testing.assert_array_equal(np.nan_to_num(closing.channels[:, idx]), np.nan_to_num(x[:, idx]))


@pytest.mark.parametrize("face", [dict(au4=2, au6=2, au7=2),
                                  dict(au4=2, au6=2, au7=3, au9=2, au10=1.5)],
                         ids=["brows and orbits", "brows, orbits, nose"])
def test_shutting_the_eyes_does_not_turn_a_grimace_into_a_look_alike(face):
    """Eye closure is among the commonest signs of severe pain (AU43 is in PSPI), but the
    generated look-alikes (laughs, yawns) shut the eyes most: pain-evidence-v1 read the
    first face 0.89 with the eyes open and 0.28 shut, the second 0.96 and 0.56."""
    open_, shut = _held(dict(face, closure=0.0)), _held(dict(face, closure=1.0))
    assert shut >= 0.5 and shut >= 0.6 * open_, (open_, shut)
