"""The timeline plot is drawn from the data: episodes, gaps, the PSPI line."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from painvision.live.alerts import AlertPolicy
from painvision.report.plot import COLORS, plot_png, write_plot
from painvision.report.timeline import Span, Timeline
from painvision.types import AU_NAMES


def _bgr(hex_color):
    h = hex_color.lstrip("#")
    return np.array([int(h[4:6], 16), int(h[2:4], 16), int(h[0:2], 16)])


def _timeline(pain: bool = True) -> Timeline:
    t = np.arange(0, 60, 0.1)
    pspi = np.where(pain & (t > 20) & (t < 35), 9.0, 0.5).astype(np.float32)
    face = ~((t > 45) & (t < 50))
    pspi[~face] = np.nan
    aus = {n: np.zeros_like(pspi) for n in AU_NAMES}
    aus["au4"][:] = np.minimum(pspi, 5)
    aus["au9"][:] = pspi - aus["au4"]
    prob = np.where(pspi > 3, 0.9, 0.1).astype(np.float32)
    return Timeline._scored(t, pspi, aus, prob, face, np.ones(t.size, bool), AlertPolicy(),
                            "clip.mp4", {})


def _blend(color, alpha):
    """``color`` drawn with ``alpha`` over white, as a hex colour."""
    return "#" + "".join(f"{int(v):02x}" for v in
                         np.array([255] * 3) * (1 - alpha) + _bgr(color)[::-1] * alpha)


def _col(ts):
    """The columns around the time ``ts`` (s) of a 0-59.9 s timeline: the axes span
    0.07-0.925 of the width."""
    x = int(1000 * (0.07 + 0.855 * ts / 59.9))
    return slice(x - 3, x + 3)


def _share(img, color, cols):
    sub = img[80:570, cols].reshape(-1, 3).astype(int)  # the axes, not the legend above
    return float((np.abs(sub - _bgr(color)).sum(axis=1) < 12).mean())


def test_plot_shows_the_episode_where_it_is_and_no_face_where_it_is(tmp_path):
    tl = _timeline()
    path = write_plot(tl, tmp_path / "p.png")
    img = cv2.imread(str(path))
    assert img.shape == (620, 1000, 3)
    pale_red = _blend(COLORS["episode"], 0.16)
    assert _share(img, pale_red, _col(30)) > 0.2          # inside the alarm
    assert _share(img, pale_red, _col(10)) < 0.01         # before it
    grey = _blend(COLORS["no_face"], 0.28)
    assert _share(img, grey, _col(47.5)) > 0.2            # no face
    assert _share(img, grey, _col(30)) < 0.01
    quiet = cv2.imdecode(np.frombuffer(plot_png(_timeline(pain=False)), np.uint8), 1)
    assert _share(quiet, pale_red, _col(30)) < 0.01       # no episode, no shading


def test_pain_prob_has_its_own_scale_on_the_right_in_its_colour():
    """pain_prob is drawn on PSPI's axes, scaled: its 0-1 scale's tick marks, just right
    of the axes, are in its colour; without pain_prob there is no such scale."""
    def marks(tl):
        img = cv2.imdecode(np.frombuffer(plot_png(tl), np.uint8), 1)
        band = img[60:350, 926:931].reshape(-1, 3).astype(int)  # right of x = 0.925
        return int((np.abs(band - _bgr(COLORS["pain_prob"])).sum(axis=1) < 40).sum())

    tl = _timeline()
    assert marks(tl) >= 5 * 3  # five marks, a few pixels each
    no_prob = Timeline._scored(tl.t, tl.pspi, tl.aus, None, tl.face, np.ones(tl.t.size, bool),
                               AlertPolicy(), "clip.mp4", {})
    assert marks(no_prob) == 0


def test_every_kind_of_stretch_is_drawn_and_the_legend_stays_inside_the_picture():
    """A night's log can have every kind of stretch: each is shaded where it is, and the
    legend above the axes (two rows then) is not cut off at the picture's right edge, nor
    is it with six of the longest entries and no pain_prob."""
    tl = _timeline()
    t = tl.t
    tl = dataclasses.replace(tl, pose_ok=~((t > 5) & (t < 9)), unreadable=(t > 10) & (t < 13),
                             calibrating=t < 3, camera_lost=[Span(52, 55)])
    img = cv2.imdecode(np.frombuffer(plot_png(tl), np.uint8), 1)
    assert img.shape == (620, 1000, 3)
    assert _share(img, _blend(COLORS["camera"], 0.45), _col(53.5)) > 0.2
    assert _share(img, _blend(COLORS["calibrating"], 0.35), _col(1.5)) > 0.2
    for ts in (7, 11.5):  # hatched: some of the hatch's grey, most of it white
        sub = img[80:570, _col(ts)].reshape(-1, 3).astype(int)
        assert 0.05 < float((np.abs(sub - _bgr(COLORS["pose"])).sum(axis=1) < 60).mean()) < 0.6

    def edge_ink(img):  # dark pixels in the last columns of the band above the axes
        return int((img[20:68, 985:].astype(int).sum(axis=2) < 600).sum())

    def legend_ink(img):
        return int((img[20:68, :985].astype(int).sum(axis=2) < 600).sum())

    assert legend_ink(img) > 500
    assert edge_ink(img) == 0
    # six entries: PSPI, the episode, the alarm, head turned, unreadable, the neutral
    six = dataclasses.replace(tl, pain_prob=None, face=np.ones(t.size, bool), camera_lost=[])
    img6 = cv2.imdecode(np.frombuffer(plot_png(six), np.uint8), 1)
    assert legend_ink(img6) > 300
    assert edge_ink(img6) == 0


def test_png_encoding_round_trips_exactly_through_two_decoders():
    """The plot's own PNG writer: OpenCV and Pillow both read back every pixel."""
    import io

    from PIL import Image

    from painvision.report.plot import _png

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    rgb[:10] = (255, 255, 255)  # flat rows too, as in a plot
    data = _png(rgb)
    assert np.array_equal(cv2.imdecode(np.frombuffer(data, np.uint8), 1)[..., ::-1], rgb)
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.mode == "RGB"
        assert np.array_equal(np.asarray(img), rgb)
    # as plot_png passes it: a view of the canvas's RGBA buffer, not contiguous
    rgba = np.concatenate([rgb, np.full((37, 53, 1), 255, np.uint8)], axis=2)
    assert _png(rgba[..., :3]) == data


