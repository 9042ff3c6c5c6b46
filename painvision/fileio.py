"""Writing files so that they appear only when complete."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_output", "atomic_outputs", "atomic_write_text", "json_safe",
           "make_private_dirs", "missing_folders", "move_all", "shown_path"]


def _file_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file: 0o666 less the umask,
    read once, at import: from /proc where the kernel shows it, else by setting it and
    putting it back (which another thread creating a file at that instant could see)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            mask = next(int(line.split()[1], 8) for line in fh if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


@contextmanager
def atomic_output(path: str | os.PathLike[str], private: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``
    (with the mode the user's umask gives new files: patient data stays as private as
    they keep it), on any error it is removed. Readers never see a half-written file.

    ``private``: a file for this user alone (0600), the folders made for it too (0700):
    for what the user did not ask to have written, such as a cache of face meshes."""
    target = Path(path)
    if private:
        make_private_dirs(target.parent)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                suffix=".tmp" + target.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o600 if private else _FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def missing_folders(path: str | os.PathLike[str]) -> list[Path]:
    """``path`` and those of its parents that do not exist yet, innermost first."""
    missing = []
    p = Path(path)
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    return missing


def make_private_dirs(folder: str | os.PathLike[str]) -> Path:
    """``folder`` and its missing parents, those made here for this user alone (0700);
    folders that exist already are left as they are."""
    for d in reversed(missing_folders(folder)):
        d.mkdir(mode=0o700, exist_ok=True)
    return Path(folder)


def json_safe(obj: object) -> object:
    """``obj`` with numpy numbers as Python ones and NaN or inf as null, for
    ``json.dumps(..., allow_nan=False)``: JSON has no NaN, and strict readers refuse a
    file or line that holds one (a Pearson r of a constant series, a score not read)."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and getattr(obj, "ndim", None) == 0:
        obj = obj.item()  # a numpy scalar: its Python number
    if isinstance(obj, bool | int | str) or obj is None:
        return obj
    try:
        v = float(obj)
    except (TypeError, ValueError):
        return obj
    return v if math.isfinite(v) else None


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write a UTF-8 text file atomically (see ``atomic_output``)."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def move_all(files: list[Path], dest: str | os.PathLike[str], keep: Path) -> list[Path]:
    """Move ``files`` into the folder ``dest`` (same file system), keeping their names:
    all of them, or, if one move fails, none (the error is raised).

    A file already at a destination (allowed by the caller: ``--overwrite``) is first moved
    aside into the folder ``keep``, so a failure puts the user's file back as it was; on
    success what was moved aside stays in ``keep`` for the caller to delete. Returns the
    new paths."""
    dest = Path(dest)
    done: list[tuple[Path, Path, Path | None]] = []  # (source, target, what it replaced)
    try:
        for i, f in enumerate(files):
            target = dest / f.name
            aside = None
            if target.exists() and not target.is_dir():
                aside = keep / f".replaced.{i}.{f.name}"
                os.replace(target, aside)
            done.append((f, target, aside))
            os.replace(f, target)
    except BaseException:
        for f, target, aside in reversed(done):
            try:
                if not f.exists() and target.exists():
                    os.replace(target, f)
                if aside is not None and aside.exists():
                    os.replace(aside, target)
            except OSError:
                pass  # as much as can be put back is
        raise
    return [target for _, target, _ in done]


@contextmanager
def atomic_outputs(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a hidden staging folder inside ``folder``: what the caller writes there
    appears in ``folder`` all together when the block ends (``move_all``; a file it
    replaces is put back if a move fails), or, on any error, none of it does. For files
    that only make sense as a set, such as weights and the report on them."""
    dest = Path(folder)
    dest.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=dest, prefix=".painvision-", suffix=".tmp"))
    keep = stage / ".replaced"
    try:
        yield stage
        files = sorted(p for p in stage.iterdir() if p != keep)
        for f in files:
            os.chmod(f, _FILE_MODE)
        keep.mkdir()
        move_all(files, dest, keep)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def shown_path(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str:
    """``path`` relative to ``root`` when it lies inside it, else as given: for reports
    that are committed, which should not hold one machine's absolute paths."""
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)
