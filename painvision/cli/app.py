"""``painvision`` command line."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from painvision._version import __version__
from painvision.errors import PainVisionError
from painvision.extras import MissingExtraError, extra_for_module, require

app = typer.Typer(
    name="painvision",
    help="Facial pain (PSPI and its action units) from video, on a CPU.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out_console = Console()
err_console = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _check_output(path: Path | None, option: str, overwrite: bool | None = False,
                  advice: str = "pass --overwrite to replace it") -> None:
    """Before any work: a file can be written at ``path`` (given with ``option``). Not a
    folder; not an existing file unless ``overwrite`` (None: the command appends to it);
    and its folder, or the nearest one above it that exists (the rest is made when the
    file is written), takes new files. Anything else is ``_fail``'s one line."""
    if path is None:
        return
    if path.is_dir():
        raise _fail(f"{option} {path} is a folder: give the name of a file")
    if path.exists() and overwrite is False:
        raise _fail(f"{path} exists; {advice}")
    if path.exists() and overwrite is None:  # appended to: the file itself must take it
        if not os.access(path, os.W_OK):
            raise _fail(f"cannot write {option} {path}: permission denied")
        return
    _check_writable(path, path.parent, option)


def _check_distinct(outputs: list[tuple[str, Path | None]], inputs: tuple[Path, ...] = ()
                    ) -> None:
    """Before any work: no two outputs are the same file (one would be lost), and no output
    is a file the command reads (``inputs``: a watch log would be replaced by its own
    report)."""
    read = {p.resolve(): p for p in inputs}
    seen: dict[Path, str] = {}
    for option, path in outputs:
        if path is None:
            continue
        key = path.resolve()
        if key in read:
            raise _fail(f"{option} {path} is the file being read ({read[key]}): choose "
                        f"another {option}")
        if key in seen:
            raise _fail(f"{seen[key]} and {option} are the same file ({path}): give each "
                        "its own name")
        seen[key] = option


def _check_writable(path: Path, folder: Path, option: str) -> None:
    """``folder``, or the nearest folder above it that exists, takes new files."""
    import tempfile

    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise _fail(f"cannot write {option} {path}: {folder} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise _fail(f"cannot write {option} {path}: {exc.strerror or exc}") from None


def _check_output_folder(path: Path, option: str) -> None:
    """Before any work: ``path`` is, or can be made as, a folder that takes new files."""
    if path.exists() and not path.is_dir():
        raise _fail(f"{option} {path} exists and is not a directory")
    _check_writable(path, path, option)


def _cannot_write(exc: OSError, target: Path) -> typer.Exit:
    """An output that failed while being written (a disk that filled up): one line that
    names the output (the error itself may name a temporary file, or nothing)."""
    return _fail(f"cannot write {target}: {exc.strerror or exc}", 1)


def _finite(value: float | None) -> float | None:
    """A float option's check beside its range: NaN passes any range, inf an open one."""
    import math

    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"expected a finite number, got {value}")
    return value


def _pspi_level(value: float) -> float:
    if not 0 < value <= 16:  # NaN too
        raise typer.BadParameter(f"expected a PSPI level in (0, 16], got {value}")
    return value


