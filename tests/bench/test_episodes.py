from __future__ import annotations

import numpy as np
import pytest

from painvision.bench.episodes import detect_episodes, episode_metrics, runs


def test_runs():
    assert runs(np.array([0, 1, 1, 0, 1, 0, 0, 1], bool)) == [(1, 3), (4, 5), (7, 8)]
    assert runs(np.zeros(4, bool)) == []


def test_detection_merges_gaps_and_drops_short_blips():
    t = np.arange(100) / 10.0  # 10 Hz
    s = np.zeros(100)
    s[10:12] = 0.9   # 0.2 s blip: dropped
    s[30:40] = 0.9   # 1 s
    s[45:50] = 0.9   # 0.6 s gap from the previous one: merged
    s[70:80] = np.nan
    assert detect_episodes(s, t, 0.5, min_s=0.5, merge_s=1.0) == [(30, 50)]


def test_episode_matching_on_a_constructed_timeline():
    t = np.arange(600) / 10.0  # 60 s at 10 Hz
    pain = np.zeros(600)
    pain[100:200] = 1  # true episode 1: 10-20 s
    pain[300:350] = 1  # true episode 2: 30-35 s (missed)
    score = np.zeros(600)
    score[112:210] = 0.8  # found, 1.2 s late
    score[450:470] = 0.8  # a false alarm at 45 s
    m = episode_metrics(score, pain, t)
    assert m["true_episodes"] == 2 and m["found"] == 1 and m["detected_episodes"] == 2
    assert m["false_alarms"] == 1
    assert m["delays_s"] == [pytest.approx(1.2)]
    assert m["calm_hours"] == pytest.approx(45.0 / 3600.0)


def test_alarms_are_matched_by_when_they_are_raised():
    from painvision.bench.episodes import alarm_metrics

    t = np.arange(200) / 10.0
    pain = np.zeros(200)
    pain[50:80] = 1   # episode 1: 5.0-8.0 s
    pain[100:130] = 1  # episode 2: 10.0-13.0 s
    pain[170:190] = 1  # episode 3: 17.0-19.0 s
    alarm = np.zeros(200, bool)
    alarm[60:105] = True  # raised in episode 1 at 6.0 s, still on when episode 2 starts
    alarm[150:175] = True  # a false alarm at 15.0 s that lasts into episode 3
    m = alarm_metrics(alarm, pain, t, pspi=pain * 4.0)
    assert m["found"] == 2 and m["delays_s"] == [1.0, 0.0]
    assert m["false_alarms"] == 1 and m["detected_episodes"] == 2
    assert m["shown_episodes"] == 3 and m["shown_found"] == 2
