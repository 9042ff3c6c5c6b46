"""Every bad input of the robustness issue, through ``painvision analyze`` as a user runs it.

Each input is made here, in ``tmp_path``: small videos written with OpenCV, and where
OpenCV's writer cannot make the case, an MP4 whose boxes are edited by hand (ISO/IEC
14496-12: a rotation matrix, uneven frame durations, an unknown codec, a sound track
alone); weights with torch. A bad input gives one line on stderr (``error: ...``), a
non-zero exit and no new file anywhere; an input that is only unusual (4K, one frame,
grey or 16-bit frames, a phone's rotated video, a variable frame rate) is analysed.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.mediapipe

EXE = Path(sys.executable).with_name("painvision")
SAMPLE = Path(__file__).resolve().parents[2] / "sample_videos" / "astronaut_pain.mp4"


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=300,
                          env=None if env is None else os.environ | env)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _files(root: Path) -> set[Path]:
    """Everything under ``root``, hidden files and folders included."""
    return set(root.rglob("*"))


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def faces() -> list[np.ndarray]:
    """The first 8 frames of the bundled sample (480x360, a real photo of a face)."""
    cap = cv2.VideoCapture(str(SAMPLE))
    frames = [cap.read()[1] for _ in range(8)]
    cap.release()
    assert all(f is not None and f.shape == (360, 480, 3) for f in frames)
    return frames


def _video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    return path


# --- MP4 boxes (ISO/IEC 14496-12): size (32-bit, big-endian), 4-byte type, payload ------

def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _full_box(kind: bytes, *payload: bytes, flags: int = 0) -> bytes:
    return _box(kind, struct.pack(">I", flags), *payload)  # version 0


def _find(data: bytes, path: list[bytes], start: int = 0, end: int | None = None
          ) -> list[tuple[int, int]]:
    """``(offset, size)`` of each box along ``path`` (the first of each type)."""
    end = len(data) if end is None else end
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, i)
        if kind == path[0]:
            here = [(i, size)]
            return here if len(path) == 1 else here + _find(data, path[1:], i + 8, i + size)
        i += size
    raise KeyError(path[0])


def _with_box(data: bytes, path: list[bytes], payload: bytes) -> bytes:
    """``data`` with the box at ``path`` given a new payload, the boxes around it resized.
    (OpenCV writes the moov box after the media data, so no chunk offset moves.)"""
    chain = _find(data, path)
    off, size = chain[-1]
    new = _box(path[-1], payload)
    out = bytearray(data[:off] + new + data[off + size:])
    for o, s in chain[:-1]:
        struct.pack_into(">I", out, o, s + len(new) - size)
    return bytes(out)


TRAK = [b"moov", b"trak"]
STBL = [*TRAK, b"mdia", b"minf", b"stbl"]


def _audio_only_mp4(path: Path, rate: int = 8000) -> Path:
    """A valid MP4 whose only track is 1 s of sound (16-bit PCM, 'sowt'): FFmpeg reads it
    as one audio stream and no video."""
    n = rate
    pcm = b"".join(struct.pack("<h", int(8000 * math.sin(i / 3))) for i in range(n))
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2mp41")
    entry = _box(b"sowt", bytes(6), struct.pack(">H", 1), bytes(8),
                 struct.pack(">HHHHI", 1, 16, 0, 0, rate << 16))
    stbl = _box(b"stbl", _full_box(b"stsd", struct.pack(">I", 1), entry),
                _full_box(b"stts", struct.pack(">III", 1, n, 1)),
                _full_box(b"stsc", struct.pack(">IIII", 1, 1, n, 1)),
                _full_box(b"stsz", struct.pack(">II", 2, n)),
                _full_box(b"stco", struct.pack(">II", 1, len(ftyp) + 8)))
    dinf = _box(b"dinf", _full_box(b"dref", struct.pack(">I", 1), _full_box(b"url ", flags=1)))
    mdia = _box(b"mdia", _full_box(b"mdhd", struct.pack(">IIIIHH", 0, 0, rate, n, 0x55C4, 0)),
                _full_box(b"hdlr", struct.pack(">I4s12s", 0, b"soun", bytes(12)),
                          b"SoundHandler\0"),
                _box(b"minf", _full_box(b"smhd", bytes(4)), dinf, stbl))
    unity = struct.pack(">9i", 1 << 16, 0, 0, 0, 1 << 16, 0, 0, 0, 1 << 30)
    tkhd = _full_box(b"tkhd", struct.pack(">IIIII", 0, 0, 1, 0, 1000), bytes(8),
                     struct.pack(">hhhH", 0, 0, 0x0100, 0), unity, bytes(8), flags=3)
    mvhd = _full_box(b"mvhd", struct.pack(">IIIIIH", 0, 0, 1000, 1000, 1 << 16, 0x0100),
                     bytes(10), unity, bytes(24), struct.pack(">I", 2))
    path.write_bytes(ftyp + _box(b"mdat", pcm) + _box(b"moov", mvhd, _box(b"trak", tkhd, mdia)))
    return path


def _unknown_codec(path: Path, small: Path) -> Path:
    """``small`` with its video's sample entry renamed to a codec no one has ('zzzz'), and
    its MPEG-4 decoder config hidden (FFmpeg would take the codec from it)."""
    data = bytearray(small.read_bytes())
    off, _ = _find(bytes(data), [*STBL, b"stsd"])[-1]
    entry = off + 16  # header, version and flags, entry count; then the entry's size, type
    assert data[entry + 4:entry + 8] == b"mp4v"
    data[entry + 4:entry + 8] = b"zzzz"
    esds = data.index(b"esds", entry)
    data[esds:esds + 4] = b"free"
    path.write_bytes(bytes(data))
    return path


def _faststart(path: Path, video: Path) -> Path:
    """``video`` with its moov box moved before the media data, as streaming MP4s are
    (chunk offsets moved with it): a cut in the media then still opens."""
    data = video.read_bytes()
    (mdat, _), = _find(data, [b"mdat"])
    (moov, moov_size), = _find(data, [b"moov"])
    index = bytearray(data[moov:moov + moov_size])
    stco, _ = _find(bytes(index), [*STBL, b"stco"])[-1]
    for k in range(struct.unpack_from(">I", index, stco + 12)[0]):
        at = stco + 16 + 4 * k
        struct.pack_into(">I", index, at, struct.unpack_from(">I", index, at)[0] + moov_size)
    path.write_bytes(data[:mdat] + bytes(index) + data[mdat:moov])
    return path


# --- the bad inputs -------------------------------------------------------------------

def _small(d: Path) -> Path:
    frames = [np.full((120, 160, 3), 40 * i, np.uint8) for i in range(6)]
    return _video(d / "small.mp4", frames)


def _cut(d: Path, video: Path, name: str) -> Path:
    data = video.read_bytes()
    (d / name).write_bytes(data[: 2 * len(data) // 3])
    return d / name


def _file(d: Path, name: str, data: bytes) -> Path:
    d.mkdir(exist_ok=True)
    (d / name).write_bytes(data)
    return d / name


#: case -> (make the input in a folder -> the path, part of the message)
BAD_VIDEOS = {
    "missing path": (lambda d: d / "missing.mp4", "no such file"),
    "a directory": (lambda d: _file(d / "clips", "notes.txt", b"no frames here\n").parent,
                    "a directory with no image frames"),
    "a non-video file": (lambda d: _file(d, "notes.mp4", b"this is not a video\n"),
                         "not a video that FFmpeg can decode"),
    "a few bytes of text": (lambda d: _file(d, "hello.mp4", b"hello\n"),
                            "not a video that FFmpeg can decode"),
    "a zero-byte file": (lambda d: _file(d, "empty.mp4", b""), "the file is empty"),
    "a truncated MP4": (lambda d: _cut(d, _small(d), "cut.mp4"), "the file is truncated"),
    "a truncated MP4 with its index first": (
        lambda d: _cut(d, _faststart(d / "fast.mp4", _small(d)), "cut.mp4"),
        "the file is truncated"),
    "no video stream": (lambda d: _audio_only_mp4(d / "voice.mp4"),
                        "it has no video stream (only audio)"),
    "an unreadable codec": (lambda d: _unknown_codec(d / "zzzz.mp4", _small(d)),
                            "FFmpeg cannot decode its video stream (codec 'zzzz')"),
    "an unreadable frame image": (lambda d: _file(d / "frames", "0000.png", b"not a png").parent,
                                  "not an image OpenCV can decode"),
}


def _fails_cleanly(res: subprocess.CompletedProcess, code: int, message: str) -> None:
    assert "Traceback" not in res.stderr + res.stdout, res.stderr
    lines = _lines(res.stderr)
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert message in lines[0], lines[0]
    assert res.returncode == code, res.stderr


@pytest.mark.parametrize("case", list(BAD_VIDEOS))
def test_a_bad_video_is_one_line_and_leaves_nothing(tmp_path, case):
    video = BAD_VIDEOS[case][0](tmp_path)
    before = _files(tmp_path)
    res = run("analyze", str(video), "--out", str(tmp_path / "out"))
    _fails_cleanly(res, 1, BAD_VIDEOS[case][1])  # 1: a video failed (the others would go on)
    assert str(video) in res.stderr
    assert _files(tmp_path) == before  # no output, not even an empty --out folder


def _out_below_a_file(d: Path) -> Path:
    (d / "a-file").write_text("")
    return d / "a-file" / "out"


def _out_is_a_file(d: Path) -> Path:
    (d / "out.csv").write_text("mine\n")
    return d / "out.csv"


def _out_read_only(d: Path) -> Path:
    if os.geteuid() == 0:
        pytest.skip("root writes into a chmod 555 folder; the cases under a file and "
                    "test_analyze_cli's /proc stand for it")
    (d / "ro").mkdir()
    (d / "ro").chmod(0o555)
    return d / "ro"


@pytest.mark.parametrize("make, code, message", [
    (_out_below_a_file, 2, "a-file is not a folder"),
    (_out_is_a_file, 2, "exists and is not a directory"),
    (_out_read_only, 2, "cannot write --out"),
], ids=["below a file", "a file", "chmod 555"])
def test_an_output_folder_that_cannot_be_written(tmp_path, faces, make, code, message):
    video = _video(tmp_path / "v.mp4", faces[:2])
    out = make(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in _files(tmp_path)}
    res = run("analyze", str(video), "--out", str(out), "-q")
    _fails_cleanly(res, code, message)
    assert {p: p.stat().st_mtime_ns for p in _files(tmp_path)} == before


def test_a_folder_where_an_output_goes_is_found_before_any_work(tmp_path, faces):
    """With --overwrite, a folder that holds an output's name (the JSON's here) is an error
    before any video is read, and the user's old CSV is left as it was. (Should a move into
    place fail anyway, fileio.move_all puts back what it replaced: tests/test_fileio.py.)"""
    video = _video(tmp_path / "v.mp4", faces[:4])
    out = tmp_path / "out"
    (out / "v.json").mkdir(parents=True)
    (out / "v.csv").write_text("the user's old csv\n")
    res = run("analyze", str(video), "--out", str(out), "-q", "--overwrite")
    _fails_cleanly(res, 2, f"{out / 'v.json'} is a folder")
    assert (out / "v.csv").read_text() == "the user's old csv\n"
    assert sorted(p.name for p in out.iterdir()) == ["v.csv", "v.json"]


def test_a_neutral_stretch_after_the_end_fails_before_decoding_and_leaves_no_folder(
        tmp_path, faces):
    video = _video(tmp_path / "v.mp4", faces[:8])  # 0.8 s
    res = run("analyze", str(video), "--out", str(tmp_path / "out"), "--neutral", "5:8")
    _fails_cleanly(res, 1, "--neutral 5:8 starts after the video ends (0.8 s)")
    assert not (tmp_path / "out").exists()


_SAMPLES = str(SAMPLE.parent)


@pytest.mark.parametrize("args, message", [
    (["bench", "accuracy", _SAMPLES, "--json", "{kept}"], "exists; pass --overwrite"),
    (["bench", "accuracy", _SAMPLES, "--markdown", "/proc/x.md"], "cannot write --markdown"),
    (["bench", "accuracy", _SAMPLES, "--split", "heldout"], "no clips in split 'heldout'"),
    (["bench", "accuracy", _SAMPLES, "--split", "test"], "unknown split 'test'"),
    (["export", "--format", "onnx", "--out", "{d}/m.onnx"], "m.onnx.json exists"),
    (["report", "{kept}", "--out", "{d}"], "is a folder: give the name of a file"),
    (["report", "{kept}", "--plot", "/proc/x.png"], "cannot write --plot"),
    (["train", _SAMPLES, "--out", "{d}/m.pt"], "m.report.json exists"),
    (["synth", "--out", "/proc/x"], "cannot write --out /proc/x"),
    (["report", "{kept}", "--out", "{kept}", "--overwrite"], "is the file being read"),
    (["report", "{kept}", "--out", "{d}/p.html", "--plot", "{d}/p.html"],
     "--out and --plot are the same file"),
    (["bench", "accuracy", _SAMPLES, "--json", "{d}/r", "--markdown", "{d}/r"],
     "--json and --markdown are the same file"),
    (["export", "--format", "torchscript", "--out", "{d}/w.pt", "--weights", "{d}/w.pt",
      "--overwrite"], "is the file being read"),
    (["export", "--format", "onnx", "--out", "{d}/m.pt"], "an ONNX export must end in .onnx"),
    (["train", _SAMPLES, "--out", "{d}/n.onnx"], "train writes PyTorch weights"),
    (["bench", "accuracy", _SAMPLES, "--weights", "{d}/w.pt"],
     "--weights is for the model scorer"),
    (["train", _SAMPLES, "--out", "{d}/n.pt", "--folds", "1"], "--folds must be 0"),
    (["synth", "--out", "{d}/s", "--subjects", "1000", "--minutes", "0.01"],
     "gives each less than 1 s"),
], ids=["bench json exists", "bench markdown unwritable", "bench empty split",
        "bench unknown split", "export description exists", "report into a folder",
        "report plot unwritable", "train report exists", "synth unwritable",
        "report over its own log", "report page and plot one file",
        "bench json and markdown one file", "export over its weights",
        "export onnx named .pt", "train named .onnx", "bench weights unused", "train one fold",
        "synth subjects without time"])
def test_outputs_are_checked_before_any_work_and_nothing_is_replaced(tmp_path, args, message):
    """Every command checks where it will write before it works (a benchmark or a
    training run does not end in a write error), and replaces no file of the user's: the
    companion files too (the export's description, the training report)."""
    kept = tmp_path / "kept.jsonl"
    kept.write_text("the user's\n")
    (tmp_path / "m.onnx.json").write_text("the user's\n")
    (tmp_path / "m.report.json").write_text("the user's\n")
    before = {p: p.read_text() for p in _files(tmp_path)}
    res = run(*(a.format(kept=kept, d=tmp_path) for a in args))
    _fails_cleanly(res, 2, message)
    assert {p: p.read_text() for p in _files(tmp_path)} == before


@pytest.mark.parametrize("names, extra, clash", [
    (["index.mp4", "b.mp4"], ["--report"], "index.mp4 and the overview page would both "
                                           "write index.html"),
    (["a.mp4", "a.fhir.mp4"], ["--fhir", "--patient-ref", "Patient/1"],
     "would both write a.fhir.json"),
    (["a.mp4", "a.mov"], [], "would both write a.csv"),
], ids=["the overview page", "a FHIR bundle", "one stem"])
def test_two_videos_never_write_the_same_file(tmp_path, faces, names, extra, clash):
    """Outputs of one run that would replace each other are refused before any work."""
    videos = [_video(tmp_path / n, faces[:2]) for n in names]
    before = _files(tmp_path)
    res = run("analyze", *map(str, videos), "--out", str(tmp_path / "out"), *extra)
    _fails_cleanly(res, 2, clash)
    assert _files(tmp_path) == before


def test_no_output_is_written_over_a_video_being_read(tmp_path, faces):
    """a.mp4 and a.overlay.mp4 analysed into their own folder: a.mp4's overlay would
    replace the other video, even with --overwrite."""
    for name in ("a.mp4", "a.overlay.mp4"):
        _video(tmp_path / name, faces[:2])
    before = {p: p.read_bytes() for p in _files(tmp_path)}
    res = run("analyze", str(tmp_path), "--out", str(tmp_path), "--overlay", "--overwrite")
    _fails_cleanly(res, 2, "a.overlay.mp4 would be written over a video being analysed")
    assert {p: p.read_bytes() for p in _files(tmp_path)} == before


def test_hidden_files_in_a_folder_are_not_videos(tmp_path, faces):
    """A folder copied from a Mac holds ``._clip.mp4`` beside ``clip.mp4``."""
    (tmp_path / "clips").mkdir()
    _video(tmp_path / "clips" / "clip.mp4", faces[:2])
    (tmp_path / "clips" / "._clip.mp4").write_bytes(b"\x00\x05\x16\x07 resource fork")
    res = run("analyze", str(tmp_path / "clips"), "--out", str(tmp_path / "out"), "-q")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["clip.csv", "clip.json"]


def test_a_neutral_stretch_of_one_frame_is_refused(tmp_path, faces):
    video = _video(tmp_path / "v.mp4", faces[:8])
    res = run("analyze", str(video), "--out", str(tmp_path / "out"), "--neutral", "0:0.01")
    _fails_cleanly(res, 1, "has 1 usable frame(s); at least 5 are needed")
    assert not (tmp_path / "out").exists()


def test_outputs_left_by_a_killed_run_are_removed_by_the_next(tmp_path, faces):
    """SIGKILL (or the kernel's out-of-memory killer) leaves a video's hidden folder of
    unfinished outputs; the next run on that video removes it, and says so. A folder in
    use (its lock held, as by a run still writing), another video's, a link and a
    folder of the user's are left alone."""
    import fcntl

    video = _video(tmp_path / "v.mp4", faces[:4])
    out = tmp_path / "out"
    dead = out / ".v.abcd_123.tmp"
    busy = out / ".v.efgh_456.tmp"
    other = out / ".w.abcd_123.tmp"  # another video's
    users = out / ".v.my notes.tmp"  # not a name painvision gives
    for d in (dead, busy, other, users):
        d.mkdir(parents=True)
        (d / "v.csv").write_text("half\n")
    link = out / ".v.ijkl_789.tmp"
    link.symlink_to(users)
    held = os.open(busy, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        res = run("analyze", str(video), "--out", str(out), "-q")
    finally:
        os.close(held)
    assert res.returncode == 0, res.stderr
    assert not dead.exists()
    assert busy.exists() and other.exists() and users.exists() and link.is_symlink()
    assert f"warning: removed {dead}" in " ".join(res.stderr.split())
    assert res.stderr.count("warning: removed") == 1
    assert (out / "v.csv").exists()


def test_interrupted_before_any_output_leaves_no_folder_it_made(tmp_path):
    """Ctrl-C during the first video: the --out folders this run made go with it."""
    proc, _ = _analysing_the_sample(tmp_path / "a" / "b" / "out")
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert list(tmp_path.iterdir()) == []


# --- weights ----------------------------------------------------------------------------

class _RunsCode:
    """Unpickled, this runs a shell command: what a hostile weights file carries."""

    def __init__(self, marker: Path) -> None:
        self.command = f"touch {shlex.quote(str(marker))}"

    def __reduce__(self):
        return os.system, (self.command,)


def _weights_blob() -> dict:
    torch = pytest.importorskip("torch")
    from painvision.classifier import default_weights_path

    return torch.load(default_weights_path(), map_location="cpu", weights_only=True)


def _corrupt(d: Path) -> Path:
    (d / "w.pt").write_bytes(np.random.default_rng(0).bytes(4096))
    return d / "w.pt"


def _newer(d: Path) -> Path:
    import torch

    blob = _weights_blob()
    config = json.loads(blob["config"])
    assert config["format"] == "painvision-weights/1"
    config["format"] = "painvision-weights/2"  # what the next incompatible version writes
    torch.save({"config": json.dumps(config), "state_dict": blob["state_dict"]}, d / "w.pt")
    return d / "w.pt"


def _pickled_code(d: Path) -> Path:
    import torch

    blob = _weights_blob()
    torch.save(blob | {"hook": _RunsCode(d / "ran")}, d / "w.pt")
    return d / "w.pt"


def _folder(d: Path) -> Path:
    (d / "weights").mkdir()
    return d / "weights"


def _torchscript(d: Path) -> Path:
    run("export", "--format", "torchscript", "--out", str(d / "ts.pt"))
    assert (d / "ts.pt").is_file()
    return d / "ts.pt"


@pytest.mark.parametrize("make, message", [
    (_corrupt, "damaged, or not a painvision weights file"),
    (_newer, "in format 'painvision-weights/2', from a newer painvision"),
    (_pickled_code, "refusing to load"),
    (_folder, "it is a folder; give the weights file"),
    (_torchscript, "it is a TorchScript export"),
], ids=["corrupt", "a newer version", "a pickle carrying code", "a folder", "TorchScript"])
def test_weights_that_cannot_be_used_are_refused_in_one_line(tmp_path, faces, make, message):
    pytest.importorskip("torch")
    video = _video(tmp_path / "v.mp4", faces[:2])
    weights = make(tmp_path)
    before = _files(tmp_path)
    res = run("analyze", str(video), "--out", str(tmp_path / "out"), "--scorer", "model",
              "--weights", str(weights))
    _fails_cleanly(res, 2, message)
    assert _files(tmp_path) == before  # nothing written, and the pickle's command never ran
    if make is _pickled_code:
        assert "os.system" in res.stderr or "posix.system" in res.stderr
        import torch

        torch.load(weights, weights_only=False)  # what an unsafe loader would have done
        assert (tmp_path / "ran").exists()


# --- unusual inputs that must work ------------------------------------------------------

def _analyze(video: Path, out: Path, *args: str) -> tuple[list[dict[str, str]], dict]:
    res = run("analyze", str(video), "--out", str(out), "-q", *args)
    assert res.returncode == 0, res.stderr
    # a clip this short is read, and too short for the automatic neutral: it says so
    assert all("no frame was scored: the automatic neutral needs 10" in line
               for line in _lines(res.stderr)), res.stderr
    stem = video.stem if video.is_file() else video.name
    assert sorted(p.name for p in out.iterdir()) == [f"{stem}.csv", f"{stem}.json"]
    return _rows(out / f"{stem}.csv"), json.loads((out / f"{stem}.json").read_text())


def _peak_rss_mb(*args: str, log: Path) -> tuple[int, float]:
    """Run the command; its exit code and peak resident memory (its own, in MB)."""
    with open(log, "w") as fh:
        proc = subprocess.Popen([str(EXE), *args], stdout=fh, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024


def test_4k_works_in_bounded_memory(tmp_path, faces):
    """3840x2160: every frame is analysed; memory does not grow with the frames (the
    decoding queue holds two 4K frames at most: 24.9 MB each, and as much again in RGB)."""
    big = cv2.resize(faces[0], (3840, 2160), interpolation=cv2.INTER_LINEAR)
    peak = {}
    for n in (3, 12):
        video = _video(tmp_path / f"uhd{n}.mp4", [big] * n)
        code, peak[n] = _peak_rss_mb("analyze", str(video), "--out", str(tmp_path / "out"),
                                     "-q", "--scorer", "analytic", log=tmp_path / f"{n}.log")
        assert code == 0, (tmp_path / f"{n}.log").read_text()
    rows = _rows(tmp_path / "out" / "uhd12.csv")
    assert len(rows) == 12 and all(r["face_detected"] == "1" for r in rows)
    assert [float(r["time_s"]) for r in rows] == pytest.approx([i / 10 for i in range(12)],
                                                               abs=2e-3)
    video = json.loads((tmp_path / "out" / "uhd12.json").read_text())["video"]
    assert (video["width"], video["height"]) == (3840, 2160)
    # 9 more frames held would be 9 x 50 MB; what grows is the queue filling, < 3 frames
    assert peak[12] - peak[3] < 150, peak


def test_a_one_frame_video(tmp_path, faces):
    """Analysed, and the user is told why nothing was scored; the JSON is strict JSON
    (the neutral it could not find is null, not NaN)."""
    video = _video(tmp_path / "one.mp4", faces[:1])
    out = tmp_path / "out"
    res = run("analyze", str(video), "--out", str(out), "-q")
    assert res.returncode == 0, res.stderr
    assert _lines(res.stderr) == [f"warning: {video}: no frame was scored: the automatic "
                                  "neutral needs 10 usable frames of the face and there "
                                  "were 1; give a smaller --stride, a longer video or "
                                  "--neutral"], res.stderr
    rows = _rows(out / "one.csv")
    assert len(rows) == 1 and rows[0]["frame"] == "0" and float(rows[0]["time_s"]) == 0.0
    assert rows[0]["face_detected"] == "1" and rows[0]["pspi"] == ""

    def no_nan(token: str) -> None:
        raise AssertionError(f"{token} in the JSON")

    summary = json.loads((out / "one.json").read_text(), parse_constant=no_nan)
    assert summary["video"]["frames"] == 1
    assert set(summary["calibration"]["baseline"]["values"].values()) == {None}


@pytest.mark.parametrize("kind", ["grey", "grey 16-bit", "colour 16-bit"])
def test_grey_and_16_bit_frames(tmp_path, faces, kind):
    """A folder of frame images is a video at 30 frames a second."""
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(faces[:5]):
        img = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) if kind.startswith("grey") else f
        if kind.endswith("16-bit"):
            img = img.astype(np.uint16) * 257
        assert cv2.imwrite(str(folder / f"{i:04d}.png"), img)
    assert cv2.imread(str(folder / "0000.png"), cv2.IMREAD_UNCHANGED).dtype == \
        (np.uint16 if kind.endswith("16-bit") else np.uint8)
    rows, summary = _analyze(folder, tmp_path / "out")
    assert [float(r["time_s"]) for r in rows] == pytest.approx([i / 30 for i in range(5)],
                                                               abs=1e-3)
    assert all(r["face_detected"] == "1" for r in rows)
    assert (summary["video"]["width"], summary["video"]["height"]) == (480, 360)


def test_a_rotated_phone_video_is_read_upright(tmp_path, faces):
    """A phone holds a portrait video sideways, with a display matrix in the track header
    that turns it a quarter clockwise (FFmpeg: 'displaymatrix: rotation of -90.00')."""
    from painvision.io.video import probe_video

    upright = [f[:, 105:375] for f in faces[:6]]  # portrait, 270x360
    video = _video(tmp_path / "phone.mp4",
                   [cv2.rotate(f, cv2.ROTATE_90_COUNTERCLOCKWISE) for f in upright])
    data = bytearray(video.read_bytes())
    tkhd, _ = _find(bytes(data), [*TRAK, b"tkhd"])[-1]
    # version 0: header 8, version/flags 4, 5 x 32-bit, 8 reserved, 4 x 16-bit: matrix at 40
    # {a b u; c d v; x y w}, a-d, x, y in 16.16 and u, v, w in 2.30 fixed point
    matrix = tkhd + 8 + 40
    assert struct.unpack_from(">9i", data, matrix) == (1 << 16, 0, 0, 0, 1 << 16, 0, 0, 0, 1 << 30)
    struct.pack_into(">9i", data, matrix, 0, 1 << 16, 0, -(1 << 16), 0, 0, 0, 0, 1 << 30)
    video.write_bytes(bytes(data))
    raw = cv2.VideoCapture(str(video), cv2.CAP_FFMPEG)  # as stored: sideways
    raw.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
    assert raw.get(cv2.CAP_PROP_ORIENTATION_META) == 90 and raw.read()[1].shape == (270, 360, 3)
    raw.release()
    info = probe_video(video)
    assert (info.width, info.height) == (270, 360)
    rows, summary = _analyze(video, tmp_path / "out")
    assert (summary["video"]["width"], summary["video"]["height"]) == (270, 360)
    assert len(rows) == 6 and all(r["face_detected"] == "1" for r in rows)
    # the head is upright: sideways it would be rolled by about 90 degrees
    assert all(abs(float(r["roll_deg"])) < 20 for r in rows), [r["roll_deg"] for r in rows]


def test_a_variable_frame_rate_video_keeps_the_container_times(tmp_path, faces):
    """6 frames at 30 fps then 6 at 10 fps (a phone slowing down in the dark): the sample
    durations in the MP4's stts box set each frame's time."""
    video = _video(tmp_path / "vfr.mp4", [faces[i % 8] for i in range(12)], fps=30)
    data = video.read_bytes()
    mdhd, _ = _find(data, [*TRAK, b"mdia", b"mdhd"])[-1]
    scale = struct.unpack_from(">I", data, mdhd + 20)[0]  # ticks per second
    ticks = [scale // 30] * 6 + [scale // 10] * 6
    data = bytearray(_with_box(data, [*STBL, b"stts"], struct.pack(">II", 0, len(ticks))
                               + b"".join(struct.pack(">II", 1, t) for t in ticks)))
    # the durations follow (the track's and the movie's); the edit list goes
    mdhd, _ = _find(bytes(data), [*TRAK, b"mdia", b"mdhd"])[-1]
    struct.pack_into(">I", data, mdhd + 24, sum(ticks))
    mvhd, _ = _find(bytes(data), [b"moov", b"mvhd"])[-1]
    movie = sum(ticks) * struct.unpack_from(">I", data, mvhd + 20)[0] // scale
    struct.pack_into(">I", data, mvhd + 24, movie)
    tkhd, _ = _find(bytes(data), [*TRAK, b"tkhd"])[-1]
    struct.pack_into(">I", data, tkhd + 28, movie)
    edts, _ = _find(bytes(data), [*TRAK, b"edts"])[-1]
    data[edts + 4:edts + 8] = b"free"
    video.write_bytes(bytes(data))
    expected = np.cumsum([0, *ticks[:-1]]) / scale  # 0, 1/30 ... 0.2, then 0.3 ... 0.7
    rows, summary = _analyze(video, tmp_path / "out")
    assert [float(r["time_s"]) for r in rows] == pytest.approx(expected.tolist(), abs=2e-3)
    assert summary["video"]["frames"] == 12


# --- Ctrl-C -----------------------------------------------------------------------------

def _start(*args: str, env: dict | None = None) -> subprocess.Popen:
    """The command in a process group of its own, as a terminal's foreground job."""
    return subprocess.Popen([str(EXE), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=os.environ | (env or {}), start_new_session=True)


def _until(ready, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"finished before {what}: {proc.communicate()}"
        assert time.monotonic() < end, f"no {what} after {timeout} s"
        time.sleep(0.01)


def _analysing_the_sample(out: Path) -> tuple[subprocess.Popen, bytes]:
    """``analyze`` of the sample into ``out``, once 25 of its 400 frames are analysed (its
    progress bar is drawn on the pipe to see them); the process and its stderr so far,
    which is left non-blocking."""
    proc = _start("analyze", str(SAMPLE), "--out", str(out), "--scorer", "analytic",
                  env={"TTY_COMPATIBLE": "1", "COLUMNS": "120"})
    os.set_blocking(proc.stderr.fileno(), False)
    seen = bytearray()

    def analysing() -> bool:
        seen.extend(proc.stderr.read() or b"")
        done = re.findall(rb"(\d+)/400", bytes(seen))
        return bool(done) and int(done[-1]) >= 25

    _until(analysing, proc, "frames analysed")
    return proc, bytes(seen)


def _interrupted(proc: subprocess.Popen, out: Path, seen: bytes = b"",
                 code: int = 130, finished: tuple[str, ...] = ()) -> None:
    """``finished``: the outputs a video that was already done when the signal came
    keeps, whole (with ``--jobs``, another video may finish first on a loaded machine)."""
    _, stderr = proc.communicate(timeout=120)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", (seen + stderr).decode())
    lines = [line for line in re.split(r"[\r\n]", text)
             if line.strip() and " frames" not in line]  # the progress bar, where drawn
    assert proc.returncode == code, text
    assert lines == ["interrupted: the videos not finished have no output files"], text
    left = _files(out)
    done = {p.name.split(".")[0] for p in left} if finished else set()
    # no CSV, JSON, overlay, temporary file or folder of a video not finished
    assert left == {out / f"{stem}{suffix}" for stem in done for suffix in finished}, left


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_kill_while_analysing_leaves_no_file(tmp_path, sig):
    """Ctrl-C, or a kill / timeout / service stop (SIGTERM): exit 128 + the signal."""
    out = tmp_path / "out"
    proc, seen = _analysing_the_sample(out)
    proc.send_signal(sig)
    os.set_blocking(proc.stderr.fileno(), True)
    _interrupted(proc, out, seen, 128 + int(sig))


@pytest.mark.parametrize("jobs, sig, group", [(1, signal.SIGINT, True),
                                              (2, signal.SIGINT, True),
                                              (2, signal.SIGHUP, True),
                                              (2, signal.SIGTERM, False)])
def test_ctrl_c_while_writing_leaves_no_file(tmp_path, jobs, sig, group):
    """Ctrl-C once a video's CSV and JSON are written, while its overlay is: none of them
    is left. A terminal sends it to every process of the job (the --jobs workers too), and
    so it does a hang-up (SIGHUP), which the workers leave to the parent as they do
    Ctrl-C."""
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("a.mp4", "b.mp4")[:jobs]:
        shutil.copyfile(SAMPLE, videos / name)
    out = tmp_path / "out"
    proc = _start("analyze", str(videos), "--out", str(out), "--overlay", "-q",
                  "--scorer", "analytic", "--jobs", str(jobs))

    def writing() -> bool:
        return out.exists() and any(out.glob(".*.tmp/*.json"))

    _until(writing, proc, "outputs being written")
    if group:  # a terminal's Ctrl-C reaches every process of the job
        os.killpg(proc.pid, sig)
    else:  # kill PID: the parent alone, which must stop its workers
        proc.send_signal(sig)
    # the video being written leaves nothing; one that had finished before keeps all
    _interrupted(proc, out, code=128 + int(sig),
                 finished=(".csv", ".json", ".overlay.mp4") if jobs > 1 else ())


def test_ctrl_c_while_the_outputs_are_moved_into_place_leaves_all_or_none(
        short_clip, tmp_path, monkeypatch):
    """A video's files are written into a hidden folder and then moved into place one by
    one: a Ctrl-C that comes between two moves waits for the last, so the video has its
    CSV and its JSON, not one of them. Run in this process, on the real analysis; the
    signal is sent to this process right after the first move."""
    from painvision.cli.app import _analyze_one

    out = tmp_path / "out"
    out.mkdir()
    real_replace = os.replace
    moved = []

    def replace(src, dst):
        real_replace(src, dst)
        if Path(dst).parent == out:
            moved.append(Path(dst).name)
            if len(moved) == 1:
                os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        _analyze_one(short_clip, out, {"scorer": "analytic"})
    assert len(moved) == 2
    assert sorted(p.name for p in out.iterdir()) == [f"{short_clip.stem}.csv",
                                                      f"{short_clip.stem}.json"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_just_as_the_hidden_folder_is_made_leaves_nothing(short_clip, tmp_path,
                                                                 monkeypatch):
    """A stop that comes just as the hidden folder for a video's files is made (before
    the code has its name) leaves no folder behind: seen once with two workers under
    load, when the other video's worker was the one being written when the kill came."""
    import tempfile

    from painvision.cli.app import _analyze_one

    out = tmp_path / "out"
    out.mkdir()
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):
        made = real_mkdtemp(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)
        return made

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    with pytest.raises(KeyboardInterrupt):
        _analyze_one(short_clip, out, {"scorer": "analytic"})
    assert not list(out.iterdir())
