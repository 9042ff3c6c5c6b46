"""The one scoring interface: names, weights, and what each scorer gives."""

from __future__ import annotations

import numpy as np
import pytest

from painvision.errors import InputError, WeightsError
from painvision.features.inputs import prepare_inputs
from painvision.scoring import DEFAULT_SCORER, EXPRESSION_OUTPUTS, SCORERS, create_scorer
from painvision.synth.identity import sample_identities
from painvision.synth.meshgen import MeshGenerator
from painvision.synth.sequence import Episode, Script
from painvision.types import LandmarkTrack


@pytest.fixture(scope="module")
def inputs():
    gen = MeshGenerator(sample_identities(1, "train", 3)[0])
    tl = Script(6.0, 25.0, episodes=(Episode(2.0, 2.5, 4.0, 4.5,
                                             {"au4": 3.0, "au7": 3.0}),)).timeline()
    lm, det = gen.sequence(tl, np.random.default_rng(0))
    track = LandmarkTrack(t=tl.t, frame_index=np.arange(len(tl)), landmarks=lm, detected=det,
                          confidence=np.ones(len(tl), np.float32),
                          n_faces=det.astype(np.int16), width=640, height=480)
    return prepare_inputs(track)


def test_combined_is_the_default_and_needs_no_torch():
    assert DEFAULT_SCORER == "combined" and SCORERS[0] == "combined"
    sc = create_scorer()
    assert sc.device == "cpu" and not sc.needs_points


def test_combined_keeps_the_analytic_pspi_and_adds_pain_prob(inputs):
    combined = create_scorer("combined").score(inputs)
    analytic = create_scorer("analytic").score(inputs)
    np.testing.assert_array_equal(combined.aus.pspi, analytic.aus.pspi)
    assert analytic.pain_prob is None
    p = combined.pain_prob
    assert p.shape == combined.aus.pspi.shape
    ok = np.isfinite(combined.aus.pspi)
    assert np.isfinite(p[ok]).all() and ((p[ok] >= 0) & (p[ok] <= 1)).all()
    assert set(combined.expressions) == set(EXPRESSION_OUTPUTS)


def test_the_stream_follows_the_same_pspi_and_pain_prob(inputs):
    sc = create_scorer("combined")
    offline = sc.score(inputs)
    stream = sc.stream()
    probs = []
    for k in range(len(inputs.t)):
        aus, prob = stream.update(float(inputs.t[k]), inputs.pose.aligned[k],
                                  inputs.signals[k], inputs.pose.yaw_pitch_roll[k],
                                  bool(inputs.valid[k]), inputs.neutral)
        probs.append(np.nan if prob is None else prob)
        if aus is not None:
            assert set(stream.expressions) == set(EXPRESSION_OUTPUTS)
    np.testing.assert_allclose(np.array(probs), offline.pain_prob, atol=1e-6, equal_nan=True)


def test_bad_names_and_weights_fail_clearly(tmp_path):
    with pytest.raises(InputError, match="unknown scorer"):
        create_scorer("magic")
    with pytest.raises(InputError):
        create_scorer("analytic", weights=tmp_path / "x.json")
    with pytest.raises(WeightsError):
        create_scorer("combined", weights=tmp_path / "missing.json")
