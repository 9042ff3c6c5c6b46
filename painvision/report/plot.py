"""The timeline plot: PSPI and pain_prob over time, episodes, gaps, and what PSPI is made of.

matplotlib with the Agg backend, through ``Figure`` directly (no pyplot, no global state,
safe in worker processes and threads). In ``analyze`` matplotlib is already imported by
then: MediaPipe imports pyplot itself. Importing it in the background while the video was
read gained nothing measurable (68 ms after the analysis either way, on the sample), nor did
drawing a practice figure there, whose Python work contends with the analysis for the
interpreter (+13.5 % wall against +10.9 % without, on the sample, measured with 3.11).
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from datetime import datetime
from pathlib import Path

import numpy as np

from painvision.fileio import atomic_output
from painvision.report.timeline import Timeline, spans_of

logger = logging.getLogger(__name__)

__all__ = ["COLORS", "plot_png", "write_plot"]

#: One colour per thing drawn, shared with the overlay and the HTML page.
COLORS = {
    "pspi": "#1d3557",
    "pain_prob": "#e76f51",
    "threshold": "#b5172f",
    "episode": "#e63946",
    "no_face": "#6c757d",
    "pose": "#adb5bd",
    "camera": "#343a40",
    "calibrating": "#a8dadc",
    "AU4": "#457b9d",
    "max(AU6, AU7)": "#2a9d8f",
    "max(AU9, AU10)": "#e9c46a",
    "AU43": "#8d6a9f",
}

#: The legends' font size (points), and their geometry in its ems: a handle's length, a
#: colour swatch's height, the space before a label and between columns, the first row's
#: centre above the axes and the rows' spacing.
_LEGEND_PT = 8.5
_HANDLE, _SWATCH, _TEXT_PAD, _COLUMN_GAP, _FIRST_ROW, _ROW = 1.8, 0.7, 0.8, 1.2, 1.2, 1.6


def plot_png(tl: Timeline, *, dpi: int = 100) -> bytes:
    """The timeline as PNG bytes (1000x620 pixels at the default ``dpi``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator

    t = tl.t
    clock = tl.clock_start is not None
    x: np.ndarray = t
    if clock:  # a watch log: clock times on the axis
        import matplotlib.dates as mdates

        x = mdates.date2num([datetime.fromtimestamp(tl.clock_start + v) for v in t]) \
            if len(t) else t

        def X(v: float) -> float:  # noqa: N802 - seconds of the timeline -> axis units
            return float(mdates.date2num(datetime.fromtimestamp(tl.clock_start + v)))
    else:
        def X(v: float) -> float:  # noqa: N802
            return v

    # fixed margins: constrained layout would cost a third of the drawing time
    fig = Figure(figsize=(10, 6.2), dpi=dpi, facecolor="white")  # opaque, whatever the rc
    gs = fig.add_gridspec(2, 1, height_ratios=[3, 2], left=0.07, right=0.925, top=0.885,
                          bottom=0.085, hspace=0.2)
    ax = fig.add_subplot(gs[0])
    parts_ax = fig.add_subplot(gs[1], sharex=ax)
    max_step = 1.0 if clock else None

    # what to see first: the episodes, as the monitor announced them
    alarms = [a for e in tl.episodes for a in e.alarms]
    calibrating = ([] if tl.calibrating is None
                   else spans_of(t, tl.calibrating & tl.face, max_step))
    no_face = tl.no_face(max_step)
    pose_flagged = tl.pose_flagged(max_step)
    unreadable = tl.unreadable_spans(max_step)
    # each kind of stretch is one artist per panel, from the bottom to the top of it
    bands = [
        (alarms, dict(facecolors=COLORS["episode"], alpha=0.16)),
        (no_face, dict(facecolors=COLORS["no_face"], alpha=0.28)),
        (pose_flagged, dict(facecolors="none", edgecolors=COLORS["pose"], hatch="////")),
        (unreadable, dict(facecolors="none", edgecolors=COLORS["pose"], hatch="\\\\")),
        (calibrating, dict(facecolors=COLORS["calibrating"], alpha=0.35)),
        (tl.camera_lost, dict(facecolors=COLORS["camera"], alpha=0.45)),
    ]
    for spans, style in bands:
        if spans:
            verts = [[(X(s.start), 0), (X(s.start), 1), (X(s.end), 1), (X(s.end), 0)]
                     for s in spans]
            for a_ in (ax, parts_ax):
                a_.add_collection(PolyCollection(verts, transform=a_.get_xaxis_transform(),
                                                 linewidths=0, **style), autolim=False)
    handles = []
    if alarms:
        handles.append(_swatch(color=COLORS["episode"], alpha=0.3, label="pain episode (alarm on)"))
    for e in tl.episodes:  # its number on each stretch of alarm (a resumed one too)
        for a in e.alarms:
            ax.text(X(a.start), 16.3, f" {e.number}", color=COLORS["threshold"],
                    fontsize=9, va="top", ha="left", fontweight="bold")

    pspi = tl.pspi
    ax.plot(x, pspi, color=COLORS["pspi"], lw=1.3, zorder=3)
    if not np.isfinite(pspi).any():
        ax.text(0.5, 0.62, "no frame could be scored: no face was found"
                if not tl.face.any() else "no frame could be scored",
                transform=ax.transAxes, ha="center", va="center", fontsize=12,
                color=COLORS["camera"])
    handles.insert(0, Line2D([], [], color=COLORS["pspi"], lw=1.6, label="PSPI"))
    thr = tl.policy.onset_threshold
    ax.axhline(thr, color=COLORS["threshold"], ls="--", lw=1, zorder=2)
    handles.append(Line2D([], [], color=COLORS["threshold"], ls="--", lw=1,
                          label=f"alarm: PSPI ≥ {thr:g}"))
    ax.set_ylim(0, 16.6)  # a PSPI of 16 stays visible
    ax.yaxis.set_major_locator(FixedLocator([0, 4, 8, 12, 16]))
    ax.set_ylabel("PSPI (0–16)")
    ax.grid(axis="y", color="#dee2e6", lw=0.6)
    ax.set_axisbelow(True)
    if tl.pain_prob is not None:
        # on PSPI's own axes, scaled by 16, with its scale written on the right: a second
        # (twin) Axes would cost a tenth of the drawing time for five tick labels. PSPI,
        # the measure, is drawn over it.
        ax.plot(x, 16 * tl.pain_prob, color=COLORS["pain_prob"], lw=1.0, alpha=0.9, zorder=2)
        gate = tl.policy.evidence_threshold
        ax.axhline(16 * gate, color=COLORS["pain_prob"], ls=":", lw=1.1, zorder=2)
        handles.append(Line2D([], [], color=COLORS["pain_prob"], ls=":", lw=1.1,
                              label=f"and pain_prob ≥ {gate:g}"))
        ax.tick_params(axis="y", right=True)
        for tick in ax.yaxis.get_major_ticks():  # the right-hand marks in pain_prob's colour
            tick.tick2line.set_markeredgecolor(COLORS["pain_prob"])
        right = ax.get_yaxis_transform()
        for p in (0, 0.25, 0.5, 0.75, 1):
            ax.text(1.008, 16 * p, f"{p:.2f}", transform=right, ha="left", va="center",
                    color=COLORS["pain_prob"], fontsize=10)
        ax.text(1.058, 0.5, "pain_prob (0–1)", transform=ax.transAxes, rotation=90,
                ha="center", va="center", color=COLORS["pain_prob"], fontsize=10)
        handles.insert(1, Line2D([], [], color=COLORS["pain_prob"], lw=1.4, label="pain_prob"))
    if no_face:
        handles.append(_swatch(color=COLORS["no_face"], alpha=0.4, label="no face"))
    if pose_flagged:
        handles.append(_swatch(facecolor="white", edgecolor=COLORS["pose"], hatch="////",
                               label="head turned: unscored"))
    if unreadable:
        handles.append(_swatch(facecolor="white", edgecolor=COLORS["pose"], hatch="\\\\",
                               label="unreadable: unscored"))
    if calibrating:
        handles.append(_swatch(color=COLORS["calibrating"], alpha=0.5,
                               label="learning the neutral face"))
    if tl.camera_lost:
        handles.append(_swatch(color=COLORS["camera"], alpha=0.6, label="camera lost"))
    ax.xaxis.set_visible(False)  # the panel below has the time axis
    title = f"{tl.name}: pain over time" if tl.name else "pain over time"
    fig.suptitle(title, x=0.01, ha="left", fontsize=11, fontweight="bold")

    # what PSPI is made of
    parts = tl.parts
    stack = [np.nan_to_num(v, nan=0.0) for v in parts.values()]
    scored = np.isfinite(pspi)
    parts_ax.stackplot(x, *stack, colors=[COLORS[k] for k in parts], where=scored, step=None,
                       lw=0, alpha=0.9)
    parts_ax.set_ylim(0, 16.6)  # PSPI's own scale, as above
    parts_ax.yaxis.set_major_locator(FixedLocator([0, 4, 8, 12, 16]))
    parts_ax.set_ylabel("PSPI parts\n(FACS intensity)")
    parts_ax.grid(axis="y", color="#dee2e6", lw=0.6)
    parts_ax.set_axisbelow(True)
    if clock:
        import matplotlib.dates as mdates

        loc = mdates.AutoDateLocator()
        parts_ax.xaxis.set_major_locator(loc)
        parts_ax.xaxis.set_major_formatter(mdates.DateFormatter(
            "%H:%M:%S" if tl.span_s < 3600 else "%H:%M"))
        tz = datetime.fromtimestamp(tl.clock_start).astimezone().strftime("%Z")
        parts_ax.set_xlabel(f"time of day ({tz})")
    else:
        parts_ax.set_xlabel("time (s)")
    if len(x):
        parts_ax.set_xlim(x[0], X(float(t[-1])) if not clock else x[-1])
    canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    _legend(ax, handles, renderer)
    _legend(parts_ax, [_swatch(color=COLORS[k], alpha=0.9, label=k) for k in reversed(parts)],
            renderer, title="what PSPI is made of:")
    canvas.draw()
    return _png(np.asarray(canvas.buffer_rgba())[..., :3], dpi)  # the figure is opaque


def _swatch(**style):
    """A legend's patch of colour (``_legend`` places it)."""
    from matplotlib.patches import Rectangle

    return Rectangle((0, 0), 1, 1, **style)


def _legend(ax, handles: list, renderer, *, title: str | None = None) -> None:
    """The legend above ``ax``, from its left edge: each handle (a ``Line2D`` or a
    ``_swatch``, placed here) with its label, five a row at most (a night's log has up to
    ten: camera lost, the neutral being learned, unreadable stretches), in reading order,
    under ``title`` if given.

    Plain artists on the figure: ``Axes.legend`` laid the same entries out in its general
    box layout, which cost about 5 ms more a figure, a tenth of the plot's time."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.lines import Line2D
    from matplotlib.text import Text
    from matplotlib.transforms import IdentityTransform

    if not handles:
        return
    fig = ax.get_figure()
    prop = FontProperties(size=_LEGEND_PT)
    em = _LEGEND_PT * fig.dpi / 72  # pixels
    pixels = IdentityTransform()
    ncol = len(handles) if len(handles) <= 5 else -(-len(handles) // 2)
    labels = [h.get_label() for h in handles]
    widths = [renderer.get_text_width_height_descent(s, prop, ismath=False)[0] for s in labels]
    columns = [max(widths[c::ncol]) for c in range(ncol)]
    n_rows = -(-len(handles) // ncol)
    for i, (handle, label) in enumerate(zip(handles, labels, strict=True)):
        row, col = divmod(i, ncol)
        x = ax.bbox.x0 + sum(columns[:col]) + col * (_HANDLE + _TEXT_PAD + _COLUMN_GAP) * em
        y = ax.bbox.y1 + (_FIRST_ROW + (n_rows - 1 - row) * _ROW) * em  # the centre line
        if isinstance(handle, Line2D):
            handle.set_data([x, x + _HANDLE * em], [y, y])
        else:
            handle.set_bounds(x, y - _SWATCH / 2 * em, _HANDLE * em, _SWATCH * em)
        handle.set_transform(pixels)
        fig.add_artist(handle)
        fig.add_artist(Text(x + (_HANDLE + _TEXT_PAD) * em, y, label, fontproperties=prop,
                            va="center", transform=pixels))
    if title:
        fig.add_artist(Text(ax.bbox.x0, ax.bbox.y1 + (_FIRST_ROW + n_rows * _ROW) * em, title,
                            fontproperties=prop, va="center", transform=pixels))


def _png(rgb: np.ndarray, dpi: float | None = None) -> bytes:
    """An RGB image (H x W x 3, uint8) as PNG bytes, rows unfiltered, zlib level 1, with
    its resolution (``dpi``) recorded if given.

    A plot is mostly flat colour, which deflate packs as well without PNG's row filters:
    the same size as libpng's or Pillow's PNG at level 1, in a third of the time (3 ms
    against 9-12 ms for this figure)."""
    h, w, _ = rgb.shape
    rows = np.empty((h, 1 + 3 * w), np.uint8)
    rows[:, 0] = 0  # filter type 0 (none) on every row
    rows[:, 1:].reshape(h, w, 3)[...] = rgb  # one copy, also from a view of RGBA

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB, not interlaced
    per_metre = b"" if dpi is None else chunk(
        b"pHYs", struct.pack(">IIB", *[round(dpi / 0.0254)] * 2, 1))  # unit: the metre
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + per_metre
            + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))


def write_plot(tl: Timeline, path: str | os.PathLike[str], png: bytes | None = None) -> Path:
    """Write the timeline PNG to ``path`` atomically (``png``: already rendered bytes)."""
    data = png if png is not None else plot_png(tl)
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    logger.info("wrote %s", path)
    return Path(path)
