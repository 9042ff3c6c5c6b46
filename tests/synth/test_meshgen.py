from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from painvision.features.geometry import SIGNAL_NAMES, au_signals
from painvision.landmarks.pose import align_to_template
from painvision.synth.identity import sample_identities
from painvision.synth.meshgen import MeshGenerator, MeshNoise
from painvision.synth.sequence import Episode, Script

pytestmark = pytest.mark.mediapipe  # the identity's neutral mesh comes from MediaPipe
CLEAN = MeshNoise(jitter=0.0, bias=0.0, dropout_per_min=0.0, expression_gain=1.0,
                  region_spread=0.0, brow_occlusion_share=0.0)


@pytest.fixture(scope="module")
def gen():
    return MeshGenerator(sample_identities(2, "train", 0)[1])


def _with_head(tl, head):
    return replace(tl, head=head.astype(np.float32))


def test_head_pose_is_recovered_by_the_pose_normalisation(gen):
    tl = Script(2.0, 10.0).timeline()
    head = np.zeros((20, 6))
    head[:, 5] = 1.0
    head[:, 0] = np.linspace(-30, 30, 20)
    head[:, 1] = np.linspace(10, -10, 20)
    head[:, 2] = np.linspace(-5, 5, 20)
    lm, detected = gen.sequence(_with_head(tl, head), np.random.default_rng(0), CLEAN)
    assert detected.all()
    res = align_to_template(lm * np.array([640, 480, 640], np.float32))
    np.testing.assert_allclose(res.yaw_pitch_roll[:, 0], head[:, 0], atol=1.5)
    np.testing.assert_allclose(res.yaw_pitch_roll[:, 2], head[:, 2], atol=1.0)
    assert np.abs(res.yaw_pitch_roll[:, 1] - head[:, 1]).max() < 3.0


def test_expression_reaches_the_landmarks_scaled_by_the_gain(gen):
    tl = Script(2.0, 25.0, episodes=(Episode(0.5, 0.8, 1.8, 2.0, {"au4": 5.0}),)).timeline()
    drops = []
    for gain in (1.0, 0.5):
        noise = replace(CLEAN, expression_gain=gain)
        lm, _ = gen.sequence(tl, np.random.default_rng(0), noise)
        sig = au_signals(align_to_template(lm * np.array([640, 480, 640], np.float32)).aligned)
        k = SIGNAL_NAMES.index("brow_height")
        drops.append(sig[0, k] - sig[30, k])
    assert drops[0] > 0.05
    assert drops[1] == pytest.approx(drops[0] / 2, rel=0.1)


def test_noise_dropouts_and_turned_away_heads(gen):
    tl = Script(60.0, 25.0).timeline()
    head = tl.head.copy()
    head[100:150, 0] = 45.0  # beyond the front end's reach
    noise = MeshNoise(dropout_per_min=6.0)
    lm, detected = gen.sequence(_with_head(tl, head), np.random.default_rng(1), noise)
    assert not detected[100:150].any()
    assert 0.7 < detected.mean() < 0.99
    assert np.isnan(lm[~detected]).all() and np.isfinite(lm[detected]).all()
    clean, _ = gen.sequence(tl, np.random.default_rng(1), CLEAN)
    diff = (lm - clean)[detected][:, :, :2] * 640 / (gen.face_width / 1.0)
    assert np.nanstd(diff) > 0  # the spoiling is there


def _signal_drop(gen, tl, noise, name, rng_seed=0):
    lm, _ = gen.sequence(tl, np.random.default_rng(rng_seed), noise)
    sig = au_signals(align_to_template(lm * np.array([640, 480, 640], np.float32)).aligned)
    k = SIGNAL_NAMES.index(name)
    return sig[0, k] - sig[30, k]


def test_an_occluded_brow_band_hides_the_brows_but_not_the_lower_lids(gen):
    tl = Script(2.0, 25.0, episodes=(
        Episode(0.5, 0.8, 1.8, 2.0, {"au4": 5.0, "au7": 5.0}),)).timeline()
    occluded = replace(CLEAN, brow_occlusion_share=1.0)
    brow = [_signal_drop(gen, tl, n, "brow_height") for n in (CLEAN, occluded)]
    lid = [_signal_drop(gen, tl, n, "lower_lid_drop") for n in (CLEAN, occluded)]
    assert brow[0] > 0.05
    assert brow[1] < 0.35 * brow[0]
    assert lid[1] > 0.8 * lid[0]


def test_the_uneven_response_differs_between_clips_and_is_smooth(gen):
    from painvision.features.response import region_gain

    maps = [region_gain(gen.neutral, np.random.default_rng(s), 0.5, 0.0) for s in range(20)]
    assert all(m.shape == (478,) and (m > 0).all() for m in maps)
    spread = np.std(np.log(np.stack(maps)), axis=0)
    assert 0.1 < np.median(spread) < 1.0  # clips differ
    # Points 0.16 IOD apart (the middles of one eye's upper and lower lid) keep similar
    # gains: the map is smooth on the scale of the features.
    assert all(abs(np.log(m[159] / m[145])) < 0.5 for m in maps)
    assert (region_gain(gen.neutral, np.random.default_rng(0), 0.0, 0.0) == 1.0).all()
