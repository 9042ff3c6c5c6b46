"""painvision's FHIR CodeSystem as a file: docs/fhir/painvision-codesystem.json.

The codes live in ``painvision.fhir.CODES``; this writes the validated ``CodeSystem``
resource built from them (``tests/test_fhir.py`` checks that the file matches).

Usage: python scripts/make_fhir_codesystem.py [--out docs/fhir/painvision-codesystem.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from painvision.fhir import codesystem
from painvision.fileio import atomic_write_text

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs/fhir/painvision-codesystem.json")
    args = ap.parse_args()
    atomic_write_text(args.out, json.dumps(codesystem(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
