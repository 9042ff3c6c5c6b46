"""Alerts delivered to a real receiver on loopback: outages, restarts, bad receivers,
secrets, and the authenticated local feed."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import httpx
import pytest
from live_scenes import free_port

from painvision.errors import InputError
from painvision.io.video import iter_frames, loop_video, probe_video
from painvision.live.notify import Notifier, Outbox, read_secret
from painvision.live.server import Hub, LocalServer

pytestmark = pytest.mark.mediapipe

EXE = str(Path(sys.executable).with_name("painvision"))


class Receiver:
    """An HTTP server on loopback that records what is POSTed to it; it can be stopped
    and started again on the same port, answer with an error, or hang."""

    def __init__(self, port: int | None = None, mode: str = "ok") -> None:
        self.port = port or free_port()
        self.mode = mode
        self.received: list[dict] = []
        self._server: ThreadingHTTPServer | None = None
        self._release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/alerts"

    def start(self) -> Receiver:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.mode == "hang":
                    outer._release.wait(30)
                    return
                if outer.mode in ("500", "404"):
                    self.send_response(int(outer.mode))
                    self.end_headers()
                    return
                if outer.mode == "garbage":
                    self.wfile.write(b"\x00\x01 not http at all\r\n\r\n")
                    return
                outer.received.append({"key": self.headers.get("Idempotency-Key"),
                                       "headers": dict(self.headers),
                                       "body": json.loads(body)})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._release = threading.Event()

    def unique(self) -> list[dict]:
        """What was received, duplicates (same key) dropped, in arrival order."""
        seen, out = set(), []
        for r in self.received:
            if r["key"] not in seen:
                seen.add(r["key"])
                out.append(r)
        return out


def keys_in(outbox: Path, delivered: bool | None = None) -> list[tuple[str, str]]:
    if not outbox.exists():
        return []
    with sqlite3.connect(outbox) as db:
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'"
                      ).fetchone() is None:
            return []  # the file is made before its table: the watch is still starting
        q = "SELECT key, type FROM outbox"
        if delivered is not None:
            q += " WHERE delivered IS " + ("NOT NULL" if delivered else "NULL")
        return db.execute(q + " ORDER BY id").fetchall()


def test_a_receiver_down_for_30_s_gets_every_event_once_in_order(episode_clip, tmp_path):
    """A 42-s realtime run with three episodes; the receiver is down from 4 s to 34 s."""
    clip = tmp_path / "three.mp4"
    loop_video(episode_clip, clip, 3)
    rx = Receiver().start()
    box = tmp_path / "outbox.sqlite"
    proc = subprocess.Popen([EXE, "watch", str(clip), "--realtime", "--warmup", "4",
                             "--notify", rx.url, "--outbox", str(box), "--out",
                             str(tmp_path / "log.jsonl")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(4.0)
    rx.stop()
    time.sleep(30.0)
    rx.start()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    rx.stop()
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    sent_types = ("onset", "offset", "stopped")
    expected = [(e["type"], e["wall"]) for e in log
                if e["kind"] == "event" and e["type"] in sent_types]
    assert sum(t == "onset" for t, _ in expected) >= 3  # episodes during and after the outage
    got = [(r["body"]["type"], r["body"]["wall"]) for r in rx.unique()
           if r["body"]["type"] in sent_types]
    assert got == expected  # each once (after dropping repeated keys), in order
    assert keys_in(box, delivered=False) == []
    assert all(r["key"] == r["body"]["idempotency_key"] for r in rx.received)


def test_events_left_by_a_killed_watch_go_out_at_the_next_start(episode_clip, tmp_path):
    rx = Receiver()  # not listening yet: nothing can be delivered
    box = tmp_path / "outbox.sqlite"
    proc = subprocess.Popen([EXE, "watch", str(episode_clip), "--realtime", "--warmup", "4",
                             "--notify", rx.url, "--outbox", str(box), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not any(t == "onset" for _, t in keys_in(box)):
        assert proc.poll() is None and time.monotonic() < deadline, "no onset stored"
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    left = keys_in(box, delivered=False)
    assert [t for _, t in left][:2] == ["started", "onset"]
    rx.start()
    res = subprocess.run([EXE, "watch", str(episode_clip), "--warmup", "4", "--notify",
                          rx.url, "--outbox", str(box), "--quiet"],
                         capture_output=True, text=True, timeout=120)
    rx.stop()
    assert res.returncode == 0, res.stderr
    assert "undelivered event(s) from an earlier run" in res.stderr
    keys = [r["key"] for r in rx.unique()]
    assert keys[: len(left)] == [k for k, _ in left]  # the old ones first, in order
    assert keys_in(box, delivered=False) == []


@pytest.mark.parametrize("mode", ["hang", "500", "404", "garbage"])
def test_a_bad_receiver_never_holds_frames_up(episode_clip, tmp_path, mode):
    rx = Receiver(mode=mode).start()
    box = tmp_path / "outbox.sqlite"
    env = os.environ | {"PAINVISION_NOTIFY_TOKEN": "s3cret-token-value"}
    res = subprocess.run([EXE, "watch", str(episode_clip), "--warmup", "4", "--notify",
                          rx.url, "--outbox", str(box), "--every", "0"],
                         capture_output=True, text=True, timeout=120, env=env)
    rx.stop()
    assert res.returncode == 1, res.stderr  # undelivered at the end: a supervisor can tell
    readings = [json.loads(x) for x in res.stdout.splitlines()]
    readings = [r for r in readings if r["kind"] == "reading"]
    assert len(readings) > 150
    # a POST waits up to 5 s for an answer; no frame waited for one (a bound well under
    # that, and well over what a loaded 2-core machine adds: 303 ms was seen under load)
    assert max(r["latency_ms"] for r in readings) < 2500
    assert "s3cret-token-value" not in res.stderr  # secrets are never logged
    assert keys_in(box, delivered=False)  # kept for the next start


def test_the_body_is_signed_and_the_token_sent(tmp_path):
    rx = Receiver().start()
    key_file = tmp_path / "hmac.key"
    key_file.write_text("k3y\n")
    key_file.chmod(0o600)
    n = Notifier(Outbox(tmp_path / "o.sqlite"), rx.url, token="tok",
                 hmac_key=read_secret(key_file, "key")).start()
    n({"kind": "event", "type": "onset", "t": 1.0, "episode": 1})
    n({"kind": "event", "type": "something_else", "t": 0.0})  # not an alert: not sent
    n({"kind": "reading", "t": 1.0})
    assert n.close(flush_s=10) == 0
    rx.stop()
    (r,) = rx.received
    h = r["headers"]
    assert h["Authorization"] == "Bearer tok" and h["X-Painvision-Event-Type"] == "onset"
    raw = json.dumps(r["body"], separators=(",", ":")).encode()
    mac = hmac.new(b"k3y", h["X-Painvision-Timestamp"].encode() + b"." + raw,
                   hashlib.sha256).hexdigest()
    assert h["X-Painvision-Signature"] == f"sha256={mac}"


def test_secrets_come_from_files_or_the_environment(tmp_path, caplog, monkeypatch):
    f = tmp_path / "token"
    f.write_text("abc\n")
    f.chmod(0o644)
    with caplog.at_level("WARNING", logger="painvision.live.notify"):
        assert read_secret(f, "token") == "abc"
    assert "can be read by other users" in caplog.text and "abc" not in caplog.text
    monkeypatch.setenv("PV_TEST_TOKEN", " xyz ")
    assert read_secret(None, "token", "PV_TEST_TOKEN") == "xyz"
    (tmp_path / "empty").write_text("\n")
    for bad in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(InputError):
            read_secret(bad, "token")
    with pytest.raises(InputError):
        Notifier(Outbox(tmp_path / "o.sqlite"), "ftp://example.org/x")
    with pytest.raises(InputError, match="--notify-token-file") as err:  # never delivered
        Notifier(Outbox(tmp_path / "o.sqlite"), "http://nurse:pw@127.0.0.1:8771/x")
    assert "pw" not in str(err.value)


def test_the_local_feed_needs_the_token_on_every_v1_route():
    hub = Hub()
    hub.publish_reading({"kind": "reading", "t": 1.0, "pspi": 2.0})
    hub.status_fn = lambda: {"frames": 1}
    server = LocalServer(hub, "127.0.0.1", 0, token="right-token")  # 0: any free port
    server.start()
    assert server.port > 0  # the one the system gave, as watch prints it
    base = f"http://127.0.0.1:{server.port}"
    try:
        for path in ("/v1/latest", "/v1/status", "/v1/events", "/v1/nothing-here"):
            for headers in ({}, {"Authorization": "Bearer wrong"},
                            {"Authorization": "Basic right-token"}):
                r = httpx.get(base + path, headers=headers, timeout=5)
                assert r.status_code == 401, (path, headers)
                assert "pspi" not in r.text and "frames" not in r.text
        ok = {"Authorization": "Bearer right-token"}
        assert httpx.get(base + "/v1/latest", headers=ok, timeout=5).json()["pspi"] == 2.0
        assert httpx.get(base + "/v1/status", headers=ok, timeout=5).json() == {"frames": 1}
        assert httpx.get(base + "/healthz", timeout=5).status_code == 200  # open
        assert httpx.head(base + "/healthz", timeout=5).status_code == 200  # probes use HEAD
    finally:
        hub.close()
        server.stop()


def test_serving_beyond_loopback_needs_a_token_or_insecure(episode_clip, tmp_path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([EXE, "watch", str(episode_clip), "--quiet", *args],
                              capture_output=True, text=True, timeout=120)

    res = run("--serve", f"0.0.0.0:{free_port()}")
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert res.returncode == 2 and len(lines) == 1 and "--token-file" in lines[0], res.stderr
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    token.chmod(0o600)
    for extra in (["--token-file", str(token)], ["--insecure"]):
        res = run("--serve", f"0.0.0.0:{free_port()}", *extra)
        assert res.returncode == 0, res.stderr
    res = run("--token-file", str(token))  # without --serve
    assert res.returncode == 2 and "apply to --serve" in res.stderr


def test_no_patient_face_is_announced_once_and_its_return(tmp_path):
    """A clip whose face is hidden for 12 s in the middle."""
    from live_scenes import episode_script

    from painvision.live import NeutralPolicy, PainMonitor
    from painvision.live.sources import parse_source
    from painvision.live.watch import StopFlag, run_watch
    from painvision.synth.render import render_clip

    clip = render_clip("astronaut", episode_script(8.0), tmp_path / "a.mp4", size=(320, 240),
                       seed=3)
    fps = probe_video(clip).fps
    frames = [f.image_bgr for f in iter_frames(clip)]
    writer = cv2.VideoWriter(str(tmp_path / "gap.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                             (320, 240))
    blank = frames[0] * 0 + 90
    for f in frames[:60] + [blank] * int(12 * fps) + frames[60:]:
        writer.write(f)
    writer.release()
    records: list[dict] = []
    with PainMonitor(neutral_policy=NeutralPolicy(warmup_s=2.0)) as m:
        run_watch(m, parse_source(str(tmp_path / "gap.mp4")), sinks=[records.append],
                  stop=StopFlag())
    events = [r for r in records if r["kind"] == "event"]
    from painvision import __version__

    assert events[0]["type"] == "started" and events[0]["painvision_version"] == __version__
    lost = [e for e in events if e["type"] == "no_patient_face"]
    back = [e for e in events if e["type"] == "patient_face_restored"]
    assert len(lost) == 1 and len(back) == 1
    assert lost[0]["t"] == pytest.approx(60 / fps + 10.0, abs=0.2)
    assert back[0]["missing_s"] == pytest.approx(12.0, abs=0.3)


def test_a_port_in_use_is_not_the_receiver():
    """free_port gives a port nobody listens on: a sanity check of the helper above."""
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", free_port())) != 0


def test_fhir_observations_are_posted_and_validate(episode_clip, tmp_path):
    from fhir.resources.R4B.observation import Observation

    rx = Receiver().start()
    res = subprocess.run([EXE, "watch", str(episode_clip), "--warmup", "4", "--notify", rx.url,
                          "--notify-format", "fhir", "--patient-ref", "Patient/p-12",
                          "--device-ref", "Device/bed-12", "--outbox",
                          str(tmp_path / "o.sqlite"), "--quiet"],
                         capture_output=True, text=True, timeout=120)
    rx.stop()
    assert res.returncode == 0, res.stderr
    got = rx.unique()
    assert all(r["headers"]["Content-Type"] == "application/fhir+json" for r in got)
    obs = [Observation.model_validate(r["body"]) for r in got]
    assert all(o.subject.reference == "Patient/p-12" for o in obs)
    kinds = [r["headers"]["X-Painvision-Event-Type"] for r in got]
    onset, offset = obs[kinds.index("onset")], obs[kinds.index("offset")]
    assert onset.status == "preliminary" and offset.status == "final"
    assert onset.id == offset.id  # the final one replaces the preliminary one
    bad = subprocess.run([EXE, "watch", str(episode_clip), "--notify", rx.url,
                          "--notify-format", "fhir", "--patient-ref", "not a reference",
                          "--outbox", str(tmp_path / "b.sqlite")],
                         capture_output=True, text=True, timeout=60)
    lines = [x for x in bad.stderr.splitlines() if x.strip()]
    assert bad.returncode == 2 and len(lines) == 1 and "patient reference" in lines[0], bad.stderr


def test_the_status_shows_the_backlog_and_the_last_error(tmp_path):
    rx = Receiver(mode="500").start()
    n = Notifier(Outbox(tmp_path / "o.sqlite"), rx.url).start()
    for k in range(3):
        n({"kind": "event", "type": "camera_lost", "t": float(k), "wall": 1e9 + k})
    deadline = time.monotonic() + 10
    while n.status()["failures"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    st = n.status()
    assert st["backlog"] == 3 and st["delivered"] == 0 and st["last_error"] == "HTTP 500"
    assert st["url_host"] == "127.0.0.1" and "token" not in json.dumps(st)
    rx.mode = "ok"
    assert n.close(flush_s=10) == 0  # close() retries at once instead of waiting out backoff
    rx.stop()
    assert n.status()["delivered"] == 3 and [r["body"]["t"] for r in rx.received] == [0, 1, 2]


def test_warnings_show_before_any_face_and_bad_places_are_one_line(no_face_clip, tmp_path):
    """MediaPipe's native start-up notes are muted until a face is seen, which with an
    empty bed may be never: painvision's own warnings must still show meanwhile."""
    rx = Receiver()  # never started: every delivery fails
    res = subprocess.run([EXE, "watch", str(no_face_clip), "--realtime", "--notify", rx.url,
                          "--outbox", str(tmp_path / "o.sqlite"), "--quiet",
                          "--serve", f"127.0.0.1:{free_port()}"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, res.stderr  # undelivered at the end
    assert "serving on http://127.0.0.1:" in res.stderr, res.stderr
    assert "not delivered yet" in res.stderr
    assert "XNNPACK" not in res.stderr  # MediaPipe's own notes stay muted
    for args in (["--notify", rx.url, "--outbox", "/proc/no/such/o.sqlite", "--quiet"],
                 ["--out", "/proc/no/such/log.jsonl"]):
        bad = subprocess.run([EXE, "watch", str(no_face_clip), *args],
                             capture_output=True, text=True, timeout=60)
        lines = [x for x in bad.stderr.splitlines() if x.strip()]
        assert bad.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:"), \
            bad.stderr


def test_an_outbox_error_does_not_end_the_delivery(tmp_path, caplog):
    """The outbox's database fails once as a full disk makes it fail (injected into the
    real outbox); the delivery thread logs it and goes on, and every event arrives."""
    rx = Receiver().start()
    n = Notifier(Outbox(tmp_path / "o.sqlite"), rx.url)
    real_delivered, calls = n.outbox.delivered, []

    def delivered(row_id):
        calls.append(row_id)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database or disk is full")
        return real_delivered(row_id)

    n.outbox.delivered = delivered
    n.start()
    n({"kind": "event", "type": "onset", "t": 0.0, "wall": 1e9})
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.05)
    n({"kind": "event", "type": "offset", "t": 5.0, "wall": 1e9 + 5})
    assert n.close(flush_s=10) == 0
    rx.stop()
    assert [r["body"]["type"] for r in rx.unique()] == ["onset", "offset"]
    assert "database or disk is full" in caplog.text
    assert n.status()["last_error"] == "outbox: database or disk is full"


def test_an_output_that_fails_does_not_keep_an_alert_from_the_others(tmp_path, caplog):
    """The outputs of ``watch`` in the order it adds them: stdout, --out, --notify. One
    that raises (an outbox whose disk is full) is logged; the ones after it still get the
    alert."""
    import io

    from painvision.live.watch import JsonLines, _Emitter

    def full_outbox(record: dict) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    before, after = io.StringIO(), io.StringIO()
    emit = _Emitter([JsonLines(before), full_outbox, JsonLines(after)], None)
    emit.event("onset", {"t": 1.0})
    assert [json.loads(s)["type"] for s in (before.getvalue(), after.getvalue())] == \
        ["onset", "onset"]
    assert "database or disk is full" in caplog.text
