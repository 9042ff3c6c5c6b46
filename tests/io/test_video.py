from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from painvision.errors import InputError, VideoError
from painvision.io.video import iter_frames, probe_video


def _write(path: Path, n: int, fps: float = 20.0, size=(64, 48)) -> Path:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(n):
        w.write(np.full((size[1], size[0], 3), (i * 7) % 255, np.uint8))
    w.release()
    return path


def test_frames_stream_with_container_timestamps(tmp_path):
    path = _write(tmp_path / "a.mp4", 12, fps=20.0)
    frames = list(iter_frames(path))
    assert [f.index for f in frames] == list(range(12))
    t = np.array([f.t for f in frames])
    assert t[0] == pytest.approx(0.0)
    np.testing.assert_allclose(np.diff(t), 0.05, atol=1e-3)
    assert frames[0].image_bgr.shape == (48, 64, 3) and frames[0].image_bgr.dtype == np.uint8


def test_stride_keeps_every_nth_frame_and_its_time(tmp_path):
    path = _write(tmp_path / "a.mp4", 10, fps=10.0)
    frames = list(iter_frames(path, stride=3))
    assert [f.index for f in frames] == [0, 3, 6, 9]
    np.testing.assert_allclose([f.t for f in frames], [0.0, 0.3, 0.6, 0.9], atol=1e-3)


def test_probe_reports_container_metadata(tmp_path):
    info = probe_video(_write(tmp_path / "a.mp4", 8, fps=25.0, size=(80, 60)))
    assert (info.width, info.height, info.frame_count) == (80, 60, 8)
    assert info.fps == pytest.approx(25.0)
    assert info.duration_s == pytest.approx(8 / 25.0)


def _file(d: Path, name: str, data: bytes) -> Path:
    (d / name).write_bytes(data)
    return d / name


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.mp4", "no such file"),
        (lambda d: d, "directory"),
        (lambda d: _file(d, "empty.mp4", b""), "empty"),
        (lambda d: _file(d, "text.mp4", b"not a video"), "not a video"),
    ],
)
def test_unreadable_inputs_raise_video_error(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(VideoError, match=message):
        list(iter_frames(path))
    with pytest.raises(VideoError):
        probe_video(path)


def test_truncated_video_is_an_error_not_a_crash(tmp_path):
    full = _write(tmp_path / "full.mp4", 10).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full[: len(full) // 2])
    with pytest.raises(VideoError):
        list(iter_frames(cut))


def test_bad_stride(tmp_path):
    with pytest.raises(InputError):
        list(iter_frames(_write(tmp_path / "a.mp4", 2), stride=0))