def test_legend_entries_sit_in_reading_order_above_the_axes_without_overlapping():
    """The legend is laid out by hand (cheaper than ``Axes.legend``): every handle sits
    just left of its label on the same line, no two entries overlap, all is above the axes
    and inside the figure, in one row up to five entries and two beyond."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.text import Text

    from painvision.report.plot import _legend, _swatch

    for n in (4, 5, 6, 8):
        fig = Figure(figsize=(10, 6.2), dpi=100)
        ax = fig.add_axes((0.07, 0.1, 0.855, 0.75))
        handles = [Line2D([], [], label=f"line entry {i}") if i % 2 else
                   _swatch(color="C0", hatch="//", label=f"a longer swatch entry {i}")
                   for i in range(n)]
        canvas = FigureCanvasAgg(fig)
        renderer = canvas.get_renderer()
        _legend(ax, handles, renderer, title="title")
        canvas.draw()
        texts = [a for a in fig.artists if isinstance(a, Text)]
        labels = {t.get_text(): t.get_window_extent(renderer) for t in texts}
        assert list(labels) == [h.get_label() for h in handles] + ["title"]
        boxes = [labels[h.get_label()] for h in handles]
        rows = sorted({round(b.y0) for b in boxes}, reverse=True)
        assert len(rows) == (1 if n <= 5 else 2)
        # reading order: left to right in a row, the first row on top
        order = sorted(range(n), key=lambda i: (-round(boxes[i].y0), boxes[i].x0))
        assert order == list(range(n))
        for h, box in zip(handles, boxes, strict=True):
            hb = h.get_window_extent(renderer)
            assert hb.x1 < box.x0 < hb.x1 + 15  # the handle, then its label
            assert abs((hb.y0 + hb.y1) / 2 - (box.y0 + box.y1) / 2) < 2
            assert box.y0 > ax.bbox.y1 and box.x1 < fig.bbox.x1 and box.y1 < fig.bbox.y1
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not a.overlaps(b)
        assert labels["title"].y0 > max(b.y1 for b in boxes)