def _version(value: bool) -> None:
    if value:
        out_console.print(f"painvision {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def parse_neutral(value: str | None) -> tuple[float, float] | None:
    """``"START:END"`` seconds -> (start, end)."""
    if value is None:
        return None
    parts = value.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        start, end = float(parts[0]), float(parts[1])
    except ValueError:
        raise typer.BadParameter(f"expected START:END in seconds (e.g. 0:3), got {value!r}",
                                 param_hint="--neutral") from None
    if not (0 <= start < end):
        raise typer.BadParameter(f"expected 0 <= START < END, got {value!r}",
                                 param_hint="--neutral")
    return start, end


def opencv_one_thread() -> None:
    """OpenCV's own thread pool costs more than it gives here: its workers wait actively
    after each small parallel job (a colour conversion, a resize), so with one thread the
    sample's 96-s loop runs 10 % faster with 20 % less CPU (5.3 s against 5.9 s; 6.2 s of
    CPU against 7.8 s) and ``--jobs`` workers do not steal each other's cores."""
    import cv2

    cv2.setNumThreads(1)


#: The name mkdtemp gives a video's hidden folder after ``.<stem>.``: 8 random
#: characters, then ``.tmp``.
_STAGE_TAIL = re.compile(r"[a-z0-9_]{8}\.tmp")


def _stage(out: Path, stem: str) -> tuple[Path, int]:
    """A hidden folder in ``out`` for a video's outputs until they are moved into place,
    and a descriptor that holds a lock on it while it is in use: the kernel lets the lock
    go when the process ends, however it ends, so the next run can tell a folder left by
    a run that was killed outright (SIGKILL, out of memory) from one in use."""
    import fcntl
    import tempfile

    stage = Path(tempfile.mkdtemp(prefix=f".{stem}.", suffix=".tmp", dir=out))
    fd = os.open(stage, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # a file system without locks: no sweep can take it either
        pass
    return stage, fd


def _sweep_stale(out: Path, stems: list[str]) -> list[Path]:
    """Remove the hidden folders in ``out`` that killed runs left for these stems: a
    folder (not a link) named as ``_stage`` names them, whose lock nobody holds."""
    import fcntl
    import glob
    import shutil

    removed = []
    for stem in stems:
        head = f".{stem}."
        for d in out.glob(glob.escape(head) + "*.tmp"):
            if (not _STAGE_TAIL.fullmatch(d.name[len(head):]) or d.is_symlink()
                    or not d.is_dir()):
                continue
            try:
                fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # in use: raises
                shutil.rmtree(d, ignore_errors=True)
            except OSError:
                continue
            finally:
                os.close(fd)
            if not d.exists():
                removed.append(d)
    return removed


def _failed(video: Path, message: str) -> tuple:
    """``_analyze_one``'s result for a video that failed: its one error line."""
    return video, None, None, None, message


def _analyze_one(video: Path, out: Path, kwargs: dict) -> tuple:
    """Analyse one video and write its outputs, all or none: they are written into a
    hidden folder in ``out`` and moved into place once all are there, so an error, a bug
    or Ctrl-C leaves nothing of them behind. Errors come back as text (picklable)."""
    import gc
    import shutil

    from painvision.fileio import move_all
    from painvision.pipeline import analyze_video

    opencv_one_thread()
    kwargs = dict(kwargs)
    visuals = kwargs.pop("visuals", None)  # --plot/--overlay/--report: painvision.report
    fhir = kwargs.pop("fhir", None)  # --fhir: painvision.report.outputs.FhirExport
    try:
        analysis = analyze_video(video, **kwargs)
    except PainVisionError as exc:
        return _failed(video, str(exc))
    stage, lock = None, -1
    # Writing the outputs allocates much (the plot above all), which sets off full garbage
    # collections that re-scan every object the run has made long-lived (MediaPipe,
    # PyTorch, matplotlib): about 40 ms on the sample. Those objects sit out the
    # collections until the files are written, then rejoin them (gc.unfreeze), so no
    # garbage is kept for good.
    gc.freeze()
    try:
        with _signals_held():  # a stop now would leave the folder made but not yet named
            stage, lock = _stage(out, video.stem)
        analysis.to_csv(stage / f"{video.stem}.csv")
        analysis.to_json(stage / f"{video.stem}.json")
        if visuals:
            visuals.write(analysis, video, stage)
        if fhir:
            fhir.write(analysis, video, stage)
        with _signals_held():  # all of a video's files are in place, or none
            aside = stage / ".replaced"
            aside.mkdir()
            move_all(sorted(p for p in stage.iterdir() if p != aside), out, aside)
    except PainVisionError as exc:
        return _failed(video, str(exc))
    except OSError as exc:
        # a move names (source, target): the target of a move into place, the user's file
        # of one aside into the hidden folder; anything else is the folder's
        where = f"into {out}"
        if exc.filename2:
            where = exc.filename2 if Path(exc.filename2).parent == out else exc.filename
        return _failed(video, f"cannot write {where}: {exc.strerror or exc}")
    finally:
        gc.unfreeze()
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
            os.close(lock)
    return video, analysis.summary, out / f"{video.stem}.csv", out / f"{video.stem}.json", None


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and kills (SIGINT, SIGTERM, SIGHUP) that come during the block take effect
    once it is done: their Python handlers run then, in order received (the first that
    raises ends it). Only the main thread can set handlers; elsewhere nothing is held."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[tuple[int, object]] = []
    previous = {}
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        handler = signal.getsignal(s)
        if callable(handler):  # a default or ignored signal stays as it is
            previous[s] = handler
            signal.signal(s, lambda signum, frame: caught.append((signum, frame)))
    try:
        yield
    finally:
        # every handler is put back even if a signal's own handler raises meanwhile
        # (a second Ctrl-C once SIGINT's is back); then the held ones run
        raised: BaseException | None = None
        for s, handler in previous.items():
            try:
                signal.signal(s, handler)
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                raised = raised or exc
                signal.signal(s, handler)
        if raised is not None:
            raise raised
        for signum, frame in caught:
            previous[signum](signum, frame)


def _fhir_export(on: bool, patient_ref: str | None, device_ref: str | None,
                 recorded_at: str | None):
    """``--fhir`` and its options, checked before any video is read (None without it)."""
    if on:
        require("fhir", "analyze --fhir")
    from painvision.errors import InputError
    from painvision.fhir import check_reference, parse_recorded_at
    from painvision.report.outputs import FhirExport

    if not on:
        if patient_ref or device_ref or recorded_at:
            raise InputError("--patient-ref, --device-ref and --recorded-at only apply to "
                             "--fhir")
        return None
    if not patient_ref:
        raise InputError("--fhir needs --patient-ref (e.g. Patient/123): whose episodes "
                         "they are")
    return FhirExport(check_reference(patient_ref, "Patient"),
                      device_ref and check_reference(device_ref, "Device"),
                      recorded_at and parse_recorded_at(recorded_at))


_progress_queue = None  # a worker process's line back to the parent's progress bar
_busy = False  # this worker is analysing a video (and may be writing its outputs)


def _init_worker(q) -> None:
    global _progress_queue
    _progress_queue = q
    # Ctrl-C reaches every process of the terminal's group: the parent alone takes it, and
    # stops the workers with SIGTERM, on which a busy one removes its unfinished outputs
    # (a terminal's hang-up too)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)


def _stop_worker(signum: int, _frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: the clean-up is not cut short
    if _busy:
        raise KeyboardInterrupt  # unwinds through _analyze_one's clean-up
    os._exit(128 + signum)


def _analyze_in_process(video: Path, out: Path, kwargs: dict) -> tuple:
    """``_analyze_one``, where anything unexpected (a bug, a full disk) on one video is
    its error line and the others go on."""
    try:
        return _analyze_one(video, out, kwargs)
    except ModuleNotFoundError as exc:
        extra = extra_for_module(exc.name)
        if extra is None:
            return _failed(video, f"{video}: internal error: {type(exc).__name__}: {exc}")
        return _failed(video, f"{video}: {MissingExtraError('this analysis', extra, exc.name)}")
    except Exception as exc:
        return _failed(video, f"{video}: internal error: {type(exc).__name__}: {exc}")


def _analyze_in_worker(k: int, video: Path, out: Path, kwargs: dict) -> tuple:
    """``_analyze_in_process`` in a ``--jobs`` worker, telling the parent how far it is."""
    global _busy
    last = [0]

    def on_progress(done: int, total: int) -> None:
        if done - last[0] >= 25 or done == total:  # one message every 25 frames
            _progress_queue.put((k, done))
            last[0] = done

    _busy = True
    try:
        return _analyze_in_process(video, out, kwargs | {"on_progress": on_progress})
    except KeyboardInterrupt:  # stopped by the parent: nothing written, nothing to return
        os._exit(128 + signal.SIGTERM)
    finally:
        _busy = False


class _Jobs:
    """Videos in worker processes (one face mesh each), reporting frames done for one
    progress bar. Started before the progress bar draws (``start``), so that no worker is
    forked while its drawing thread may hold a lock."""

    def __init__(self, todo: list[tuple[Path, int]], out: Path, kwargs: dict, jobs: int):
        self.todo, self.out, self.kwargs, self.jobs = todo, out, kwargs, jobs
        self.pool = None
        self.pending: dict = {}

    def start(self) -> _Jobs:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        if "fork" in mp.get_all_start_methods() and self.kwargs.get("scorer") != "model":
            # Forked workers start in milliseconds with MediaPipe already imported (a
            # fresh interpreter takes about a second, as long as a short video's
            # analysis). Safe here: nothing in this process has started a thread of its
            # own (numpy's OpenBLAS pool has, and is made safe to fork by OpenBLAS), a
            # MediaPipe graph, an OpenCV worker pool or PyTorch yet (the combined and
            # analytic scorers are numpy), and all workers start at the first submit.
            from painvision.landmarks.facemesh import _import_mediapipe

            _import_mediapipe("face_mesh")
            _import_mediapipe("face_detection")
            ctx = mp.get_context("fork")
        else:
            # the learned model's PyTorch must not be forked: workers start from a clean
            # process that has imported the pipeline once
            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(["painvision.pipeline", "painvision.cli.app"])
        self.queue = ctx.Queue()
        self.pool = ProcessPoolExecutor(self.jobs, mp_context=ctx, initializer=_init_worker,
                                        initargs=(self.queue,))
        self.pending = {self.pool.submit(_analyze_in_worker, k, v, self.out, self.kwargs): k
                        for k, (v, _) in enumerate(self.todo)}
        return self

    def collect(self, progress: Progress, task: object) -> list[tuple]:
        """Results as they finish (a worker that died is that video's error line);
        Ctrl-C cancels what has not started and stops the workers."""
        import queue
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        done_frames = [0] * len(self.todo)
        results = []
        try:
            while self.pending:
                finished, _ = wait(self.pending, timeout=0.2, return_when=FIRST_COMPLETED)
                while True:
                    try:
                        k, d = self.queue.get_nowait()
                    except queue.Empty:
                        break
                    done_frames[k] = max(done_frames[k], d)
                for f in finished:
                    k = self.pending.pop(f)
                    video = self.todo[k][0]
                    done_frames[k] = self.todo[k][1]
                    try:
                        results.append(f.result())
                    except BrokenProcessPool:
                        results.append(_failed(video, f"{video}: the worker process "
                                               "analysing it died (out of memory?)"))
                progress.update(task, completed=sum(done_frames))
        except BaseException:
            import time
            from multiprocessing.connection import wait as wait_for

            # taken before shutdown(), which forgets them
            procs = list((getattr(self.pool, "_processes", None) or {}).values())
            manager = getattr(self.pool, "_executor_manager_thread", None)
            self.pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                proc.terminate()
            # each removes its unfinished outputs, then exits (killed if it takes too long)
            left = {proc.sentinel: proc for proc in procs}
            deadline = time.monotonic() + 10
            while left and deadline > time.monotonic():
                for sentinel in wait_for(list(left), timeout=deadline - time.monotonic()):
                    del left[sentinel]
            for proc in left.values():
                proc.kill()
            # Let the pool's manager thread see its workers gone and close its wake-up pipe
            # now. At exit Python 3.11 wakes that thread through the pipe, and when the
            # thread closes it at that same moment, "Exception ignored ... Bad file
            # descriptor" is printed after our one line (seen once in 40 Ctrl-Cs under load)
            if manager is not None:
                manager.join(timeout=5)
            raise
        self.pool.shutdown(wait=True)
        return results


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (innermost first), each only while it is an empty folder."""
    for f in folders:
        try:
            f.rmdir()
        except OSError:  # not empty, already gone, or not ours to remove
            return


def _run_analyses(todo: list, out: Path, kwargs: dict, workers, progress: Progress,
                  stopped_by: list[int], on_interrupt: Callable[[], None]) -> list[tuple]:
    """Every video of ``todo``, in ``workers`` or here, under one progress bar;
    ``on_interrupt`` runs once the work has stopped after Ctrl-C or a kill."""
    with progress:
        label = todo[0][0].name if len(todo) == 1 else f"{len(todo)} videos"
        task = progress.add_task(label, total=sum(n for _, n in todo))
        try:
            if workers is not None:
                found = workers.collect(progress, task)
            else:
                found, base = [], 0
                for video, frames in todo:
                    def on_progress(d: int, total: int, _base=base) -> None:
                        progress.update(task, completed=_base + d)

                    found.append(_analyze_in_process(video, out,
                                                     kwargs | {"on_progress": on_progress}))
                    base += frames
                    progress.update(task, completed=base)
        except KeyboardInterrupt:  # Ctrl-C: typer would exit 130 without a word
            progress.stop()
            err_console.print("interrupted: the videos not finished have no output files",
                              highlight=False)
            on_interrupt()
            if workers is None and _command_line:  # MediaPipe ran in this process
                _exit_now(128 + int(stopped_by[0]))
            raise typer.Exit(128 + int(stopped_by[0])) from None
    return found


def _exit_now(code: int) -> NoReturn:
    """Leave at once, once everything of ours is cleaned up and said (Ctrl-C, a kill).

    The interpreter's own shutdown is skipped: after an interrupt a native thread of
    MediaPipe, OpenCV or FFmpeg may still be winding down, and C++ destructors run at exit
    then abort the process ("terminate called without an active exception", exit -6
    instead of 130): seen once in 60 Ctrl-Cs while an overlay was written, under load.
    Not with ``--jobs`` workers: the parent runs no MediaPipe, and its multiprocessing
    clean-up (semaphores, the forkserver) must run. Only as the ``painvision`` command.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(code)


@app.command()
def analyze(
    videos: Annotated[list[Path], typer.Argument(
        help="Video files, folders of videos, or folders of frame images (one video each).",
        show_default=False)],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Directory for <stem>.csv and <stem>.json.")] = Path("out"),
    device: Annotated[str, typer.Option(
        help="For --scorer model: auto (CUDA when torch sees it, else the CPU) | cpu | cuda "
             "(an error where there is no CUDA). The other scorers and the face mesh run on "
             "the CPU.")] = "auto",
    neutral: Annotated[str | None, typer.Option(
        help="START:END seconds of a known neutral stretch used as the subject's baseline. "
             "Default: automatic (the subject's most frequent expression is taken as neutral).",
        show_default=False)] = None,
    stride: Annotated[int, typer.Option(min=1, help="Analyse every Nth frame.")] = 1,
    scorer: Annotated[str, typer.Option(
        help="combined (PSPI with pain_prob, which tells pain from laughing, yawning, "
             "crying...) | analytic (PSPI alone) | model (the learned temporal model).")
    ] = "combined",
    weights: Annotated[Path | None, typer.Option(
        help="Weights of the scorer: pain-evidence JSON for combined, model weights for "
             "model (default: the shipped ones).", show_default=False)] = None,
    max_faces: Annotated[int, typer.Option(min=1, max=10, help="Faces meshed per frame. 1: the "
                                           "subject alone, other people looked for about once "
                                           "a second (fastest); more: every face on every "
                                           "frame.")] = 1,
    overwrite: Annotated[bool, typer.Option(help="Replace existing output files.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Videos analysed at once, "
                                      "each in its own process with its own face mesh (about "
                                      "one CPU core each).")] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
    plot: Annotated[bool, typer.Option(
        "--plot", help="Also write OUT/<stem>.png: PSPI and pain_prob over time, the pain "
                       "episodes as the monitor would announce them, what PSPI is made of.")
    ] = False,
    overlay: Annotated[bool, typer.Option(
        "--overlay", help="Also write OUT/<stem>.overlay.mp4: the video with the tracked "
                          "mesh, a PSPI gauge, AU bars and an episode marker, every source "
                          "frame (with --stride N the last analysed reading is held), no "
                          "audio. The image is pixelated and the face masked, so it can be "
                          "shared; see --show-face.")] = False,
    report: Annotated[bool, typer.Option(
        "--report", help="Also write OUT/<stem>.html, a self-contained page (plot, episodes, "
                         "face coverage, calibration), and OUT/index.html for several videos.")
    ] = False,
    show_face: Annotated[bool, typer.Option(
        "--show-face", help="Draw the --overlay over the real image: it then shows the "
                            "patient's face and anyone else in view. Off by default.")
    ] = False,
    fhir: Annotated[bool, typer.Option(
        "--fhir", help="Also write OUT/<stem>.fhir.json: a FHIR R4 Bundle, one Observation "
                       "per pain episode and one for the video (needs --patient-ref).")
    ] = False,
    patient_ref: Annotated[str | None, typer.Option(
        "--patient-ref", help="With --fhir: the patient, Patient/<id> or an http(s) URL "
                              "to one.", show_default=False)] = None,
    device_ref: Annotated[str | None, typer.Option(
        "--device-ref", help="With --fhir: the camera or monitor, Device/<id>.",
        show_default=False)] = None,
    recorded_at: Annotated[str | None, typer.Option(
        "--recorded-at", help="With --fhir: when the recording started, ISO 8601 with its "
                              "offset (default: the file's modification time minus its "
                              "duration).", show_default=False)] = None,
) -> None:
    """Per-frame PSPI and action units for each VIDEO: writes OUT/<stem>.csv and OUT/<stem>.json."""
    from painvision.device import check_device_name, require_torch_device
    from painvision.features.baseline import MIN_AUTO_FRAMES
    from painvision.fileio import missing_folders
    from painvision.io.video import expand_inputs, probe_video
    from painvision.landmarks.facemesh import FaceMeshOptions
    from painvision.report.outputs import INDEX_NAME, Visuals
    from painvision.scoring import SCORERS, create_scorer

    neutral_s = parse_neutral(neutral)
    if scorer not in SCORERS:
        raise _fail(f"unknown scorer {scorer!r}: expected one of {', '.join(SCORERS)}")
    try:
        fhir_out = _fhir_export(fhir, patient_ref, device_ref, recorded_at)
    except PainVisionError as exc:
        raise _fail(str(exc)) from None
    videos = expand_inputs(videos)
    if fhir_out and fhir_out.recorded_at and len(videos) > 1:
        raise _fail("--recorded-at is one recording's start: give it one video at a time")
    _check_output_folder(out, "--out")
    visuals = Visuals(plot=plot, overlay=overlay, report=report, show_face=show_face)
    if show_face and not overlay:
        raise _fail("--show-face only applies to --overlay (the plot and the report hold no "
                    "image)")
    index = [INDEX_NAME] if report and len(videos) > 1 else []
    extra = (*visuals.suffixes(), *((fhir_out.SUFFIX,) if fhir_out else ()))
    # every file this run writes, by whom: two videos must not write the same name (a.mp4
    # and a.mov; a.mp4's a.fhir.json and a.fhir.mp4's), nor a video the overview page
    # (compared without case: on macOS and Windows A.mp4 and a.mov write one a.csv)
    owners: dict[str, tuple[str, Path | None]] = {n.casefold(): (n, None) for n in index}
    for v in videos:
        for ext in (".csv", ".json", *extra):
            name = f"{v.stem}{ext}"
            if name.casefold() in owners:
                other = owners[name.casefold()][1]
                raise _fail(f"{v} and {other if other is not None else 'the overview page'} "
                            f"would both write {name}; analyse them into different --out "
                            "directories")
            owners[name.casefold()] = (name, v)
    targets = [out / name for name, _ in owners.values()]
    # nor over a video being read (a.overlay.mp4 beside a.mp4, analysed into its folder)
    reading = {v.resolve() for v in videos}
    for target in targets:
        if target.resolve() in reading:
            raise _fail(f"{target} would be written over a video being analysed; choose "
                        "another --out")
    for target in targets:
        if target.is_dir():
            raise _fail(f"{target} is a folder: it is where an output file goes")
        if target.exists() and not overwrite:
            raise _fail(f"{target} exists; pass --overwrite to replace it "
                        "or choose another --out")
    try:
        options = FaceMeshOptions(max_faces=max_faces)
        check_device_name(device)  # a wrong name is an error with any scorer
        require_torch_device(device, scorer)
        # Loaded once, here: missing or unsafe weights fail before any video is read.
        # PyTorch is loaded only for the learned model; the others run on the CPU.
        loaded = create_scorer(scorer, weights=weights, device=device)
        device = loaded.device
    except PainVisionError as exc:
        raise _fail(str(exc)) from None

    def error(message: str) -> None:
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)

    # A video that cannot be opened is reported at once; the others go on.
    failed: list[tuple[str, str]] = []  # (video, why), for the error lines and the index

    def fail(video: Path, message: str) -> None:
        error(message)
        failed.append((video.name, message))

    todo: list[tuple[Path, int]] = []
    for v in videos:
        try:
            info = probe_video(v)
        except PainVisionError as exc:
            fail(v, str(exc))
            continue
        if neutral_s is not None and neutral_s[0] >= info.duration_s > 0:
            fail(v, f"{v}: --neutral {neutral_s[0]:g}:{neutral_s[1]:g} starts after the "
                    f"video ends ({info.duration_s:.1f} s)")
            continue
        if neutral_s is not None and neutral_s[1] > info.duration_s > 0:
            err_console.print(  # minutes given for seconds? the whole video is the neutral
                f"[bold yellow]warning:[/] {escape(str(v))}: --neutral {neutral_s[0]:g}:"
                f"{neutral_s[1]:g} runs past the video's end ({info.duration_s:.1f} s): the "
                f"neutral is {neutral_s[0]:g}-{info.duration_s:.1f} s (seconds, not minutes)",
                highlight=False, soft_wrap=True)
        todo.append((v, max(-(-info.frame_count // stride), 1)))
    made = missing_folders(out)
    if out.is_dir():
        for d in _sweep_stale(out, [v.stem for v, _ in todo]):
            err_console.print(f"[bold yellow]warning:[/] removed {d}, the unfinished outputs "
                              "of a run that was killed", highlight=False, soft_wrap=True)

    def discard_made() -> None:  # folders made for this run, if nothing came of it
        _remove_empty(made)

    if todo:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _fail(f"cannot create --out {out}: {exc.strerror or exc}") from None
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("frames"), TimeRemainingColumn(), console=err_console,
        disable=quiet or not todo,  # no video to read: no bar (nor its blank line)
        transient=True,
    )
    kwargs = {"device": device, "neutral": neutral_s, "stride": stride, "scorer": loaded,
              "face_mesh": options}
    if visuals:
        kwargs |= {"visuals": visuals, "keep_landmarks": overlay}
    if fhir_out:
        kwargs["fhir"] = fhir_out
    results = []
    workers = None
    if jobs > 1 and len(todo) > 1:
        # each process loads its own scorer; with a process for every core, each decodes
        # in line, since a decoding thread would only add hand-offs
        n = min(jobs, len(todo))
        workers = _Jobs(todo, out, kwargs | {"scorer": scorer, "weights": weights,
                                             "decode_thread": n < (os.cpu_count() or 1)},
                        n).start()
    # kill, timeout or a service stop unwinds like Ctrl-C: the workers are stopped and
    # nothing half-written is left
    stopped_by = [signal.SIGINT]

    def on_stop(signum: int, _frame: object) -> None:
        stopped_by[0] = signum
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, on_stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        found = _run_analyses(todo, out, kwargs, workers, progress, stopped_by, discard_made)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    order = {v: k for k, (v, _) in enumerate(todo)}
    for video, summary, csv_path, json_path, err in sorted(found, key=lambda r: order[r[0]]):
        if err:
            fail(video, err)
        else:
            results.append((video, summary, csv_path, json_path))

    for video, summary, _, _ in results:  # a face seen, nothing scored: say why
        if summary["pspi"]["mean"] is None and summary["face"]["share_detected"] > 0:
            base = summary["calibration"]["baseline"]
            why = (f"the automatic neutral needs {MIN_AUTO_FRAMES} usable frames of the face "
                   f"and there were {base['n_frames']}; give a smaller --stride, a longer "
                   "video or --neutral" if base["method"] == "auto_mode"
                   and base["n_frames"] < MIN_AUTO_FRAMES else
                   "the head was turned too far, or the face unreadable, in every frame "
                   "(see the CSV's quality_flags)")
            err_console.print(f"[bold yellow]warning:[/] {escape(str(video))}: no frame was "
                              f"scored: {why}", highlight=False, soft_wrap=True)
    if results and not quiet:
        table = Table(title="painvision analyze", title_justify="left")
        with_prob = any(r[1]["pain_prob"] for r in results)
        cols = ["video", "frames", "face", "mean PSPI", "p95", "max", "PSPI≥3"]
        for col in cols + (["pain_\nprob\n≥0.5"] if with_prob else []):
            table.add_column(col, justify="left" if col == "video" else "right",
                             no_wrap=col == "video")
        for video, summary, _, _ in results:
            p = summary["pspi"]

            def f(v: float | None) -> str:
                return "-" if v is None else f"{v:.2f}"

            table.add_row(
                video.name, str(summary["video"]["frames_analyzed"]),
                f"{100 * summary['face']['share_detected']:.0f}%",
                f(p["mean"]), f(p["p95"]), f(p["max"]),
                "-" if p["share_ge_3"] is None else f"{100 * p['share_ge_3']:.0f}%",
                *([] if not with_prob else [
                    "-" if not summary["pain_prob"] or summary["pain_prob"]["share_ge_0.5"] is None
                    else f"{100 * summary['pain_prob']['share_ge_0.5']:.0f}%"]),
            )
        out_console.print(table)
        first = results[0][1]
        model = first["model"]
        baseline = first["calibration"]["baseline"]["method"]
        out_console.print(f"scorer {model['scorer']}, baseline {baseline}, "
                          f"device {model['device']}")
        for video, _, csv_path, json_path in results:
            out_console.print(f"wrote {csv_path} and {json_path}", highlight=False)
            for ext in extra:
                out_console.print(f"wrote {out / (video.stem + ext)}", highlight=False)
    if index and results:
        from painvision.report.outputs import write_index

        try:
            path = write_index(out, [v.stem for v, *_ in results], failed=failed)
        except OSError as exc:
            raise _cannot_write(exc, out / INDEX_NAME) from None
        if not quiet:
            out_console.print(f"wrote {path}", highlight=False)
    if failed:
        discard_made()
        raise typer.Exit(1)


def parse_size(value: str) -> tuple[int, int]:
    """``"WxH"`` -> (W, H)."""
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise typer.BadParameter(f"expected WIDTHxHEIGHT (e.g. 480x360), got {value!r}",
                                 param_hint="--size") from None
    if not (64 <= w <= 4096 and 64 <= h <= 4096):
        raise typer.BadParameter(f"frame size must be 64-4096 pixels a side, got {value!r}",
                                 param_hint="--size")
    return w, h


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="New folder for the dataset.",
                                      show_default=False)],
    subjects: Annotated[int, typer.Option(
        min=1, help="Synthetic subjects (held-out ones included).")] = 8,
    minutes: Annotated[float, typer.Option(
        min=0.01, max=10_000.0, callback=_finite,
        help="Total minutes, shared by the subjects.")] = 4.0,
    render: Annotated[bool, typer.Option(
        help="Rendered videos (photos warped, camera degradations) instead of landmark "
             "sequences.")] = False,
    seed: Annotated[int, typer.Option(help="Everything is a function of the seed.")] = 0,
    heldout: Annotated[float, typer.Option(
        min=0.0, max=1.0, callback=_finite,
        help="Share of subjects in the held-out benchmark split (1: only held-out).")] = 0.25,
    fps: Annotated[float, typer.Option(min=1.0, max=120.0, callback=_finite,
                                       help="Frame rate.")] = 25.0,
    clip_seconds: Annotated[float, typer.Option(min=1.0, callback=_finite,
                                                help="Longest clip.")] = 30.0,
    size: Annotated[str, typer.Option(help="Frame size WIDTHxHEIGHT.")] = "480x360",
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = os.cpu_count() or 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Generate a synthetic pain dataset (labels, subjects, videos or landmarks) in OUT."""
    require("train", "painvision synth", needs=("scipy", "skimage"))
    from painvision.synth.dataset import SynthConfig, plan_clips, write_dataset

    _check_output_folder(out, "--out")
    try:
        cfg = SynthConfig(subjects=subjects, minutes=minutes, render=render, seed=seed,
                          heldout_share=heldout, fps=fps, clip_s=clip_seconds,
                          size=parse_size(size))
    except PainVisionError as exc:
        raise _fail(str(exc)) from None
    progress = Progress(
        TextColumn("[bold]synth"), BarColumn(), MofNCompleteColumn(), TextColumn("frames"),
        TimeRemainingColumn(), console=err_console, disable=quiet, transient=True,
    )
    try:  # write_dataset refuses a non-empty --out before doing any work
        with progress:
            task = progress.add_task("synth", total=None)
            write_dataset(out, cfg, workers=workers,
                          on_progress=lambda d, t: progress.update(task, completed=d, total=t))
    except PainVisionError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _cannot_write(exc, out) from None
    jobs = plan_clips(cfg)
    held = sorted({j.identity.subject for j in jobs if j.identity.split == "heldout"})
    if not quiet:
        kind = "rendered videos" if render else "landmark sequences"
        out_console.print(f"wrote {out}: {len(jobs)} clips of {kind}, "
                          f"{subjects - len(held)} training and {len(held)} held-out subjects")


def _train_progress(quiet: bool) -> tuple[Progress, Callable[[str, int, int], None]]:
    """A progress display for training and its ``on_progress(label, done, total)``."""
    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), console=err_console, transient=True,
                        disable=quiet)
    tasks: dict[str, TaskID] = {}

    def on_progress(label: str, done: int, total: int) -> None:
        if label not in tasks:
            tasks[label] = progress.add_task(label, total=total)
        progress.update(tasks[label], completed=done, total=total)

    return progress, on_progress


def _train_evidence(datasets: list[Path], out: Path, *, epochs: int | None, folds: int,
                    seed: int, workers: int, overwrite: bool, quiet: bool,
                    model_only: list[tuple[str, object]]) -> None:
    """``train --scorer combined``: the pain evidence (``classifier.evidence_train``)."""
    import json

    from painvision.classifier.evidence_train import EvidenceConfig, preflight, train_evidence
    from painvision.classifier.train import dataset_name, load_clips
    from painvision.datasets import item_labels, load_dataset
    from painvision.fileio import atomic_outputs, json_safe

    given = [name for name, value in model_only if value is not None]
    if given:
        raise _fail(f"{', '.join(given)} only appl{'ies' if len(given) == 1 else 'y'} to "
                    "--scorer model: the pain evidence is a small network trained on the CPU")
    if out.suffix.lower() != ".json":
        raise _fail(f"--out {out}: the pain evidence is a JSON file; name it .json")
    report_path = out.with_name(out.stem + ".report.json")
    _check_output(out, "--out", overwrite)
    _check_output(report_path, "--out", overwrite)
    cfg = EvidenceConfig(seed=seed, **({} if epochs is None else {"epochs": epochs}))
    prefix = len(datasets) > 1
    try:  # what the labels already say, before hours of MediaPipe
        preflight([[(f"{dataset_name(d)}/{i.subject}" if prefix else i.subject, i.split,
                     item_labels(i)["pain"]) for i in load_dataset(d)] for d in datasets],
                  folds, seed)
    except PainVisionError as exc:
        raise _fail(str(exc)) from None
    progress, on_progress = _train_progress(quiet)
    try:
        with progress:
            parts = [load_clips(d, on_progress=on_progress, workers=workers,
                                prefix_subjects=prefix) for d in datasets]
            evidence, report = train_evidence(
                parts, cfg, folds=folds, on_progress=on_progress,
                info={"name": out.stem, "trained_by": "painvision train --scorer combined"})
    except PainVisionError as exc:
        raise _fail(str(exc)) from None
    report["datasets"] = [{"path": str(d), **size}
                          for d, size in zip(datasets, report["datasets"], strict=True)]
    for warning in report["warnings"]:
        err_console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False,
                          soft_wrap=True)
    try:  # the weights and the report on them: both, or neither
        with atomic_outputs(out.parent) as stage:
            (stage / out.name).write_text(json.dumps(evidence.to_dict(), indent=1) + "\n",
                                          encoding="utf-8")
            (stage / report_path.name).write_text(
                json.dumps(json_safe(report), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise _cannot_write(exc, Path(f"{out} and {report_path.name}")) from None
    if quiet:
        return
    table = Table(title="painvision train --scorer combined (pain_prob, frames)",
                  title_justify="left")
    for col in ("evaluated on", "frames", "pain frames", "pain ROC-AUC", "pain F1",
                "non-pain < 0.5"):
        first = col == "evaluated on"
        table.add_column(col, justify="left" if first else "right", no_wrap=first)

    def row(name: str, m: dict) -> None:
        def f(v: object) -> str:
            return "-" if v is None else f"{v:.3f}"

        table.add_row(name, str(m["frames"]), str(m["pain_frames"]), f(m["roc_auc"]),
                      f(m["f1"]), f(m["non_pain_below"]))

    for fold in report["folds"]:
        row(f"fold {fold['fold']}", fold["metrics"])
    if "folds_pooled" in report:
        row("folds pooled", report["folds_pooled"])
    row("validation subjects", report["final"]["validation"])
    if "heldout" in report:
        row("held-out split", report["heldout"])
    out_console.print(table)
    if not report["folds"] and "heldout" not in report:
        out_console.print("the validation subjects also chose when to stop, so their numbers "
                          "flatter: --folds N tests every subject unseen", highlight=False,
                          soft_wrap=True)
    out_console.print(f"wrote {out} and {report_path}\n"
                      f"use it: painvision analyze VIDEO --weights {out}\n"
                      f"alarms and look-alikes: painvision bench accuracy DATASET "
                      f"--scorer combined --evidence {out}", highlight=False, soft_wrap=True)


@app.command()
def train(
    datasets: Annotated[list[Path], typer.Argument(help="Dataset folder(s): the generic "
                                                   "format, videos with <id>.labels.csv "
                                                   "beside each, or the UNBC-McMaster or "
                                                   "BioVid (part A) layout.",
                                                   show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Weights file to write: .pt for "
                                      "the model, .json for the pain evidence (a report goes "
                                      "beside it as <stem>.report.json).",
                                      show_default=False)],
    scorer: Annotated[str, typer.Option(
        help="What to train: 'model', the temporal model (--scorer model), or 'combined', "
             "the pain evidence that gives the default scorer its pain_prob; use the result "
             "with analyze / watch --weights.")] = "model",
    epochs: Annotated[int | None, typer.Option(
        min=1, help="Most epochs (early stopping on validation subjects). Default: 40 for "
                    "the model, 30 for each of the pain evidence's networks.",
        show_default=False)] = None,
    steps: Annotated[int | None, typer.Option(
        min=1, help="Batches per epoch (the model only). Default: 50.",
        show_default=False)] = None,
    folds: Annotated[int, typer.Option(min=0, help="Subject-grouped cross-validation folds "
                                       "(0: none; else at least 2).")] = 0,
    model: Annotated[str | None, typer.Option(
        help="Model variant (the model only). Default: tcn_small.", show_default=False)
    ] = None,
    device: Annotated[str | None, typer.Option(
        help="auto | cpu | cuda (the model only). Default: auto.", show_default=False)
    ] = None,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1, help="Random seed.")] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Processes for MediaPipe on video "
                                         "datasets.")] = os.cpu_count() or 1,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing weights file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")
    ] = False,
) -> None:
    """Train the temporal model, or the default scorer's pain evidence (--scorer combined),
    on DATASET(S); reports per fold and on the held-out split."""
    import json

    require("train", "painvision train", needs=("torch", "sklearn"))

    from painvision.classifier.registry import list_models
    from painvision.classifier.train import TrainConfig, dataset_name, load_clips, train_and_report
    from painvision.classifier.weights import save_weights
    from painvision.device import resolve_device
    from painvision.fileio import atomic_outputs

    seen: dict[Path, Path] = {}
    named: dict[str, Path] = {}
    for d in datasets:  # subjects are told apart by their dataset's name
        real, name = d.resolve(), dataset_name(d)
        if real in seen:
            raise _fail(f"{d} and {seen[real]}: the same dataset twice")
        if name in named:
            raise _fail(f"{d} and {named[name]}: two datasets named {name!r}, whose "
                        "subjects would be taken for the same people; give one another name "
                        "(a link will do)")
        seen[real] = named[name] = d
    if scorer not in ("model", "combined"):
        raise _fail(f"--scorer {scorer!r}: train makes 'model' (the temporal model) or "
                    "'combined' (its pain evidence); the analytic scorer has nothing to learn")
    if folds == 1:
        raise _fail("--folds must be 0 (no cross-validation) or at least 2")
    if scorer == "combined":
        _train_evidence(datasets, out, epochs=epochs, folds=folds, seed=seed, workers=workers,
                        overwrite=overwrite, quiet=quiet,
                        model_only=[("--steps", steps), ("--model", model),
                                    ("--device", device)])
        return
    epochs = 40 if epochs is None else epochs
    steps = 50 if steps is None else steps
    model = model or "tcn_small"
    device = device or "auto"
    if out.suffix.lower() in (".onnx", ".json"):  # weights files are read by their extension
        raise _fail(f"--out {out}: train writes PyTorch weights; name them .pt (painvision "
                    "export --format onnx makes the .onnx; --scorer combined writes the "
                    "pain evidence's .json)")
    report_path = out.with_name(out.stem + ".report.json")
    _check_output(out, "--out", overwrite)
    _check_output(report_path, "--out", overwrite)
    if model not in list_models():
        raise _fail(f"unknown model {model!r}: expected one of {', '.join(list_models())}")
    try:
        dev = resolve_device(device)
    except PainVisionError as exc:
        raise _fail(str(exc)) from None
    from painvision.datasets import is_biovid

    for d in datasets:  # said before hours of MediaPipe, not after
        if is_biovid(d):
            raise _fail(f"{d}: BioVid codes no PSPI or AUs, which the model learns; train the "
                        "pain evidence on it instead (--scorer combined)")
    cfg = TrainConfig(model=model, epochs=epochs, steps_per_epoch=steps, folds=folds, seed=seed)
    progress, on_progress = _train_progress(quiet)

    with progress:
        clips = []
        for d in datasets:
            clips += load_clips(d, on_progress=on_progress, workers=workers,
                                prefix_subjects=len(datasets) > 1)
        net, report = train_and_report(clips, cfg, dev, on_progress=on_progress)
    report["datasets"] = [str(d) for d in datasets]
    train_clips = [c for c in clips if c.split != "heldout"]
    pain_frames = sum(int((c.labels["pain"] > 0.5).sum()) for c in train_clips)
    subjects = len({c.subject for c in train_clips})
    for warning in (  # a model trained on this is not one to trust: say so, in time
            (pain_frames == 0, "the training split has no pain frame: the model cannot "
                               "learn pain from it"),
            (not report.get("final", {}).get("val_subjects", [None]),
             f"no validation subjects ({subjects} training subject(s)): early stopping "
             "could not work; give more subjects")):
        if warning[0]:
            err_console.print(f"[bold yellow]warning:[/] {warning[1]}", highlight=False,
                              soft_wrap=True)
    try:  # the weights and the report on them: both, or neither
        with atomic_outputs(out.parent) as stage:
            save_weights(stage / out.name, net, {
                "name": out.stem, "trained_by": "painvision train",
                "config": report["config"], "datasets": report["datasets"]})
            (stage / report_path.name).write_text(json.dumps(report, indent=2) + "\n",
                                                  encoding="utf-8")
    except OSError as exc:
        raise _cannot_write(exc, Path(f"{out} and {report_path.name}")) from None
    table = Table(title="painvision train", title_justify="left")
    for col in ("evaluated on", "frames", "PSPI MAE", "RMSE", "Pearson", "ICC(3,1)",
                "pain F1", "pain ROC-AUC"):
        table.add_column(col, justify="left" if col == "evaluated on" else "right")

    def row(name: str, m: dict) -> None:
        p, q = m["pspi"], m["pain_prob"]
        table.add_row(name, str(p["n"]), *(f"{p[k]:.3f}" for k in ("mae", "rmse", "pearson",
                                                                       "icc31")),
                      f"{q['f1']:.3f}", f"{q['roc_auc']:.3f}")

    for fold in report["folds"]:
        row(f"fold {fold['fold']}", fold["metrics"])
    if "heldout" in report:
        row("held-out split", report["heldout"])
    if not quiet:
        out_console.print(table)
        out_console.print(f"wrote {out} and {report_path}", highlight=False)


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="onnx | torchscript.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.", show_default=False)],
    weights: Annotated[Path | None, typer.Option(
        help="Weights (default: the shipped painvision-default.pt).", show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Export the model to ONNX or TorchScript (with a JSON description beside it)."""
    require("train", "painvision export", needs=("torch", "onnx"))
    from painvision.classifier.export import export_model
    from painvision.classifier.scorer import default_weights_path

    # --weights files are read by their extension: .onnx is ONNX, anything else PyTorch
    if (fmt == "onnx") != (out.suffix.lower() == ".onnx"):
        raise _fail(f"--out {out}: an ONNX export must end in .onnx, and only an ONNX export "
                    "(painvision reads a weights file by its extension)")
    _check_distinct([("--out", out)], inputs=(weights or default_weights_path(),))
    _check_output(out, "--out", overwrite)
    _check_output(Path(f"{out}.json"), "--out", overwrite)  # the description beside it
    try:
        path = export_model(weights or default_weights_path(), fmt, out)
    except OSError as exc:
        raise _cannot_write(exc, out) from None
    out_console.print(f"wrote {path} and {path}.json", highlight=False)


def parse_seconds(value: str, name: str, positive: bool = False) -> float:
    """``"0.5"`` or ``"0.5s"`` -> 0.5 (finite, >= 0; > 0 with ``positive``)."""
    import math

    v = value.strip().lower().removesuffix("s")
    try:
        out = float(v)
    except ValueError:
        raise typer.BadParameter(f"expected seconds such as 0.5 or 0.5s, "
                                 f"got {value!r}", param_hint=name) from None
    if not (math.isfinite(out) and (out > 0 if positive else out >= 0)):
        raise typer.BadParameter(f"expected a number of seconds {'> 0' if positive else '>= 0'}"
                                 f", got {value!r}", param_hint=name)
    return out


def parse_region(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in value.split(","))
    except ValueError:
        raise typer.BadParameter(f"expected X0,Y0,X1,Y1 as shares of the image "
                                 f"(e.g. 0.2,0,0.8,1), got {value!r}",
                                 param_hint="--bed-region") from None
    return x0, y0, x1, y1


@app.command()
def watch(
    source: Annotated[str, typer.Argument(
        help="Camera index (0), V4L2 device (/dev/video0), rtsp:// or http:// URL, "
             "or a video file.")],
    realtime: Annotated[bool, typer.Option(
        "--realtime", help="Play a video file at its own pace, as a camera would.")] = False,
    every: Annotated[str, typer.Option(
        "--every", metavar="SECONDS",
        help="Seconds between reading lines (events are always written).")] = "0.5",
    out: Annotated[Path | None, typer.Option(
        "--out", help="Also write the JSON lines to this file.")] = None,
    append: Annotated[bool, typer.Option(
        "--append", help="Add to an existing --out file instead of refusing it.")] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No JSON lines on stdout.")] = False,
    serve: Annotated[str | None, typer.Option(
        "--serve", help="HOST:PORT for the local HTTP feed (/healthz, /v1/latest, "
                        "/v1/status, /v1/events); 127.0.0.1 unless a host is given.")] = None,
    warmup: Annotated[str | None, typer.Option(
        "--warmup", metavar="SECONDS",
        help="Seconds of the patient's face that set the automatic neutral (default 10).",
        show_default=False)] = None,
    calibrate: Annotated[str | None, typer.Option(
        "--calibrate", metavar="SECONDS",
        help="Instead: the first SECONDS show the patient at rest.")] = None,
    scorer: Annotated[str, typer.Option(
        "--scorer", help="combined (default: an alarm needs PSPI and pain_prob, which tells "
                         "pain from laughing, yawning, crying...), analytic (PSPI alone) "
                         "or model.")] = "combined",
    evidence: Annotated[float | None, typer.Option(
        "--evidence", min=0.0, max=1.0, callback=_finite,
        help="Smoothed pain_prob needed, beside the PSPI threshold, for an episode to start "
             "(scorers with pain_prob; default 0.6).", show_default=False)] = None,
    weights: Annotated[Path | None, typer.Option(
        "--weights", help="Weights of the scorer: pain-evidence JSON for combined, model "
                          "weights for model (default: the shipped ones).",
        show_default=False)] = None,
    device: Annotated[str, typer.Option(
        "--device", help="For the model: auto (the CPU: faster one frame at a time), cpu, "
                         "cuda (an error where there is no CUDA).")] = "auto",
    threshold: Annotated[float, typer.Option(
        "--threshold", callback=_pspi_level,
        help="Smoothed PSPI at which an episode starts.")] = 3.0,
    refractory: Annotated[str, typer.Option(
        "--refractory", metavar="SECONDS",
        help="Pain returning within SECONDS of an offset is the same episode resuming "
             "(still announced at once).")] = "30",
    bed_region: Annotated[str | None, typer.Option(
        "--bed-region", help="X0,Y0,X1,Y1 (shares of the image): only a face centred "
                             "there can be the patient.")] = None,
    max_faces: Annotated[int, typer.Option(
        "--max-faces", min=1, max=10, help="Faces meshed per frame. 1: the patient alone, "
                                           "visitors looked for about once a second (fastest); "
                                           "more: every face on every frame.")] = 1,
    notify: Annotated[str | None, typer.Option(
        "--notify", help="POST every alert event (onset, offset, camera lost/restored, no "
                         "patient face, stopped) to this http(s) URL, through an outbox on "
                         "disk: in order, retried until taken, kept across restarts.",
        show_default=False)] = None,
    notify_format: Annotated[str, typer.Option(
        "--notify-format", help="json (the event as written on stdout) or fhir (FHIR R4 "
                                "Observations; needs --patient-ref).")] = "json",
    notify_token_file: Annotated[Path | None, typer.Option(
        "--notify-token-file", help="File whose first line is the bearer token sent with "
                                    "each POST (or set PAINVISION_NOTIFY_TOKEN).",
        show_default=False)] = None,
    notify_hmac_file: Annotated[Path | None, typer.Option(
        "--notify-hmac-file", help="File whose first line is the key each POST body is "
                                   "signed with, HMAC-SHA256 (or set "
                                   "PAINVISION_NOTIFY_HMAC_KEY).", show_default=False)] = None,
    outbox: Annotated[Path | None, typer.Option(
        "--outbox", help="The outbox file (default: one per --notify URL and source under "
                         "$PAINVISION_STATE_DIR or ~/.local/state/painvision).",
        show_default=False)] = None,
    patient_ref: Annotated[str | None, typer.Option(
        "--patient-ref", help="FHIR reference of the patient, e.g. Patient/123.",
        show_default=False)] = None,
    device_ref: Annotated[str | None, typer.Option(
        "--device-ref", help="FHIR reference of this bedside device, e.g. Device/bed-12.",
        show_default=False)] = None,
    token_file: Annotated[Path | None, typer.Option(
        "--token-file", help="File whose first line is the bearer token every /v1/ route of "
                             "--serve then requires (/healthz stays open).",
        show_default=False)] = None,
    insecure: Annotated[bool, typer.Option(
        "--insecure", help="Allow --serve on an address other than loopback without "
                           "--token-file.")] = False,
) -> None:
    """Monitor a patient live: JSON lines on stdout, optional local HTTP feed."""
    from painvision.device import require_torch_device
    from painvision.live import AlertPolicy, NeutralPolicy, PainMonitor
    from painvision.live.server import Hub, LocalServer, parse_bind
    from painvision.live.sources import parse_source
    from painvision.live.watch import JsonLines, StopFlag, run_watch

    require_torch_device(device, scorer)
    opencv_one_thread()
    spec = parse_source(source)
    every_s = parse_seconds(every, "--every")
    if evidence is not None and scorer == "analytic":
        raise _fail("--evidence is a pain_prob level: the analytic scorer gives none "
                    "(use --scorer combined or model)")
    evidence = AlertPolicy.evidence_threshold if evidence is None else evidence
    policy = AlertPolicy(onset_threshold=threshold,
                         offset_threshold=min(AlertPolicy.offset_threshold, threshold),
                         refractory_s=parse_seconds(refractory, "--refractory"),
                         evidence_threshold=evidence,
                         evidence_offset=min(AlertPolicy.evidence_offset, evidence))
    if warmup is not None and calibrate is not None:
        raise _fail("--warmup sets the automatic neutral and --calibrate replaces it: give "
                    "one of them")
    neutral_policy = NeutralPolicy() if warmup is None else NeutralPolicy(
        warmup_s=parse_seconds(warmup, "--warmup", positive=True))
    neutral: str | float = "auto" if calibrate is None else parse_seconds(
        calibrate, "--calibrate", positive=True)
    bind = parse_bind(serve) if serve else None
    if bind is not None:  # before anything is opened or written
        require("serve", "watch --serve")
    _check_distinct([("--out", out), ("--outbox", outbox)],
                    inputs=(Path(spec.target),) if spec.kind == "file" else ())
    _check_output(out, "--out", None if append else False,
                  advice="use --append to add to it, or choose another file")
    if append and out is None:
        raise _fail("--append applies to --out")
    if bind is None and (token_file is not None or insecure):
        raise _fail("--token-file and --insecure apply to --serve")
    if quiet and out is None and bind is None and notify is None:
        raise _fail("--quiet with neither --out, --serve nor --notify would output nothing")
    token = None
    if bind is not None:
        from painvision.live.notify import read_secret
        from painvision.live.server import is_loopback

        token = read_secret(token_file, "token")
        if not is_loopback(bind[0]) and token is None and not insecure:
            raise _fail(f"--serve {bind[0]} is reachable from the network: give "
                        "--token-file, or --insecure to serve without authentication")
    notifier = _make_notifier(notify, notify_format, notify_token_file, notify_hmac_file,
                              outbox, patient_ref, device_ref, source)
    monitor = PainMonitor(device, neutral, policy, scorer=scorer, weights=weights,
                          neutral_policy=neutral_policy, bed_region=parse_region(bed_region),
                          max_faces=max_faces)
    hub = Hub() if bind else None
    server = LocalServer(hub, *bind, token=token) if hub is not None and bind is not None \
        else None
    stop = StopFlag()
    others = out is not None or server is not None or notifier is not None

    def stdout_closed() -> None:  # `watch ... | head`
        if not others:
            stop.request("output_closed")  # nothing else to monitor for
        else:
            err_console.print("[bold yellow]warning:[/] standard output was closed; "
                              "monitoring goes on for the other outputs", highlight=False)

    stdout_sink = None if quiet else JsonLines(sys.stdout, on_closed=stdout_closed,
                                               name="standard output")
    sinks = [] if stdout_sink is None else [stdout_sink]

    def on_signal(signum: int, _frame: object) -> None:
        stop.request("signal")

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    log = None
    undelivered: list[int] = []  # events left in the outbox when the notifier closed
    try:
        if server is not None:
            server.start()
            err_console.print(f"serving on http://{server.host}:{server.port} "
                              "(/healthz, /v1/latest, /v1/status, /v1/events)", highlight=False)
        if out is not None:
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                log = open(out, "a", encoding="utf-8")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise _fail(f"cannot write --out {out}: {exc.strerror or exc}") from None
            sinks.append(log_sink := JsonLines(log, name=f"--out {out}"))
        if notifier is not None:
            sinks.append(notifier.start())
        summary = run_watch(monitor, spec, sinks=sinks, stop=stop, hub=hub,
                            realtime=realtime, every_s=every_s,
                            status_extra=None if notifier is None
                            else lambda: {"notify": notifier.status()})
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        # each is closed even if one before it fails (its error then goes on up)
        with contextlib.ExitStack() as closing:
            closing.callback(monitor.close)
            if log is not None:
                closing.callback(_close_quietly, log)  # a write error is in log_sink.error
            if server is not None:
                closing.callback(server.stop)
            if hub is not None:
                closing.callback(hub.close)
            if notifier is not None:
                closing.callback(notifier.outbox.close)
                closing.callback(lambda: undelivered.append(notifier.close()))
    err_console.print(f"stopped ({summary.stopped_by}): {summary.frames} frames, "
                      f"{summary.episodes} episode(s), {summary.camera_lost} camera loss(es)",
                      highlight=False)
    neutral_state = monitor.status()["neutral"]
    if not neutral_state["ready"] and summary.frames and summary.stopped_by != "output_closed":
        # nothing was scored: say so, rather than let "0 episode(s)" read as "no pain"
        err_console.print(
            f"[bold yellow]warning:[/] the stream ended before the neutral was calibrated "
            f"({neutral_state['frames']} frames of face seen; "
            f"{'--calibrate' if calibrate is not None else '--warmup'} asks for "
            f"{neutral if calibrate is not None else neutral_policy.warmup_s:g} s): "
            "no frame was scored", highlight=False, soft_wrap=True)
    if log is not None and log_sink.error is not None:
        raise _cannot_write(log_sink.error, out)
    if stdout_sink is not None and stdout_sink.error is not None:
        raise _cannot_write(stdout_sink.error, Path("standard output"))
    if any(undelivered):  # said above, in the notifier's warning
        raise typer.Exit(1)


def _close_quietly(stream) -> None:
    with contextlib.suppress(OSError):
        stream.close()


def _make_notifier(url: str | None, fmt: str, token_file: Path | None,
                   hmac_file: Path | None, outbox: Path | None, patient_ref: str | None,
                   device_ref: str | None, source: str):
    """The ``--notify`` delivery (None without it); every mistake a one-line error."""
    if url is None:
        if fmt != "json" or token_file or hmac_file or outbox or patient_ref or device_ref:
            raise _fail("--notify-format, --notify-token-file, --notify-hmac-file, --outbox, "
                        "--patient-ref and --device-ref apply to --notify")
        return None
    import hashlib

    from painvision.live.notify import Notifier, Outbox, read_secret

    try:
        to_fhir = None
        if fmt == "fhir":
            require("fhir", "watch --notify-format fhir")
            import fhir.resources.R4B.observation  # noqa: F401 - loaded now, not at the first alert

            from painvision.fhir import check_reference, event_resource

            if patient_ref is None:
                raise _fail("--notify-format fhir needs --patient-ref (e.g. Patient/123)")
            check_reference(patient_ref, "Patient")
            if device_ref is not None:
                check_reference(device_ref, "Device")
        token = read_secret(token_file, "notify token", "PAINVISION_NOTIFY_TOKEN")
        key = read_secret(hmac_file, "notify HMAC key", "PAINVISION_NOTIFY_HMAC_KEY")
        if outbox is None:
            state = Path(os.environ.get("PAINVISION_STATE_DIR")
                         or Path.home() / ".local" / "state" / "painvision")
            tag = hashlib.sha256(f"{url}\n{source}".encode()).hexdigest()[:12]
            outbox = state / f"outbox-{tag}.sqlite"
        box = Outbox(outbox)
        if fmt == "fhir":
            def to_fhir(record: dict) -> dict | None:
                return event_resource(record, patient_ref=patient_ref, device_ref=device_ref,
                                      session_id=box.session)
        notifier = Notifier(box, url, fmt=fmt, token=token, hmac_key=key, to_fhir=to_fhir)
    except PainVisionError as exc:
        raise _fail(str(exc)) from None
    left = box.backlog()
    if left:
        err_console.print(f"{left} undelivered event(s) from an earlier run in {outbox}: "
                          "sending them first", highlight=False)
    return notifier


@app.command("report")
def report_cmd(
    log: Annotated[Path, typer.Argument(help="JSON lines written by `painvision watch --out`.",
                                        show_default=False)],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="The HTML page to write (default: beside LOG as <stem>.html).",
        show_default=False)] = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", help="Also write the timeline as a PNG here.", show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace existing files.")] = False,
) -> None:
    """A night of monitoring as one self-contained page: timeline, episodes, camera losses."""
    from painvision.report.outputs import write_watch_report

    html_path = out if out is not None else log.with_suffix(".html")
    _check_distinct([("--out", html_path), ("--plot", plot)], inputs=(log,))
    _check_output(html_path, "--out", overwrite,
                  advice="pass --overwrite to replace it or choose another --out")
    _check_output(plot, "--plot", overwrite,
                  advice="pass --overwrite to replace it or choose another --plot")
    try:
        tl = write_watch_report(log, html_path, plot)
    except PainVisionError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _cannot_write(exc, html_path) from None
    out_console.print(f"wrote {html_path}" + (f" and {plot}" if plot else "")
                      + f": {len(tl.episodes)} episode(s), {len(tl.camera_lost)} camera "
                      "loss(es)", highlight=False)


