"""Ground truth of scripted and random timelines."""

from __future__ import annotations

import numpy as np
import pytest

from painvision.errors import InputError
from painvision.synth.scenario import random_timeline
from painvision.synth.sequence import ACTIVITIES, Blink, Episode, HeadMotion, Script, sample_script


def test_blinks_are_au45_not_au43_and_leave_pspi_at_zero():
    tl = Script(3.0, 25.0, blinks=(Blink(1.0, 0.3), Blink(2.0, 0.15))).timeline()
    labels = tl.labels()
    assert tl.closure.max() > 0.99 and tl.au45.sum() > 0
    assert (labels.pspi == 0).all() and (labels.au43 == 0).all() and (tl.pain == 0).all()


def test_held_closure_inside_an_episode_is_au43_and_pain():
    ep = Episode(1.0, 1.5, 3.0, 3.5, {"au4": 3.0, "au7": 2.0}, eyes_closed=(1.6, 2.8))
    tl = Script(4.0, 25.0, episodes=(ep,)).timeline()
    t, labels = tl.t, tl.labels()
    assert labels.au43[(t > 1.8) & (t < 2.6)].min() == 1
    assert labels.pspi.max() == pytest.approx(3 + 2 + 0 + 1)
    assert (tl.pain[(t >= 1.0) & (t <= 3.5)] == 1).all() and tl.pain[t > 3.6].sum() == 0


def test_sample_script_ground_truth():
    tl = sample_script().timeline()
    labels = tl.labels()
    assert len(tl) == 400
    assert labels.pspi.max() == pytest.approx(4 + 3.5 + 3 + 1)
    assert labels.pspi[tl.t < 3.0].max() == 0
    np.testing.assert_allclose(tl.head[:, :2], 0.0)  # no yaw or pitch in the sample


def test_head_motion_columns():
    head = HeadMotion().at(np.linspace(0, 10, 50))
    assert head.shape == (50, 6) and np.all(np.abs(head[:, 2]) <= 2.5)


@pytest.mark.parametrize("seed", range(8))
def test_random_timelines_label_pain_only_in_episodes(seed):
    tl = random_timeline(np.random.default_rng(seed), 120.0, 25.0)
    labels = tl.labels()
    activity = tl.extra_labels()["activity"]
    # pain is labelled exactly where the activity is a pain episode
    np.testing.assert_array_equal(tl.pain == 1, activity == ACTIVITIES.index("pain"))
    # brow raises and blinks alone never put a PSPI AU on the face
    quiet = np.isin(activity, [ACTIVITIES.index("none"), ACTIVITIES.index("brow_raise")])
    # (events fade in and out: below a tenth of their peak a frame counts as "none")
    assert (labels.au4[quiet] <= 0.5).all() and (labels.au9[quiet] <= 0.5).all()
    assert np.abs(tl.head[:, 0]).max() <= 30.0
    assert 0 <= labels.pspi.min() and labels.pspi.max() <= 16


def test_look_alikes_are_as_strong_as_real_ones():
    """A big laugh squeezes the eyes and raises the cheeks and upper lip: a FACS-faithful
    PSPI is high there, with no pain; a yawn shuts the eyes (AU43)."""
    tl = random_timeline(np.random.default_rng(5), 600.0, 25.0,
                         rates={"pain": 0.0, "laugh": 3.0, "yawn": 2.0})
    labels = tl.labels()
    extra = tl.extra_labels()
    laugh = extra["activity"] == ACTIVITIES.index("laugh")
    yawn = extra["activity"] == ACTIVITIES.index("yawn")
    assert tl.pain.sum() == 0 and laugh.any() and yawn.any()
    assert labels.pspi[laugh].max() >= 6.0
    assert (extra["au12"][laugh] >= labels.au4[laugh]).all()  # AU12 strong, AU4 not
    assert labels.au43[laugh].max() == 1.0 and labels.au43[yawn].max() == 1.0
    assert tl.head[laugh, 1].min() < -5.0  # the head goes back


def test_rates_must_name_known_events():
    with pytest.raises(InputError):
        random_timeline(np.random.default_rng(0), 10.0, 25.0, rates={"hiccup": 1.0})


def test_random_timeline_is_a_function_of_the_seed():
    a = random_timeline(np.random.default_rng(3), 30.0, 25.0)
    b = random_timeline(np.random.default_rng(3), 30.0, 25.0)
    c = random_timeline(np.random.default_rng(4), 30.0, 25.0)
    for k in a.drive:
        np.testing.assert_array_equal(a.drive[k], b.drive[k])
    np.testing.assert_array_equal(a.head, b.head)
    assert any(not np.array_equal(a.drive[k], c.drive[k]) for k in a.drive)


def test_event_rates_over_ten_minutes():
    tl = random_timeline(np.random.default_rng(0), 600.0, 25.0)
    onsets = np.flatnonzero(np.diff(tl.au45.astype(int)) == 1)
    assert 100 <= onsets.size <= 200  # ~15 blinks a minute
    assert 0.02 < tl.pain.mean() < 0.6
    assert (tl.extra_labels()["au26"] > 0.5).mean() > 0.03  # talking, chewing, yawns
