"""Episodes as the monitor announces them, offline and from watch logs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from painvision.errors import InputError
from painvision.live.alerts import AlertPolicy, alarm_series
from painvision.report.timeline import Span, Timeline, spans_of
from painvision.types import AU_NAMES


def _series(fps: float = 10.0):
    """40 s: pain 5-12 s, a dip, pain again 16-20 s (resumes), no face 25-27 s, pain with
    a low pain_prob 30-34 s (no alarm with the combined gate)."""
    t = np.arange(0, 40, 1 / fps)
    pspi = np.zeros_like(t, dtype=np.float32)
    pspi[(t >= 5) & (t < 12)] = 7.0
    pspi[(t >= 16) & (t < 20)] = 9.0
    pspi[(t >= 30) & (t < 34)] = 8.0
    prob = np.where(pspi > 0, 0.9, 0.1).astype(np.float32)
    prob[(t >= 30) & (t < 34)] = 0.2
    face = ~((t >= 25) & (t < 27))
    pspi[~face] = np.nan
    aus = {n: np.zeros_like(pspi) for n in AU_NAMES}
    aus["au4"][:] = np.minimum(pspi, 5)
    aus["au7"][:] = np.clip(pspi - 5, 0, 5)
    aus["au6"][:] = aus["au7"] / 2
    return t, pspi, prob, face, aus


def test_offline_episodes_are_exactly_alarm_series():
    t, pspi, prob, face, aus = _series()
    policy = AlertPolicy()
    tl = Timeline._scored(t, pspi, aus, prob, face, np.ones_like(face), policy, "x", {})
    np.testing.assert_array_equal(tl.alarm > 0, alarm_series(t, pspi, prob, policy))
    assert len(tl.episodes) == 1  # the second stretch resumes the first within 30 s
    ep = tl.episodes[0]
    assert len(ep.alarms) == 2 and ep.number == 1
    assert 5.0 <= ep.start < 5.5 and ep.start + 0.5 <= ep.announced < 6.2
    assert 12 < ep.alarms[0].end < 16 < ep.alarms[1].start < ep.end < 23
    assert ep.reason in ("score_low", "evidence_low")
    assert ep.peak_pspi == pytest.approx(9.0)
    assert [name for name, _ in ep.dominant] == ["AU4 brow lowerer", "AU7 lid tightener"]
    # the low-pain_prob grimace at 30 s raises no alarm; PSPI alone would
    assert not tl.alarm[(t >= 30) & (t < 36)].any()
    alone = Timeline._scored(t, pspi, aus, None, face, np.ones_like(face), policy, "x", {})
    assert alone.alarm[(t >= 30) & (t < 36)].any()
    h = tl.headline()
    assert h["episodes"] == 1 and h["face_share"] == pytest.approx(0.95)


def test_an_episode_open_at_the_end_ends_with_the_video():
    t = np.arange(0, 10, 0.1)
    pspi = np.where(t > 5, 8.0, 0.0).astype(np.float32)
    aus = {n: np.zeros_like(pspi) for n in AU_NAMES}
    tl = Timeline._scored(t, pspi, aus, None, np.ones(t.size, bool), np.ones(t.size, bool),
                          AlertPolicy(), "x", {})
    assert [e.reason for e in tl.episodes] == ["video_ends"]
    assert tl.episodes[0].end == pytest.approx(t[-1]) and tl.alarm[-1] == 1


@pytest.mark.parametrize(("mask", "expected"), [
    ([0, 0, 0], []),
    ([1, 1, 0, 0, 1], [(0.0, 0.2), (0.4, 0.5)]),
    ([0, 1, 0], [(0.1, 0.2)]),
])
def test_spans_of(mask, expected):
    t = np.arange(len(mask)) * 0.1
    got = [(round(s.start, 6), round(s.end, 6)) for s in spans_of(t, np.array(mask, bool))]
    assert got == expected


def _line(**kw) -> str:
    return json.dumps(kw)


def _reading(t, pspi, wall, **kw):
    base = {"kind": "reading", "t": t, "face_detected": pspi is not None or kw.pop("face", False),
            "pspi": pspi, "aus": None if pspi is None else {"au4": pspi / 2, "au6": 0,
                                                             "au7": pspi / 2, "au9": 0,
                                                             "au10": 0, "au43": 0},
            "pain_prob": None if pspi is None else 0.8, "quality": [], "in_episode": False,
            "wall": wall}
    base.update(kw)
    return json.dumps(base)


def test_watch_log_with_camera_loss_and_an_appended_run(tmp_path):
    start = 1_800_000_000.0
    lines = [_line(kind="event", type="started", source="camera 0", scorer="s",
                   neutral="auto", alert_policy=AlertPolicy().to_dict(), wall=start)]
    lines += [_reading(k * 0.5, None, start + k * 0.5, quality=["calibrating"], face=True)
              for k in range(4)]
    lines += [_reading(2 + k * 0.5, 6.0 if 4 <= k < 10 else 0.0, start + 2 + k * 0.5,
                       in_episode=5 <= k < 12) for k in range(16)]
    lines.insert(12, _line(kind="event", type="onset", t=4.5, episode=1, started_s=4.0,
                           resumed=False, wall=start + 4.5))
    lines.append(_line(kind="event", type="offset", t=8.0, episode=1, started_s=4.0,
                       reason="score_low", wall=start + 8.0))
    lines.append(_line(kind="event", type="camera_lost", t=10.0, reason="read failed",
                       retry_in_s=0.5, wall=start + 10.0))
    lines.append(_line(kind="event", type="camera_restored", t=70.0, attempts=7,
                       wall=start + 70.0))
    lines.append(_reading(70.0, 0.0, start + 70.0))
    lines.append(_line(kind="event", type="stopped", reason="signal", wall=start + 71))
    # a second run appended an hour later: its t and episode numbers restart
    later = start + 3600
    lines.append(_line(kind="event", type="started", source="camera 0", scorer="s",
                       neutral="auto", alert_policy=AlertPolicy().to_dict(), wall=later))
    lines += [_reading(k * 0.5, 8.0, later + k * 0.5, in_episode=k >= 2) for k in range(6)]
    lines.insert(len(lines) - 4, _line(kind="event", type="onset", t=1.0, episode=1,
                                       started_s=0.5, resumed=False, wall=later + 1))
    lines.append('{"kind": "reading", "t": 3.')  # cut short by a crash
    log = tmp_path / "bed.jsonl"
    log.write_text("\n".join(lines) + "\n")
    tl = Timeline.from_watch_log(log)
    assert tl.clock_start == pytest.approx(start)
    assert [e.number for e in tl.episodes] == [1, 2]
    first, second = tl.episodes
    assert (first.start, first.announced, first.end, first.reason) == (4.0, 4.5, 8.0,
                                                                       "score_low")
    assert second.start == pytest.approx(3600.5) and second.reason == "log_ends"
    assert tl.camera_lost == [Span(10.0, 70.0)]
    assert tl.calibrating[:4].all() and not tl.calibrating[4:].any()
    assert tl.headline()["camera_losses"] == 1
    assert set(np.unique(tl.alarm)) == {0, 1, 2}


def test_watch_log_frames_settling_or_unreadable_are_accounted_for(tmp_path):
    """A watch log's unscored frames with a face say why: ``acquiring`` (a face just
    found), ``low_light``/``blurred``/``occluded``; the report's coverage shows each."""
    from painvision.report.html import _coverage

    start = 1_800_000_000.0
    flags = [["acquiring"]] * 3 + [[]] * 10 + [["low_light"]] * 4 + [["acquiring"]] * 3 + [[]] * 4
    lines = [_line(kind="event", type="started", source="camera 0", scorer="s",
                   neutral="auto", alert_policy=AlertPolicy().to_dict(), wall=start)]
    lines += [_reading(k * 0.5, None if q else 0.5, start + k * 0.5, quality=q, face=True)
              for k, q in enumerate(flags)]
    log = tmp_path / "bed.jsonl"
    log.write_text("\n".join(lines) + "\n")
    tl = Timeline.from_watch_log(log)
    assert tl.acquiring.tolist() == [q == ["acquiring"] for q in flags]
    assert tl.unreadable.tolist() == [q == ["low_light"] for q in flags]
    h = tl.headline()
    assert h["scored_share"] == pytest.approx(14 / 24)
    assert h["unreadable_share"] == pytest.approx(4 / 24)
    page = _coverage(tl)
    assert "its mesh still settling (unscored)</th><td class=\"l\">25 %" in page
    assert "too dark, blurred or covered to read (unscored)</th><td class=\"l\">17 %" in page


@pytest.mark.parametrize("text", ["", "not json\n{}\n", '{"a": 1}\n',
                                  _line(kind="event", type="started", wall=1.0) + "\n"])
def test_what_is_not_a_watch_log_is_refused(tmp_path, text):
    log = tmp_path / "x.jsonl"
    log.write_text(text)
    with pytest.raises(InputError, match="watch"):
        Timeline.from_watch_log(log)