bench_app = typer.Typer(help="Benchmarks: accuracy on labelled data, robustness to "
                             "camera problems, latency per stage.",
                        no_args_is_help=True)
app.add_typer(bench_app, name="bench")


def _pick_names(value: str, known: tuple[str, ...], what: str) -> tuple[str, ...]:
    """A comma-separated choice among ``known`` (or ``all``), in order, without repeats;
    anything else is ``_fail``'s one line."""
    chosen = known if value == "all" else tuple(
        dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [v for v in chosen if v not in known]
    if unknown or not chosen:
        raise _fail(f"unknown {what} {', '.join(unknown) or value!r}: expected a "
                    f"comma-separated list of {', '.join(known)}, or all")
    return chosen


def _counting(label: str, quiet: bool = False) -> Progress:
    """A transient bar that counts ``label`` (clips, runs) on stderr (none with ``quiet``)."""
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=err_console, transient=True,
                    disable=quiet)


def _write_reports(report: dict, text: str, json_out: Path | None, md_out: Path | None,
                   quiet: bool = False) -> None:
    import json

    from painvision.fileio import atomic_write_text, json_safe

    if not quiet:
        out_console.print(text, markup=False, highlight=False, soft_wrap=True)
    for path, content in ((json_out, lambda: json.dumps(json_safe(report), indent=2,
                                                        allow_nan=False) + "\n"),
                          (md_out, lambda: text)):
        if path:
            try:
                atomic_write_text(path, content())
            except OSError as exc:
                raise _cannot_write(exc, path) from None


