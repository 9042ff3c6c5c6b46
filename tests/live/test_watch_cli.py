"""``painvision watch`` as a user runs it: a real process, a real HTTP client, a real
(generated) MJPEG camera that goes away and comes back."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from live_scenes import EPISODE_END, EPISODE_START, MjpegCamera, free_port, read_frames

pytestmark = pytest.mark.mediapipe

EXE = str(Path(sys.executable).with_name("painvision"))


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([EXE, "watch", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(cond, timeout: float, proc: subprocess.Popen | None = None, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"watch exited early ({proc.returncode}): {proc.stderr.read()}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [json.loads(x) for x in text.splitlines() if x.strip()]


def events_of(records: list[dict], kind: str | None = None) -> list[dict]:
    return [r for r in records if r["kind"] == "event" and (kind is None or r["type"] == kind)]


class SSEListener(threading.Thread):
    """Reads /v1/events from the start (Last-Event-ID: 0) until the stream ends."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.received: list[tuple[float, int, str, dict]] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.stream("GET", self.url, headers={"Last-Event-ID": "0"},
                              timeout=httpx.Timeout(5.0, read=30.0)) as resp:
                assert resp.headers["content-type"].startswith("text/event-stream")
                eid, etype = None, None
                for line in resp.iter_lines():
                    if line.startswith("id: "):
                        eid = int(line[4:])
                    elif line.startswith("event: "):
                        etype = line[7:]
                    elif line.startswith("data: "):
                        self.received.append((time.time(), eid, etype, json.loads(line[6:])))
        except BaseException as exc:  # noqa: BLE001 - checked by the test
            self.error = exc


