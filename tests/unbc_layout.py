"""A UNBC-McMaster archive in miniature, in its own layout, for tests that read one."""

from __future__ import annotations

from pathlib import Path

import cv2

from painvision.synth.faces import load_photo
from painvision.synth.render import FaceRig
from painvision.synth.sequence import Episode, Script


def write_unbc(root: Path, sequences: list[tuple[str, str, float]]) -> Path:
    """``root`` holding one 2-s sequence (15 fps, 240x180, the astronaut photo) per
    ``(subject, sequence, peak)``: a pain episode of AU4 ``peak`` and AU7 ``peak / 2``, with
    its PSPI and FACS files as the archive has them."""
    rig = FaceRig(load_photo("astronaut"), (240, 180))
    for subject, seq, peak in sequences:
        tl = Script(2.0, 15.0, episodes=(Episode(0.6, 0.9, 1.4, 1.8,
                                                 {"au4": peak, "au7": peak / 2}),)).timeline()
        labels = tl.labels()
        img_dir = root / "Images" / subject / seq
        pspi_dir = root / "Frame_Labels" / "PSPI" / subject / seq
        facs_dir = root / "Frame_Labels" / "FACS" / subject / seq
        for d in (img_dir, pspi_dir, facs_dir):
            d.mkdir(parents=True)
        for i in range(len(tl)):
            stem = f"{seq}{i + 1:03d}"
            drive = {k: float(v[i]) for k, v in tl.drive.items()}
            cv2.imwrite(str(img_dir / f"{stem}.png"), rig.frame(drive, tl.head[i]))
            (pspi_dir / f"{stem}_facs.txt").write_text(f"   {labels.pspi[i]:.7e}\n")
            lines = [f"   {au:.7e}   {getattr(labels, f'au{au}')[i]:.7e}"
                     for au in (4, 7) if getattr(labels, f"au{au}")[i] > 0]
            (facs_dir / f"{stem}_facs.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
    return root
