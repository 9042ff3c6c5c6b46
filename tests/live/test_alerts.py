from __future__ import annotations

import numpy as np
import pytest

from painvision.errors import InputError
from painvision.live import AlertPolicy, AlertState

FPS = 10.0


def feed(state: AlertState, scores, start: float = 0.0):
    """Feed a score per frame at FPS; returns [(type, t, reason)]."""
    events = []
    for k, s in enumerate(scores):
        e = state.update(start + k / FPS, None if s is None else float(s))
        if e is not None:
            events.append((e.type, round(e.t, 2), e.reason))
    return events


POLICY = AlertPolicy(smooth_s=0.0, onset_threshold=3.0, onset_min_s=0.5, offset_threshold=1.5,
                     offset_min_s=1.0, refractory_s=5.0, face_lost_s=2.0)


def test_onset_needs_the_minimum_duration_and_offset_uses_hysteresis():
    # 0.3 s above: a twitch, no onset. Then 3 s above, 2.0 (between the thresholds) for 2 s,
    # then 0 for 2 s.
    scores = [0] * 10 + [8] * 3 + [0] * 10 + [8] * 30 + [2.0] * 20 + [0] * 20
    events = feed(AlertState(POLICY), scores)
    assert events == [("onset", 2.8, ""), ("offset", 8.3, "score_low")]


def test_smoothing_averages_over_the_window():
    state = AlertState(AlertPolicy(smooth_s=1.0))
    for k in range(11):
        state.update(k / FPS, 10.0 if k % 2 else 0.0)
    assert state.smoothed == pytest.approx(np.mean([10.0 if k % 2 else 0.0 for k in range(11)]))


def test_pain_returning_within_the_refractory_period_resumes_the_episode_at_once():
    state = AlertState(POLICY)
    scores = [0] * 5 + [8] * 10 + [0] * 15 + [8] * 10 + [0] * 60 + [8] * 10
    events = []
    for k, sc in enumerate(scores):
        e = state.update(k / FPS, float(sc))
        if e is not None:
            events.append((e.type, round(e.t, 2), e.episode, e.resumed, round(e.started_s, 2)))
    # episode 1: onset 1.0, offset 2.5; the score rises again at 3.0 s, inside the 5-s
    # refractory period: announced at once (3.5 s) as episode 1 resuming; then, more than
    # 5 s after its offset (5.0 s), a new episode 2 (onset 10.5 s).
    assert events == [("onset", 1.0, 1, False, 0.5), ("offset", 2.5, 1, False, 0.5),
                      ("onset", 3.5, 1, True, 0.5), ("offset", 5.0, 1, False, 0.5),
                      ("onset", 10.5, 2, False, 10.0)]


def test_a_long_missing_face_ends_an_episode():
    scores = [8] * 10 + [None] * 25 + [0] * 5
    events = feed(AlertState(POLICY), scores)
    assert events == [("onset", 0.5, ""), ("offset", 2.9, "face_lost")]


def test_a_short_face_gap_does_not_end_an_episode():
    scores = [8] * 10 + [None] * 10 + [8] * 10
    assert feed(AlertState(POLICY), scores) == [("onset", 0.5, "")]


def test_stop_closes_an_open_episode():
    state = AlertState(POLICY)
    feed(state, [8] * 10)
    e = state.stop(5.0)
    assert e is not None and e.type == "offset" and e.reason == "stopped"
    assert state.stop(6.0) is None


def test_event_carries_the_aus_that_explain_it():
    state = AlertState(AlertPolicy(smooth_s=0.0, onset_min_s=0.0))
    e = state.update(0.0, 7.0, {"au4": 3.0, "au7": 2.0, "au9": 2.0})
    assert e is not None and e.aus == {"au4": 3.0, "au7": 2.0, "au9": 2.0}
    assert e.to_dict()["aus"]["au4"] == 3.0


@pytest.mark.parametrize("kwargs", [{"onset_threshold": 0}, {"onset_threshold": 20},
                                    {"offset_threshold": 4.0}, {"smooth_s": -1},
                                    {"refractory_s": float("nan")}])
def test_bad_policies_are_refused(kwargs):
    with pytest.raises(InputError):
        AlertPolicy(**kwargs)


def feed_both(state: AlertState, pairs, start: float = 0.0):
    """Feed (pspi, pain_prob) per frame at FPS; returns [(type, t, reason)]."""
    events = []
    for k, (s, p) in enumerate(pairs):
        e = state.update(start + k / FPS, s, None, p)
        if e is not None:
            events.append((e.type, round(e.t, 2), e.reason))
    return events


def test_an_alarm_needs_pain_evidence_beside_the_pspi():
    # A laugh: PSPI 8 for 4 s, pain_prob low: no alarm. Then pain: PSPI 8, pain_prob high.
    laugh = [(8.0, 0.1)] * 40
    calm = [(0.0, 0.05)] * 20
    pain = [(8.0, 0.9)] * 30
    events = feed_both(AlertState(POLICY), calm + laugh + calm + pain + calm)
    assert [e[0] for e in events] == ["onset", "offset"]
    assert events[0][1] == pytest.approx(8.0 + 0.5, abs=0.11)  # 0.5 s into the pain


def test_evidence_falling_ends_an_episode():
    # Pain turning into a laugh: PSPI stays up, pain_prob falls; the episode ends.
    pairs = [(8.0, 0.9)] * 20 + [(8.0, 0.1)] * 20
    events = feed_both(AlertState(POLICY), pairs)
    assert events[0][0] == "onset" and events[-1] == ("offset", pytest.approx(3.0, abs=0.11),
                                                      "evidence_low")


def test_without_pain_prob_pspi_alone_decides():
    pairs = [(8.0, None)] * 20
    events = feed_both(AlertState(POLICY), pairs)
    assert [e[0] for e in events] == ["onset"]


def test_evidence_thresholds_are_checked():
    with pytest.raises(InputError):
        AlertPolicy(evidence_threshold=0.3, evidence_offset=0.5)
    with pytest.raises(InputError):
        AlertPolicy(evidence_threshold=1.5)


def test_alarm_series_matches_the_state_machine():
    from painvision.live.alerts import alarm_series

    t = np.arange(100) / FPS
    pspi = np.r_[np.zeros(20), np.full(40, 8.0), np.zeros(40)]
    prob = np.r_[np.zeros(20), np.full(20, 0.1), np.full(20, 0.9), np.zeros(40)]
    on = alarm_series(t, pspi, prob, POLICY)
    assert not on[:45].any() and on[45:60].all()
    assert alarm_series(t, pspi, None, POLICY)[25:60].all()


def test_watch_default_gate_is_the_policy_default():
    """``watch`` without --evidence uses the policy's gate, and its help says which."""
    from typer.testing import CliRunner

    from painvision.cli.app import app

    res = CliRunner().invoke(app, ["watch", "--help"], env={"COLUMNS": "200"})
    help_text = " ".join(res.output.split())
    assert f"default {AlertPolicy().evidence_threshold:g})" in help_text, help_text