def test_realtime_feed_over_http_gives_onset_then_offset_in_time(episode_clip, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "watch.jsonl"
    proc = start(str(episode_clip), "--realtime", "--serve", f"127.0.0.1:{port}",
                 "--warmup", "4", "--out", str(log), "--quiet")
    try:
        wait_for(lambda: _get(base + "/healthz"), 30, proc, "/healthz")
        sse = SSEListener(base + "/v1/events")
        sse.start()
        health, latest = [], []
        while proc.poll() is None:
            h = _get(base + "/healthz")
            if h is not None:
                health.append(h)
            r = _get(base + "/v1/latest")
            if r is not None:
                latest.append(r)
            time.sleep(0.5)
        sse.join(timeout=10)
    finally:
        proc.kill()
    stderr = proc.stderr.read()
    assert proc.returncode == 0, stderr
    assert "stopped (end_of_video)" in stderr and "Traceback" not in stderr
    assert sse.error is None, sse.error
    types = [e[2] for e in sse.received]
    assert types[0] == "started" and types[-1] == "stopped"
    assert [t for t in types if t in ("onset", "offset")] == ["onset", "offset"]
    ids = [e[1] for e in sse.received]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    started = sse.received[0][3]
    for received_at, _, etype, data in sse.received:
        if etype == "onset":
            assert EPISODE_START < data["t"] <= EPISODE_START + 1.5  # ground truth: 6.0 s
            # played at real time, and delivered as it happened
            assert abs((data["wall"] - started["wall"]) - data["t"]) < 0.6
            assert received_at - data["wall"] < 0.5
            assert data["aus"]["au4"] > 1
        if etype == "offset":
            assert EPISODE_END < data["t"] <= EPISODE_END + 4.0
            assert data["reason"] == "score_low"
    # /healthz answered while it ran, with the camera up and frames counting
    assert len(health) >= 10 and all(h["status"] == "ok" for h in health)
    # open to anyone: the kind of source, never its path (a file name can name a patient)
    assert {h["source"] for h in health} == {"file"}
    assert not any(episode_clip.name in json.dumps(h) for h in health)
    frames = [h["frames"] for h in health if h.get("camera") == "ok"]
    assert frames == sorted(frames) and frames[-1] > 100
    assert latest and {"pspi", "aus", "face_detected", "quality"} <= set(latest[-1])
    # the JSON lines file holds the same events and rate-limited readings (every 0.5 s)
    records = lines(log)
    assert [e["type"] for e in events_of(records)] == types
    readings = [r for r in records if r["kind"] == "reading"]
    assert 25 <= len(readings) <= 30  # 14 s at one line per 0.5 s


def _get(url: str) -> dict | None:
    try:
        r = httpx.get(url, timeout=1.0)
    except httpx.TransportError:
        return None
    return r.json() if r.status_code == 200 else None


def test_sigint_flushes_and_closes_an_open_episode(episode_clip, tmp_path):
    log = tmp_path / "w.jsonl"
    proc = start(str(episode_clip), "--realtime", "--warmup", "4", "--out", str(log), "-q")
    try:
        wait_for(lambda: events_of(lines(log), "onset"), 30, proc, "the onset")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, proc.stderr.read()
    records = lines(log)  # every line is whole JSON
    tail = [e["type"] for e in events_of(records)][-3:]
    assert tail == ["onset", "offset", "stopped"]
    assert events_of(records, "offset")[-1]["reason"] == "stopped"
    assert events_of(records, "stopped")[0]["reason"] == "signal"
    assert records[-1]["t" if "t" in records[-1] else "type"] is not None


def test_camera_lost_then_restored(episode_clip, tmp_path):
    frames = [f for f, t in read_frames(episode_clip) if t < EPISODE_START - 0.5]
    cam = MjpegCamera(frames, fps=15.0)
    cam.start()
    log = tmp_path / "cam.jsonl"
    proc = start(cam.url, "--warmup", "2", "--out", str(log), "-q")
    try:
        wait_for(lambda: sum(r["kind"] == "reading" and r["pspi"] is not None
                             for r in lines(log)) >= 3, 60, proc, "scored readings")
        cam.stop()
        lost = wait_for(lambda: events_of(lines(log), "camera_lost"), 20, proc, "camera_lost")
        time.sleep(1.0)
        cam.start()
        back = wait_for(lambda: events_of(lines(log), "camera_restored"), 30, proc,
                        "camera_restored")
        n_before = len(lines(log))
        wait_for(lambda: any(r["kind"] == "reading" and r["face_detected"]
                             for r in lines(log)[n_before:]), 20, proc, "readings again")
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    finally:
        proc.kill()
        cam.stop()
    assert proc.returncode == 0, proc.stderr.read()
    assert lost[0]["t"] < back[0]["t"]
    assert lost[0]["retry_in_s"] > 0
    records = lines(log)
    types = [e["type"] for e in events_of(records)]
    assert types.index("camera_lost") < types.index("camera_restored") < types.index("stopped")
    assert types.count("camera_lost") == 1  # one event per outage, however many retries
    assert back[0]["attempts"] >= 1


def test_bad_invocations_fail_in_one_line(tmp_path, episode_clip):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([EXE, "watch", *args], capture_output=True, text=True,
                              timeout=120)

    res = run(str(tmp_path / "missing.mp4"))
    assert res.returncode == 2 and "no such video file" in res.stderr
    assert "Traceback" not in res.stderr and res.stdout == ""
    existing = tmp_path / "old.jsonl"
    existing.write_text("keep me\n")
    res = run(str(episode_clip), "--out", str(existing))
    assert res.returncode == 2 and "--append" in res.stderr
    assert existing.read_text() == "keep me\n"  # the user's file is untouched
    res = run(str(episode_clip), "--every", "soon")
    assert res.returncode == 2 and "--every" in res.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = run(str(episode_clip), "--serve", f"127.0.0.1:{port}")
    assert res.returncode == 2 and "cannot serve" in res.stderr
    assert res.stderr.strip().splitlines() == [  # uvicorn's own line held back
        f"error: cannot serve on 127.0.0.1:{port} (address already in use)"]
    # a file that is not a video fails before --out is made; a folder is named as one
    (tmp_path / "notes.mp4").write_text("not a video")
    res = run(str(tmp_path / "notes.mp4"), "--out", str(tmp_path / "new.jsonl"))
    assert res.returncode == 2 and res.stderr.startswith("error: cannot open"), res.stderr
    assert not (tmp_path / "new.jsonl").exists()
    res = run(str(tmp_path))
    assert res.returncode == 2 and "is a folder" in res.stderr
    res = run(str(episode_clip), "--out", str(tmp_path))
    assert res.returncode == 2 and "is a folder" in res.stderr
    # option values are checked under the option's own name, with their whole range
    for args, said in [(["--threshold", "0"], "expected a PSPI level in (0, 16]"),
                       (["--threshold", "nan"], "expected a PSPI level in (0, 16]"),
                       (["--evidence", "nan"], "expected a finite number"),
                       (["--warmup", "0"], "expected a number of seconds > 0"),
                       (["--calibrate", "inf"], "expected a number of seconds > 0"),
                       (["--scorer", "analytic", "--evidence", "0.5"],
                        "the analytic scorer gives none"),
                       (["--append"], "--append applies to --out"),
                       (["--calibrate", "5", "--warmup", "5"], "give one of them")]:
        res = run(str(episode_clip), *args)
        assert res.returncode == 2 and said in res.stderr, (args, res.stderr)
        assert "Traceback" not in res.stderr and "policy" not in res.stderr
    # nothing is written into the video being watched, nor two outputs into one file
    before = episode_clip.read_bytes()
    res = run(str(episode_clip), "--out", str(episode_clip), "--append")
    assert res.returncode == 2 and "is the file being read" in res.stderr
    assert episode_clip.read_bytes() == before
    log = tmp_path / "both.jsonl"
    res = run(str(episode_clip), "--out", str(log), "--notify", "http://127.0.0.1:9/x",
              "--outbox", str(log))
    assert res.returncode == 2 and "--out and --outbox are the same file" in res.stderr
    assert not log.exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_an_out_file_that_fails_does_not_stop_the_monitoring(episode_clip):
    """--out on a full disk (/dev/full): logged once, the episode is still announced on
    stdout, and the run ends with the one-line error and exit status 1."""
    res = subprocess.run([EXE, "watch", str(episode_clip), "--out", "/dev/full", "--append",
                          "--calibrate", "4"], capture_output=True, text=True, timeout=300)
    records = [json.loads(x) for x in res.stdout.splitlines()]
    assert [r["type"] for r in events_of(records)][-3:] == ["onset", "offset", "stopped"]
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines()[-1] == \
        "error: cannot write /dev/full: No space left on device"
    assert res.stderr.count("cannot write --out /dev/full any more") == 1


def test_a_video_shorter_than_the_warmup_says_nothing_was_scored(episode_clip):
    res = subprocess.run([EXE, "watch", str(episode_clip), "--warmup", "60"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0
    assert "ended before the neutral was calibrated" in res.stderr
    assert "--warmup asks for 60 s): no frame was scored" in res.stderr
    readings = [json.loads(x) for x in res.stdout.splitlines()]
    assert all(r.get("pspi") is None for r in readings if r["kind"] == "reading")


def _reader_goes_away(proc: subprocess.Popen, after_lines: int, timeout: float) -> str:
    """Read ``after_lines`` JSON lines of ``watch``'s stdout, then close it (`watch ... |
    head -N`); once it has ended, its stderr."""
    try:
        for _ in range(after_lines):
            json.loads(proc.stdout.readline())
        proc.stdout.close()
        proc.wait(timeout=timeout)
    finally:
        proc.kill()
    return proc.stderr.read()


def test_a_closed_stdout_does_not_stop_the_other_outputs(episode_clip, tmp_path):
    """`watch ... --out F | head`: stdout's reader goes away, the monitoring and --out go
    on to the end of the video, with a warning."""
    out = tmp_path / "night.jsonl"
    proc = start(str(episode_clip), "--out", str(out), "--calibrate", "4")
    stderr = _reader_goes_away(proc, after_lines=1, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in stderr
    assert "standard output was closed; monitoring goes on" in stderr
    assert "stopped (end_of_video)" in stderr
    records = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["type"] for r in events_of(records)][-3:] == ["onset", "offset", "stopped"]


def test_a_closed_stdout_stops_it_quietly(episode_clip):
    proc = start(str(episode_clip), "--realtime", "--every", "0.1")
    stderr = _reader_goes_away(proc, after_lines=3, timeout=20)
    assert proc.returncode == 0 and "Traceback" not in stderr
    assert "stopped (output_closed)" in stderr
