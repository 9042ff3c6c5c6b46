"""Self-contained HTML pages: one report per video or watch log, an index of several.

Everything is inline (CSS, the plot as a ``data:`` PNG); a Content-Security-Policy in the
page forbids fetching anything, so it opens the same offline, from a USB stick or an
e-mail. The report has no script. The index sorts its columns with a small inline script
(allowed by its hash only); without it the table is shown as written, in input order.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import platform
import sys
import time
from datetime import datetime

from painvision._version import __version__
from painvision.features.posefit import MIN_FRAMES, MIN_SPAN_S
from painvision.report.timeline import Episode, Timeline

__all__ = ["index_html", "report_html"]

_CSS = """
:root{--ink:#1d3557;--mute:#5c677d;--line:#dee2e6;--bg:#fff;--warn:#b5172f}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:#212529;background:var(--bg);margin:0;padding:24px 32px;max-width:1100px}
h1{font-size:22px;margin:0 0 2px;color:var(--ink)}h2{font-size:17px;margin:28px 0 8px;
color:var(--ink);border-bottom:1px solid var(--line);padding-bottom:4px}
.sub{color:var(--mute);margin:0 0 14px}.note{color:var(--mute);font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:6px 10px;flex:1 1 96px;
max-width:180px}
.card b{display:block;font-size:21px;color:var(--ink)}.card span{font-size:12px;color:var(--mute)}
.card.alert b{color:var(--warn)}
img.plot{width:100%;max-width:1000px;height:auto;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;font-size:14px;margin:6px 0}
th,td{border-bottom:1px solid var(--line);padding:5px 9px;text-align:right;vertical-align:top}
td{white-space:nowrap}td.l{white-space:normal}
th{background:#f1f3f5;font-weight:600}td.l,th.l{text-align:left}
details{margin:8px 0}summary{cursor:pointer;color:var(--mute)}
pre{font-size:12px;background:#f8f9fa;padding:8px;overflow:auto;max-height:320px}
footer{margin-top:32px;color:var(--mute);font-size:12px}
th button{font:inherit;color:inherit;background:none;border:0;padding:0;cursor:pointer;
text-align:inherit}th[aria-sort=ascending] button::after{content:" \\25B2"}
th[aria-sort=descending] button::after{content:" \\25BC"}
"""

_REASONS = {"score_low": "PSPI fell", "evidence_low": "stopped looking like pain",
            "face_lost": "face lost", "stopped": "monitoring stopped",
            "video_ends": "video ends", "log_ends": "log ends"}


def _e(v: object) -> str:
    return html.escape(str(v), quote=True)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.0f} %"


def _num(v: float | None, digits: int = 1) -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) \
        else f"{v:.{digits}f}"


def _dur(s: float) -> str:
    s = max(float(s), 0.0)
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {s % 60:02.0f} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


def _when(tl: Timeline, s: float) -> str:
    if tl.clock_start is None:
        return f"{s:.2f} s"
    return datetime.fromtimestamp(tl.clock_start + s).strftime("%H:%M:%S")


def _page(title: str, body: str, script: str = "") -> str:
    csp = ["default-src 'none'", "img-src data:", "style-src 'unsafe-inline'",
           "base-uri 'none'", "form-action 'none'"]
    if script:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        csp.append(f"script-src 'sha256-{digest}'")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{'; '.join(csp)}\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta name=\"referrer\" content=\"no-referrer\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n{body}\n"
        + (f"<script>{script}</script>\n" if script else "")
        + "</body></html>\n"
    )


def _pose_line(coupling: dict | None) -> str:
    """What the head-pose correction did (``features.posefit``), in words."""
    if not coupling:
        return "not recorded"
    if not coupling.get("frames"):
        return (f"not corrected (too little face to fit: under {MIN_SPAN_S:g} s or "
                f"{MIN_FRAMES} frames)")
    return (f"each signal read against the neutral at the head's pose "
            f"({coupling['frames']} frames fitted)")


def _cards(items: list[tuple[str, str, bool]]) -> str:
    return "<div class=\"cards\">" + "".join(
        f"<div class=\"card{' alert' if alert else ''}\"><b>{_e(v)}</b><span>{_e(k)}</span></div>"
        for k, v, alert in items) + "</div>"


def _episodes_table(tl: Timeline) -> str:
    if not tl.episodes:
        return ("<p>No pain episode: the alarm never went up (PSPI ≥ "
                f"{tl.policy.onset_threshold:g}"
                + (f" with pain_prob ≥ {tl.policy.evidence_threshold:g}"
                   if tl.pain_prob is not None else "") + f" for {tl.policy.onset_min_s:g} s).</p>")
    rows = []
    for e in tl.episodes:
        rows.append(_episode_row(tl, e))
    return ("<table><thead><tr><th>#</th><th>start</th><th>alarm at</th><th>end</th>"
            "<th>duration</th><th>peak PSPI</th><th class=\"l\">dominant AUs (mean intensity)"
            "</th><th class=\"l\">ended because</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>"
            "<p class=\"note\">start: the smoothed PSPI first crossed the threshold; alarm at: "
            "the monitor announced it. An episode that came back within "
            f"{tl.policy.refractory_s:g} s is the same one resuming (its alarm went up again "
            "at once).</p>")


def _episode_row(tl: Timeline, e: Episode) -> str:
    dom = ", ".join(f"{name} ({v:.1f})" for name, v in e.dominant) or "–"
    resumed = f" (+{len(e.alarms) - 1} resumed)" if len(e.alarms) > 1 else ""
    return (f"<tr><td>{e.number}</td><td>{_e(_when(tl, e.start))}</td>"
            f"<td>{_e(_when(tl, e.announced))}{_e(resumed)}</td><td>{_e(_when(tl, e.end))}</td>"
            f"<td>{_e(_dur(e.duration))}</td><td>{_e(_num(e.peak_pspi))}</td>"
            f"<td class=\"l\">{_e(dom)}</td>"
            f"<td class=\"l\">{_e(_REASONS.get(e.reason, e.reason))}</td></tr>")


def _kv(rows: list[tuple[str, object]]) -> str:
    return "<table>" + "".join(
        f"<tr><th class=\"l\">{_e(k)}</th><td class=\"l\">{_e(v)}</td></tr>" for k, v in rows
    ) + "</table>"


def _coverage(tl: Timeline) -> str:
    h = tl.headline()
    step = 1.0 if tl.clock_start is not None else None
    gaps = tl.no_face(step)
    flagged = tl.pose_flagged(step)
    rows = [
        ("face found", _pct(h["face_share"])),
        ("scored (face found and readable, head pose within limits)",
         _pct(h["scored_share"])),
        ("head turned beyond the limits (unscored)", _pct(h["pose_flagged_share"])),
        ("stretches without a face", f"{len(gaps)}" + (
            f", longest {_dur(max(s.duration for s in gaps))}" if gaps else "")),
        ("stretches with the head turned", f"{len(flagged)}" + (
            f", longest {_dur(max(s.duration for s in flagged))}" if flagged else "")),
    ]
    if tl.unreadable is not None:
        unreadable = tl.unreadable_spans(step)
        rows.insert(3, ("too dark, blurred or covered to read (unscored)",
                        _pct(h["unreadable_share"])))
        rows.append(("stretches too dark, blurred or covered", f"{len(unreadable)}" + (
            f", longest {_dur(max(s.duration for s in unreadable))}" if unreadable else "")))
    if tl.calibrating is not None:
        rows.insert(2, ("learning the neutral face (unscored)",
                        _pct(float(tl.calibrating.mean()) if len(tl) else None)))
    if tl.acquiring is not None:
        rows.insert(3, ("a face just found, its mesh still settling (unscored)",
                        _pct(float(tl.acquiring.mean()) if len(tl) else None)))
    if tl.clock_start is not None:
        rows.append(("camera losses", f"{h['camera_losses']}" + (
            f", {_dur(h['camera_lost_s'])} in all" if h["camera_losses"] else "")))
    out = _kv(rows)
    if tl.camera_lost:
        out += ("<table><thead><tr><th>camera lost at</th><th>back at</th><th>for</th></tr>"
                "</thead><tbody>" + "".join(
                    f"<tr><td>{_e(_when(tl, s.start))}</td><td>{_e(_when(tl, s.end))}</td>"
                    f"<td>{_e(_dur(s.duration))}</td></tr>" for s in tl.camera_lost)
                + "</tbody></table>")
    return out


def _versions(tl: Timeline) -> dict[str, str]:
    import cv2
    import matplotlib
    import numpy

    v = {"painvision (analysis)": tl.meta.get("versions", {}).get("painvision") or "not recorded",
         "painvision (this page)": __version__, "python": platform.python_version(),
         "numpy": numpy.__version__, "opencv": cv2.__version__,
         "matplotlib": matplotlib.__version__}
    mp = sys.modules.get("mediapipe")  # loaded by the analysis: no metadata search (5 ms)
    if getattr(mp, "__version__", None):
        v["mediapipe"] = mp.__version__
    else:
        try:
            from importlib.metadata import version

            v["mediapipe"] = version("mediapipe")
        except Exception:  # noqa: BLE001 - not installed: nothing to state
            pass
    return v


def report_html(tl: Timeline, png: bytes, *, kind: str = "video") -> str:
    """The report page of one timeline (``kind`` ``video`` or ``watch``) with its plot
    ``png`` inline."""
    import json

    h = tl.headline()
    is_watch = kind == "watch"
    title = f"painvision report: {tl.name}"
    when = time.strftime("%Y-%m-%d %H:%M")
    if is_watch and tl.clock_start is not None and len(tl):
        first = datetime.fromtimestamp(tl.clock_start).strftime("%Y-%m-%d %H:%M")
        last = datetime.fromtimestamp(tl.clock_start + float(tl.t[-1])).strftime("%H:%M")
        sub = f"Monitoring log, {first} to {last}: {_e(tl.meta.get('source', ''))}"
    else:
        sub = f"Video {_e(tl.meta.get('source') or tl.name)}"
    thr = tl.policy.onset_threshold
    cards = [
        ("monitored" if is_watch else "video length", _dur(h["duration_s"]), False),
        ("face found", _pct(h["face_share"]), h["face_share"] < 0.8),
        ("pain episodes", f"{h['episodes']}", h["episodes"] > 0),
        ("time in episodes", _dur(h["episode_s"]), h["episodes"] > 0),
        ("peak PSPI (0–16)", _num(h["pspi_max"]), False),
        ("mean PSPI", _num(h["pspi_mean"]), False),
        (f"time with PSPI ≥ {thr:g}", _pct(h["pspi_ge_threshold_share"]), False),
    ]
    if tl.pain_prob is not None:
        cards.append(("time with pain_prob ≥ 0.5", _pct(h["pain_prob_ge_0.5_share"]), False))
    if is_watch:
        cards.append(("camera losses", f"{h['camera_losses']}", h["camera_losses"] > 0))
    img = base64.b64encode(png).decode("ascii")
    meta = tl.meta
    if is_watch:
        calib = [("scorer", meta.get("scorer") or "not recorded"),
                 ("neutral", ", ".join(str(r.get("neutral")) for r in meta.get("runs", []))
                  or "not recorded"),
                 ("runs in this log", len(meta.get("runs", [])) or 1)]
    else:
        base = meta.get("baseline", {}) or {}
        neutral = base.get("neutral_s")
        calib = [("scorer", meta.get("scorer") or "–"), ("device", meta.get("device") or "–"),
                 ("baseline", base.get("method", "–")
                  + (f" over {neutral[0]:g}–{neutral[1]:g} s" if neutral else "")
                  + (f", {base['n_frames']} frames" if base.get("n_frames") else "")),
                 ("head pose", _pose_line(meta.get("pose_coupling"))),
                 ("frames analysed", f"{h['samples']}"
                  + (f" (every {meta['video'].get('stride')}th)"
                     if meta.get("video", {}).get("stride", 1) > 1 else "")),
                 ("video", ", ".join(f"{k} {meta.get('video', {}).get(k)}"
                                     for k in ("width", "height", "fps", "codec")
                                     if k in meta.get("video", {})))]
    pol = tl.policy
    calib.append(("alarm", f"PSPI ≥ {pol.onset_threshold:g}"
                  + (f" and pain_prob ≥ {pol.evidence_threshold:g}"
                     if tl.pain_prob is not None else "")
                  + f", each averaged over {pol.smooth_s:g} s, for {pol.onset_min_s:g} s; "
                  f"ends below PSPI {pol.offset_threshold:g}"
                  + (f" or pain_prob {pol.evidence_offset:g}" if tl.pain_prob is not None else "")
                  + f" for {pol.offset_min_s:g} s"))
    details = ""
    if meta.get("calibration"):
        details = ("<details><summary>scorer calibration (gains per AU signal)</summary><pre>"
                   + _e(json.dumps(meta["calibration"], indent=1)) + "</pre></details>")
    if (meta.get("pose_coupling") or {}).get("frames"):
        details += ("<details><summary>how the subject's signals moved with head pose "
                    "(per 10° of yaw, pitch, roll)</summary><pre>"
                    + _e(json.dumps(meta["pose_coupling"], indent=1)) + "</pre></details>")
    if (meta.get("baseline") or {}).get("values"):
        details += ("<details><summary>the subject's neutral (baseline signal values)"
                    "</summary><pre>" + _e(json.dumps(meta["baseline"]["values"], indent=1))
                    + "</pre></details>")
    body = (
        f"<h1>{_e(title)}</h1><p class=\"sub\">{sub}</p>"
        + _cards(cards)
        + f"<img class=\"plot\" alt=\"PSPI and pain_prob of {_e(tl.name)} over time, with the "
        "pain episodes shaded and the parts of PSPI below\" src=\"data:image/png;base64,"
        f"{img}\">"
        + "<h2>Pain episodes</h2>" + _episodes_table(tl)
        + "<h2>Face coverage</h2>" + _coverage(tl)
        + "<h2>Calibration and scorer</h2>" + _kv(calib) + details
        + "<h2>Versions</h2>" + _kv(list(_versions(tl).items()))
        + f"<footer>Made by painvision {_e(__version__)} on {_e(when)}. This page holds "
        "scores only, no image of the face. It is health data about a patient: store and "
        "share it as such. A face-only score is a sign, not a verdict.</footer>"
    )
    return _page(title, body)


_SORT_JS = (
    "document.querySelectorAll('table.sortable').forEach(function(t){"
    "var ths=t.tHead.rows[0].cells;Array.prototype.forEach.call(ths,function(th,i){"
    "var b=document.createElement('button');b.type='button';b.textContent=th.textContent;"
    "th.textContent='';th.appendChild(b);b.addEventListener('click',function(){"
    "var asc=th.getAttribute('aria-sort')!=='ascending';"
    "Array.prototype.forEach.call(ths,function(o){o.removeAttribute('aria-sort');});"
    "th.setAttribute('aria-sort',asc?'ascending':'descending');"
    "var rows=Array.prototype.slice.call(t.tBodies[0].rows);rows.sort(function(a,c){"
    "var x=a.cells[i].getAttribute('data-v'),y=c.cells[i].getAttribute('data-v');"
    "if(x===''||y===''){return (x==='')-(y==='');}"  # no value: last either way
    "var nx=parseFloat(x),ny=parseFloat(y);var r=(isNaN(nx)||isNaN(ny))?"
    "String(x).localeCompare(String(y)):nx-ny;return asc?r:-r;});"
    "rows.forEach(function(r){t.tBodies[0].appendChild(r);});});});});"
)


def index_html(entries: list[tuple[str, str, dict]],
               failed: list[tuple[str, str]] | None = None) -> str:
    """The index of several reports: ``(name, href, headline)`` per video, one row each,
    sortable by any column (inline script; the table reads the same without it); then
    the videos that could not be analysed, ``(name, error)``, so that none goes unseen."""
    cols = [("video", None), ("length", "duration_s"), ("face found", "face_share"),
            ("episodes", "episodes"), ("time in episodes", "episode_s"),
            ("peak PSPI", "pspi_max"), ("mean PSPI", "pspi_mean"), ("PSPI p95", "pspi_p95"),
            ("time PSPI ≥ 3", "pspi_ge_threshold_share"),
            ("time pain_prob ≥ 0.5", "pain_prob_ge_0.5_share")]
    head = "".join(("<th class=\"l\">" if key is None else "<th>") + f"{_e(c)}</th>"
                   for c, key in cols)
    rows = []
    for name, href, h in entries:
        cells = [f"<td class=\"l\" data-v=\"{_e(name)}\"><a href=\"{_e(href)}\">{_e(name)}</a>"
                 "</td>"]
        for _, key in cols[1:]:
            v = h.get(key)
            if key in ("face_share", "pspi_ge_threshold_share", "pain_prob_ge_0.5_share"):
                text = _pct(v)
            elif key in ("duration_s", "episode_s"):
                text = _dur(v or 0.0)
            elif key == "episodes":
                text = str(v)
            else:
                text = _num(v)
            sort_v = "" if v is None else f"{float(v):.6g}"
            cells.append(f"<td data-v=\"{_e(sort_v)}\">{_e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    failures = ""
    if failed:
        failures = (f"<h2>Not analysed ({len(failed)})</h2><table><thead><tr>"
                    "<th class=\"l\">video</th><th class=\"l\">why</th></tr></thead><tbody>"
                    + "".join(f"<tr><td class=\"l\">{_e(n)}</td><td class=\"l\">{_e(w)}</td>"
                              "</tr>" for n, w in failed) + "</tbody></table>")
    body = (
        f"<h1>painvision reports</h1><p class=\"sub\">{len(entries)} videos"
        + (f", {len(failed)} not analysed (below)" if failed else "")
        + ". Click a column to sort; a video's name opens its report.</p>"
        f"<table class=\"sortable\"><thead><tr>{head}</tr></thead><tbody>"
        + "".join(rows) + "</tbody></table>" + failures
        + f"<footer>Made by painvision {_e(__version__)} on {_e(time.strftime('%Y-%m-%d %H:%M'))}"
        ". Scores only, no image of a face.</footer>"
    )
    return _page("painvision reports", body, script=_SORT_JS)
