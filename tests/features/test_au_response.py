"""End to end on rendered video: each PSPI action unit's deformation, applied alone to
a real face photo, raises its own term of the PSPI formula and leaves the others low.

Cross-talk allowed: another term may read up to 75 % of the own term, or 1.2
intensity units. The face mesh moves as a whole more than a face does (AU4 alone
shortens MediaPipe's nose; AU9 alone, which by FACS also pulls the inner brows down,
reads as about 0.7 of its own term in AU4).

The terms are AU4, max(AU6, AU7), max(AU9, AU10) and AU43, as in the formula. AU6 and
AU7 are one term because the face mesh follows the lower lid, which both raise, but
not the cheek bulge that tells them apart (see features/geometry.py); likewise AU9
and AU10 both lift the nasal wings and the upper lip.
"""

from __future__ import annotations

import numpy as np
import pytest

from painvision.pipeline import analyze_video
from painvision.synth.render import render_clip
from painvision.synth.sequence import Episode, HeadMotion, Script

pytestmark = [pytest.mark.mediapipe, pytest.mark.slow]

CASES = {
    "au4": {"au4": 4.0},
    "au6": {"au6": 4.0},
    "au7": {"au7": 4.0},
    "au9": {"au9": 4.0},
    "au10": {"au10": 4.0},
    "au43": None,
}
OWN_TERM = {"au4": "T4", "au6": "T67", "au7": "T67", "au9": "T910", "au10": "T910", "au43": "T43"}


def _script(case: str) -> Script:
    peak = CASES[case]
    if peak is None:
        ep = Episode(1.2, 1.4, 2.9, 3.0, {}, eyes_closed=(1.3, 3.0))
    else:
        ep = Episode(1.2, 1.9, 3.2, 3.3, peak)
    return Script(duration_s=3.2, fps=15.0, episodes=(ep,),
                  motion=HeadMotion(roll_deg=1.0, shift=0.01, scale=0.01))


@pytest.fixture(scope="module")
def terms(tmp_path_factory):
    out = {}
    d = tmp_path_factory.mktemp("au")
    for case in CASES:
        video = render_clip("astronaut", _script(case), d / f"{case}.mp4", size=(320, 240),
                            seed=11)
        a = analyze_video(video, neutral=(0.0, 1.0), scorer="analytic")
        apex = (a.t >= 2.1) & (a.t <= 2.8)
        aus = a.aus
        out[case] = {
            "T4": float(np.nanmean(aus.au4[apex])),
            "T67": float(np.nanmean(np.maximum(aus.au6, aus.au7)[apex])),
            "T910": float(np.nanmean(np.maximum(aus.au9, aus.au10)[apex])),
            "T43": float(np.nanmean(aus.au43[apex])),
            "neutral_pspi": float(np.nanmean(a.pspi[a.t < 1.0])),
        }
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_own_term_rises(terms, case):
    got = terms[case]
    assert got[OWN_TERM[case]] >= (0.9 if case == "au43" else 1.0), got


@pytest.mark.parametrize("case", list(CASES))
def test_neutral_stretch_reads_near_zero(terms, case):
    assert terms[case]["neutral_pspi"] < 0.5, terms[case]


@pytest.mark.parametrize("case", list(CASES))
def test_other_terms_stay_below_the_own_one(terms, case):
    # For au43 this is the sleeping-patient check: closed eyes must not read as brow
    # lowering or nose wrinkling (the lid compensation in features/analytic.py).
    got = terms[case]
    own = got[OWN_TERM[case]]
    for term in ("T4", "T67", "T910", "T43"):
        if term != OWN_TERM[case]:
            assert got[term] < max(0.75 * own, 1.2), (term, got)