#: ``bench``'s --json, --markdown and --overwrite.
_JsonOut = Annotated[Path | None, typer.Option("--json", help="Write the report as JSON.",
                                               show_default=False)]
_MdOut = Annotated[Path | None, typer.Option("--markdown", help="Write the tables as markdown.",
                                             show_default=False)]
_Overwrite = Annotated[bool, typer.Option(help="Replace existing --json or --markdown files.")]
_Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or tables on the "
                                      "terminal (the --json and --markdown files still).")]


def _check_reports(json_out: Path | None, md_out: Path | None, overwrite: bool) -> None:
    _check_distinct([("--json", json_out), ("--markdown", md_out)])
    _check_output(json_out, "--json", overwrite)
    _check_output(md_out, "--markdown", overwrite)


@bench_app.command("accuracy")
def bench_accuracy(
    dataset: Annotated[Path, typer.Argument(help="Dataset: generic format, videos with "
                                                  "<id>.labels.csv, or the UNBC-McMaster or "
                                                  "BioVid (part A) layout.",
                                            show_default=False)],
    scorer: Annotated[str, typer.Option(
        help="Scorers to compare, comma-separated (combined, analytic, model), or all.")
    ] = "combined,analytic",
    weights: Annotated[Path | None, typer.Option(help="Model weights (--scorer model).",
                                                 show_default=False)] = None,
    evidence: Annotated[Path | None, typer.Option(
        help="Pain-evidence weights (--scorer combined; default: the shipped ones).",
        show_default=False)] = None,
    split: Annotated[str | None, typer.Option(help="Only this split (train | heldout).",
                                              show_default=False)] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda.")] = "auto",
    boot: Annotated[int, typer.Option(min=0, help="Bootstrap resamples over subjects.")] = 1000,
    json_out: _JsonOut = None,
    md_out: _MdOut = None,
    overwrite: _Overwrite = False,
    quiet: _Quiet = False,
) -> None:
    """PSPI, AU, pain-detection and episode metrics of the scorers on DATASET."""
    require("bench", "painvision bench accuracy", needs=("sklearn", "scipy"))
    from painvision.bench.accuracy import accuracy_markdown, run_accuracy
    from painvision.datasets import load_dataset
    from painvision.device import check_device_name, require_torch_device
    from painvision.scoring import SCORERS

    chosen = _pick_names(scorer, SCORERS, "scorer")
    for option, given, needs in (("--weights", weights, "model"),
                                 ("--evidence", evidence, "combined")):
        if given is not None and needs not in chosen:  # it would be ignored, unsaid
            raise _fail(f"{option} is for the {needs} scorer, which --scorer "
                        f"{','.join(chosen)} leaves out: add {needs} to --scorer")
    _check_reports(json_out, md_out, overwrite)
    try:  # a dataset that is not one, or an empty split: one line before any work
        check_device_name(device)  # checked whichever scorers run, as analyze does
        require_torch_device(device, "model" if "model" in chosen else chosen[0])
        if not load_dataset(dataset, split):
            raise _fail(f"{dataset}: no clips" + (f" in split {split!r}" if split else ""))
    except PainVisionError as exc:
        raise _fail(str(exc)) from None
    progress = _counting("clips", quiet)
    with progress:
        task = progress.add_task("clips", total=None)
        report = run_accuracy(dataset, chosen, weights=weights, evidence=evidence, split=split,
                              device=device, n_boot=boot,
                              on_progress=lambda d, t: progress.update(task, completed=d, total=t))
    _write_reports(report, accuracy_markdown(report), json_out, md_out, quiet)


