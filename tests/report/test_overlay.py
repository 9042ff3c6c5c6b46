"""The overlay video: the source's frames, times and size; the face hidden by default."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from painvision.errors import InputError
from painvision.report.overlay import write_overlay
from painvision.report.timeline import Timeline

pytestmark = pytest.mark.mediapipe


def _frames(path):
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        out.append((cap.get(cv2.CAP_PROP_POS_MSEC), img))
    cap.release()
    return out


def _write(analysis, video, path, every: int = 1, show_face: bool = False):
    tl = Timeline.from_analysis(analysis)
    k = slice(None, None, every)
    return write_overlay(video, path, frame_index=analysis.track.frame_index[k],
                         landmarks=analysis.track.landmarks[k], pspi=tl.pspi[k],
                         aus={n: v[k] for n, v in tl.aus.items()},
                         pain_prob=tl.pain_prob[k], episode=tl.alarm[k], show_face=show_face)


@pytest.fixture(scope="module")
def overlay(short_analysis, short_clip, tmp_path_factory):
    return _write(short_analysis, short_clip, tmp_path_factory.mktemp("ov") / "o.overlay.mp4")


def _face_box(landmarks, w, h):
    """The inner part of the face: the landmarks' box shrunk to its middle 60 %."""
    x0, y0 = np.nanmin(landmarks[:, :2], axis=0) * (w, h)
    x1, y1 = np.nanmax(landmarks[:, :2], axis=0) * (w, h)
    dx, dy = 0.2 * (x1 - x0), 0.2 * (y1 - y0)
    return int(x0 + dx), int(y0 + dy), int(x1 - dx), int(y1 - dy)


def test_overlay_has_the_source_frames_times_and_size(overlay, short_clip):
    src, out = _frames(short_clip), _frames(overlay)
    assert len(out) == len(src) == 45
    assert out[0][1].shape == src[0][1].shape == (240, 320, 3)
    np.testing.assert_allclose([t for t, _ in out], [t for t, _ in src], atol=1.0)
    assert not list(overlay.parent.glob(".*.tmp*"))  # no temporary file left


def test_face_is_hidden_by_default_and_the_mesh_is_drawn(overlay, short_clip, short_analysis):
    src, out = _frames(short_clip), _frames(overlay)
    lm = short_analysis.track.landmarks
    checked = 0
    for i in range(0, 45, 7):
        if not short_analysis.track.detected[i]:
            continue
        x0, y0, x1, y1 = _face_box(lm[i], 320, 240)
        a = src[i][1][y0:y1, x0:x1].astype(np.int16)
        b = out[i][1][y0:y1, x0:x1].astype(np.int16)
        assert np.abs(a - b).mean() > 60, f"frame {i}: the face shows through"
        gray_src = cv2.cvtColor(src[i][1], cv2.COLOR_BGR2GRAY).astype(np.int16)
        gray = cv2.cvtColor(out[i][1], cv2.COLOR_BGR2GRAY).astype(np.int16)
        # the image of the face is gone: no correlation with the source left in the box
        r = np.corrcoef(gray_src[y0:y1, x0:x1].ravel(), gray[y0:y1, x0:x1].ravel())[0, 1]
        assert abs(r) < 0.3, f"frame {i}: overlay still correlates with the face (r={r:.2f})"
        # the mesh is drawn where the landmarks are: its vertices stand out of the mask
        px = np.round(lm[i][:468, :2] * (320, 240)).astype(int)
        px = px[(px[:, 0] > x0) & (px[:, 0] < x1) & (px[:, 1] > y0) & (px[:, 1] < y1)]
        on_mesh = np.median(gray[px[:, 1], px[:, 0]])
        mask = np.percentile(gray[y0:y1, x0:x1], 20)
        assert on_mesh > mask + 25, f"frame {i}: mesh not drawn ({on_mesh} vs mask {mask})"
        checked += 1
    assert checked >= 5


def test_show_face_keeps_the_image(short_analysis, short_clip, tmp_path):
    path = _write(short_analysis, short_clip, tmp_path / "f.mp4", show_face=True)
    src, out = _frames(short_clip), _frames(path)
    x0, y0, x1, y1 = _face_box(short_analysis.track.landmarks[20], 320, 240)
    a = cv2.cvtColor(src[20][1], cv2.COLOR_BGR2GRAY)[y0:y1, x0:x1].ravel()
    b = cv2.cvtColor(out[20][1], cv2.COLOR_BGR2GRAY)[y0:y1, x0:x1].ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.5


def test_with_a_stride_every_frame_is_written_holding_the_reading(short_analysis, short_clip,
                                                                   tmp_path):
    path = _write(short_analysis, short_clip, tmp_path / "s.mp4", every=3)
    out = _frames(path)
    assert len(out) == 45
    # frames 1 and 2 hold frame 0's mesh: the same drawing over the same place
    g = [cv2.cvtColor(out[i][1], cv2.COLOR_BGR2GRAY).astype(np.int16) for i in (0, 1, 2)]
    x0, y0, x1, y1 = _face_box(short_analysis.track.landmarks[0], 320, 240)
    assert np.abs(g[0] - g[1])[y0:y1, x0:x1].mean() < 6
    assert np.abs(g[0] - g[2])[y0:y1, x0:x1].mean() < 6


def test_overlay_needs_the_meshes(short_clip, tmp_path):
    with pytest.raises(InputError, match="keep_landmarks"):
        write_overlay(short_clip, tmp_path / "x.mp4", frame_index=np.arange(3),
                      landmarks=np.zeros((3, 0, 3), np.float32), pspi=np.zeros(3),
                      aus={}, pain_prob=None, episode=np.zeros(3, int))
    assert not list(tmp_path.iterdir())


def test_an_interrupted_overlay_stops_its_decoding_thread_at_once(short_analysis, short_clip,
                                                                  tmp_path):
    """Ctrl-C while the overlay is written: the thread decoding the source is stopped
    before the error leaves write_overlay, even while the traceback keeps its frames
    alive (left running, it would go on decoding in the background), and no file is
    left."""
    tl = Timeline.from_analysis(short_analysis)
    before = set(threading.enumerate())

    def stop(done, total):
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as caught:  # noqa: F841 - kept alive on purpose
        write_overlay(short_clip, tmp_path / "o.overlay.mp4",
                      frame_index=short_analysis.track.frame_index,
                      landmarks=short_analysis.track.landmarks, pspi=tl.pspi, aus=tl.aus,
                      pain_prob=tl.pain_prob, episode=tl.alarm, on_progress=stop)
    # ``caught`` still holds the traceback, and with it write_overlay's frame
    assert not [t for t in set(threading.enumerate()) - before
                if t.name == "painvision-decode"]
    assert not list(tmp_path.iterdir())
