from __future__ import annotations

import numpy as np
import pytest

from painvision.bench.episodes import alarm_metrics, runs


def test_runs():
    assert runs(np.array([0, 1, 1, 0, 1, 0, 0, 1], bool)) == [(1, 3), (4, 5), (7, 8)]
    assert runs(np.zeros(4, bool)) == []


def test_alarms_are_matched_by_when_they_are_raised():
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
    assert m["calm_hours"] == pytest.approx(12.0 / 3600.0)