@bench_app.command("robustness")
def bench_robustness(
    dataset: Annotated[Path, typer.Argument(help="Labelled dataset with videos (generic "
                                            "format, e.g. from painvision synth --render).",
                                            show_default=False)],
    corruptions: Annotated[str, typer.Option(
        help="Comma-separated, or all: low_light, infrared, motion_blur, gaussian_noise, "
             "jpeg, downscale, mask, hand_eye.")] = "all",
    severities: Annotated[str, typer.Option(help="Comma-separated, of 1, 2, 3.")] = "1,2,3",
    clips_per_subject: Annotated[int, typer.Option(min=1, help="Clips of each subject.")] = 1,
    split: Annotated[str | None, typer.Option(help="Only this split (train | heldout).",
                                              show_default=False)] = None,
    burst: Annotated[float, typer.Option(
        min=0.5, callback=_finite,
        help="Seconds of each clean and each corrupted stretch.")] = 6.0,
    workers: Annotated[int, typer.Option(min=1, help="Processes for MediaPipe.")
    ] = os.cpu_count() or 1,
    json_out: _JsonOut = None,
    md_out: _MdOut = None,
    overwrite: _Overwrite = False,
    quiet: _Quiet = False,
) -> None:
    """The default scorer under bedside conditions: each corruption at each severity, in
    bursts; detection, PSPI, pain AUC, false alarms, and what the quality checks flag."""
    require("bench", "painvision bench robustness", needs=("sklearn", "scipy"))
    from painvision.bench.corruptions import CORRUPTIONS
    from painvision.bench.robustness import robustness_markdown, run_robustness

    chosen = _pick_names(corruptions, CORRUPTIONS, "corruption")
    try:
        sev = tuple(int(x) for x in severities.split(",") if x.strip())
    except ValueError:
        sev = ()
    if not sev or any(x not in (1, 2, 3) for x in sev):
        raise _fail(f"--severities takes 1, 2 and/or 3, comma-separated; got {severities!r}")
    if not dataset.is_dir():
        raise _fail(f"{dataset}: no such dataset folder")
    _check_reports(json_out, md_out, overwrite)
    progress = _counting("runs", quiet)
    try:
        with progress:
            task = progress.add_task("runs", total=None)
            report = run_robustness(
                dataset, corruptions=chosen, severities=sev, clips_per_subject=clips_per_subject,
                split=split, burst_s=burst, workers=workers,
                on_progress=lambda d, t: progress.update(task, completed=d, total=t))
    except PainVisionError as exc:
        raise _fail(str(exc)) from None
    _write_reports(report, robustness_markdown(report), json_out, md_out, quiet)


