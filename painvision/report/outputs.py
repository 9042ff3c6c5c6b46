"""The files ``analyze --plot --overlay --report`` and ``painvision report`` write."""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from painvision.fileio import atomic_write_text
from painvision.live.alerts import AlertPolicy
from painvision.report.timeline import Timeline

logger = logging.getLogger(__name__)

__all__ = ["FhirExport", "Visuals", "write_index", "write_watch_report"]

INDEX_NAME = "index.html"


@dataclass(frozen=True)
class Visuals:
    """Which of the pictures to make for each analysed video (picklable: it travels to
    worker processes). None of them holds a frame of the face unless ``show_face``.

    Attributes:
        plot: ``<stem>.png``, the timeline.
        overlay: ``<stem>.overlay.mp4``, the video with mesh, gauge, AU bars, episodes.
        report: ``<stem>.html``, a self-contained page.
        show_face: the overlay shows the real image (default: pixelated, face masked).
        policy: the alert policy whose episodes are shown.
    """

    plot: bool = False
    overlay: bool = False
    report: bool = False
    show_face: bool = False
    policy: AlertPolicy = AlertPolicy()

    def __bool__(self) -> bool:
        return self.plot or self.overlay or self.report

    def suffixes(self) -> tuple[str, ...]:
        """What each video gets beside its CSV and JSON."""
        return tuple(s for on, s in ((self.plot, ".png"), (self.overlay, ".overlay.mp4"),
                                     (self.report, ".html")) if on)

    def write(self, analysis, video: str | os.PathLike[str], out: str | os.PathLike[str],
              stem: str | None = None) -> list[Path]:
        """Write the chosen files for ``analysis`` of ``video`` into ``out``.

        Raises:
            InputError: ``overlay`` without the meshes (``keep_landmarks=True``).
            VideoError: the video cannot be read again, or the encoder cannot be opened.
        """
        out = Path(out)
        stem = stem or Path(video).stem
        tl = Timeline.from_analysis(analysis, self.policy, name=Path(video).name)
        written = []
        if self.plot or self.report:
            from painvision.report.plot import plot_png, write_plot

            png = plot_png(tl)
            if self.plot:
                written.append(write_plot(tl, out / f"{stem}.png", png))
            if self.report:
                from painvision.report.html import report_html

                written.append(atomic_write_text(out / f"{stem}.html", report_html(tl, png)))
        if self.overlay:
            from painvision.report.overlay import write_overlay

            written.append(write_overlay(
                video, out / f"{stem}.overlay.mp4", frame_index=analysis.track.frame_index,
                landmarks=analysis.track.landmarks, pspi=tl.pspi, aus=tl.aus,
                pain_prob=tl.pain_prob, episode=tl.alarm,
                threshold=self.policy.onset_threshold, show_face=self.show_face))
        return written


@dataclass(frozen=True)
class FhirExport:
    """``analyze --fhir``: ``<stem>.fhir.json``, a FHIR ``Bundle`` per video (picklable,
    like ``Visuals``: it travels to ``--jobs`` workers).

    Attributes:
        patient_ref: ``Patient/<id>`` (checked by ``painvision.fhir.check_reference``).
        device_ref: ``Device/<id>`` or None.
        recorded_at: when the recording started (timezone-aware); None: the file's
            modification time minus its duration, which the summary's note then says.
        policy: the alert policy whose episodes are written (the report's).
    """

    patient_ref: str
    device_ref: str | None = None
    recorded_at: datetime | None = None
    policy: AlertPolicy = AlertPolicy()

    SUFFIX = ".fhir.json"

    def write(self, analysis, video: str | os.PathLike[str], out: str | os.PathLike[str],
              stem: str | None = None) -> Path:
        """Write the Bundle of ``analysis`` of ``video`` into ``out``; returns its path.

        Raises:
            InputError: an invalid reference.
        """
        from painvision.fhir import video_bundle

        tl = Timeline.from_analysis(analysis, self.policy, name=Path(video).name)
        start, note = self.recorded_at, None
        if start is None:
            duration = analysis.info.duration_s
            if not (math.isfinite(duration) and duration > 0):
                duration = tl.span_s
            mtime = datetime.fromtimestamp(Path(video).stat().st_mtime, tz=UTC)
            start = mtime - timedelta(seconds=duration)
            note = (f"Recording start estimated as the file's modification time "
                    f"({mtime.isoformat(timespec='seconds')}) minus its duration "
                    f"({duration:.1f} s); give analyze --recorded-at to state it.")
            logger.info("%s: %s", Path(video).name, note)
        bundle = video_bundle(tl, patient_ref=self.patient_ref, device_ref=self.device_ref,
                              recorded_at=start, note=note)
        path = Path(out) / f"{stem or Path(video).stem}{self.SUFFIX}"
        return atomic_write_text(path, json.dumps(bundle, indent=2) + "\n")


def write_index(out: str | os.PathLike[str], stems: list[str],
                policy: AlertPolicy | None = None,
                failed: list[tuple[str, str]] | None = None) -> Path:
    """``out/index.html``: one row per video whose ``<stem>.html``, ``.csv`` and ``.json``
    are in ``out``, with its headline numbers; then ``failed``, ``(video name, error)``
    for each video that could not be analysed."""
    from painvision.report.html import index_html

    out = Path(out)
    entries = []
    for stem in stems:
        summary = json.loads((out / f"{stem}.json").read_text(encoding="utf-8"))
        tl = Timeline.from_csv(out / f"{stem}.csv", summary, policy)
        entries.append((Path(summary.get("video", {}).get("path", stem)).name,
                        f"{stem}.html", tl.headline()))
    return atomic_write_text(out / INDEX_NAME, index_html(entries, failed))


def write_watch_report(log: str | os.PathLike[str], path: str | os.PathLike[str],
                       plot: str | os.PathLike[str] | None = None) -> Timeline:
    """The report page of a ``watch --out`` log (and its plot at ``plot``, if given).

    Raises:
        InputError: the log is missing or is not a watch log.
    """
    from painvision.report.html import report_html
    from painvision.report.plot import plot_png, write_plot

    tl = Timeline.from_watch_log(log)
    png = plot_png(tl)
    if plot is not None:
        write_plot(tl, plot, png)
    atomic_write_text(path, report_html(tl, png, kind="watch"))
    return tl
