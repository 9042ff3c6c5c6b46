"""The HTML report in a real headless Chromium: it loads with no console error and no
network request, and its screenshot shows the plot. Skipped where Chromium is missing
(`.ci/run` installs Debian's `chromium`)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from headless_chrome import Chromium, find_chromium

from painvision.fileio import atomic_write_text
from painvision.report.html import index_html, report_html
from painvision.report.plot import COLORS, plot_png
from painvision.report.timeline import Timeline

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="needs a headless browser: Debian's `chromium` is not installed "
           "(`apt-get install -y chromium`; .ci/run tries to)")


@pytest.fixture(scope="module")
def browser():
    with Chromium(width=1100, height=1400) as c:
        yield c


def _bgr(hex_color):
    h = hex_color.lstrip("#")
    return np.array([int(h[4:6], 16), int(h[2:4], 16), int(h[0:2], 16)])


def _has(img, color, tol=30):
    return int((np.abs(img.astype(int) - _bgr(color)).sum(axis=2) < tol).sum())


def test_the_harness_sees_errors_and_requests(browser, tmp_path):
    """The checks below can fail: a page that fetches and logs is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><img src='http://127.0.0.1:9/x.png'>"
                   "<script>console.error('broken')</script></body></html>")
    page = browser.load(bad.as_uri())
    assert any("127.0.0.1:9" in u for u in page.requests)
    assert any("broken" in e for e in page.console_errors)


def test_report_loads_offline_and_shows_the_plot(browser, short_analysis, tmp_path):
    tl = Timeline.from_analysis(short_analysis)
    path = atomic_write_text(tmp_path / "short.html", report_html(tl, plot_png(tl)))
    page = browser.load(path.as_uri())
    assert page.console_errors == []
    assert page.requests == []
    assert page.evaluate("document.scripts.length") == 0
    # the plot is there, decoded, at its size
    assert page.evaluate("(() => { const i = document.querySelector('img.plot');"
                         " return [i.complete, i.naturalWidth, i.naturalHeight]; })()") \
        == [True, 1000, 620]
    text = page.evaluate("document.body.innerText")
    for words in ("Pain episodes", "Face coverage", "Calibration and scorer", "Versions",
                  "peak PSPI", "dominant AUs"):
        assert words in text
    shot = cv2.imdecode(np.frombuffer(page.screenshot(), np.uint8), cv2.IMREAD_COLOR)
    assert shot is not None and shot.shape[1] >= 1000
    assert shot.std() > 20  # not blank
    # the plot's own colours are on the screen: the PSPI line and the stacked AU parts
    assert _has(shot, COLORS["pspi"]) > 300
    au4 = _bgr(COLORS["AU4"]) * 0.9 + 255 * 0.1  # drawn with alpha 0.9 over white
    assert _has(shot, "#" + "".join(f"{int(v):02x}" for v in au4[::-1])) > 1000


def test_index_sorts_without_fetching(browser, tmp_path):
    rows = [("b.mp4", "b.html", {"duration_s": 10, "pspi_max": 2.0, "episodes": 0}),
            ("a.mp4", "a.html", {"duration_s": 30, "pspi_max": 9.5, "episodes": 2}),
            ("c.mp4", "c.html", {"duration_s": 20, "pspi_max": None, "episodes": 1})]
    path = atomic_write_text(tmp_path / "index.html", index_html(rows))
    page = browser.load(path.as_uri())
    assert page.console_errors == [] and page.requests == []
    names = "Array.from(document.querySelectorAll('tbody tr td:first-child'))" \
            ".map(td => td.textContent)"
    assert page.evaluate(names) == ["b.mp4", "a.mp4", "c.mp4"]   # as written
    page.evaluate("document.querySelectorAll('th button')[5].click()")  # peak PSPI
    assert page.evaluate(names)[:2] == ["b.mp4", "a.mp4"]
    page.evaluate("document.querySelectorAll('th button')[0].click()")  # video
    assert page.evaluate(names) == ["a.mp4", "b.mp4", "c.mp4"]
    page.evaluate("document.querySelectorAll('th button')[0].click()")
    assert page.evaluate(names) == ["c.mp4", "b.mp4", "a.mp4"]
    assert page.console_errors == []