@bench_app.command("latency")
def bench_latency(
    videos: Annotated[list[Path], typer.Argument(
        help="Video(s) to time: files, folders of videos, or folders of frame images.",
        show_default=False)],
    sizes: Annotated[str, typer.Option(
        help="Sizes to time each video at, comma-separated: native, or a height such as "
             "480p, 1080p, 2160p (the video rescaled into a temporary file in a private "
             "folder, removed at the end).")] = "native",
    repeats: Annotated[int, typer.Option(min=1, help="Runs of each measurement, alternating; "
                                         "the fastest counts.")] = 2,
    device: Annotated[str, typer.Option(
        help="For the learned model's stages: auto | cpu | cuda (the pipeline runs the "
             "default scorer, which with the face mesh runs on the CPU).")] = "auto",
    weights: Annotated[Path | None, typer.Option(
        help="The learned model's weights, for its stages.", show_default=False)] = None,
    json_out: _JsonOut = None,
    md_out: _MdOut = None,
    overwrite: _Overwrite = False,
    quiet: _Quiet = False,
) -> None:
    """Throughput against the honest floor (OpenCV + MediaPipe alone), per stage and size."""
    from painvision.bench.latency import latency_markdown, parse_sizes, run_latency
    from painvision.device import resolve_device
    from painvision.io.video import expand_inputs, probe_video

    videos = expand_inputs(videos)  # a folder of videos stands for them, as in analyze
    try:
        chosen = parse_sizes(sizes)
        for v in videos:
            probe_video(v)  # a bad file fails here, in one line
        resolve_device(device)  # cuda without CUDA fails here, not in the measuring process
    except PainVisionError as exc:
        raise _fail(str(exc)) from None
    _check_reports(json_out, md_out, overwrite)
    progress = Progress(TextColumn("[bold]{task.description}"), console=err_console,
                        transient=True, disable=quiet)
    # a kill (SIGTERM) ends it as Ctrl-C does, so its temporary copies are removed
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with progress:
            task = progress.add_task("timing")
            report = run_latency(videos, sizes=chosen, device=device, weights=weights,
                                 repeats=repeats, on_step=lambda s: progress.update(
                                     task, description=f"timing {s}"))
    finally:
        signal.signal(signal.SIGTERM, previous)
    _write_reports(report, latency_markdown(report), json_out, md_out, quiet)


#: Set by ``main``: this process is the ``painvision`` command, not a program that runs
#: ``app`` inside itself (which an ``os._exit`` would end).
_command_line = False


def main() -> None:
    """Console-script entry point: one-line errors, no tracebacks for expected failures."""
    global _command_line
    _command_line = True
    try:
        app()
    except PainVisionError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False,
                          soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("PAINVISION_DEBUG"):
            raise
        extra = extra_for_module(exc.name) if isinstance(exc, ModuleNotFoundError) else None
        if extra is not None:  # an optional extra that no check caught first
            err_console.print(f"[bold red]error:[/] "
                              f"{escape(str(MissingExtraError('this command', extra, exc.name)))}",
                              highlight=False, soft_wrap=True)
            sys.exit(2)
        # a bug: say so in one line, traceback on request
        err_console.print(f"[bold red]internal error:[/] {type(exc).__name__}: "
                          f"{escape(str(exc))} "
                          "(set PAINVISION_DEBUG=1 for the traceback)", highlight=False,
                          soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
