"""The output paths, ``--out DIR`` and ``--json FILE``, and every check of them.

:func:`check_outputs` runs before any training and creates nothing: the folders are
made only when the outputs are written (:func:`initlab.outputs.write_files`), so a run
that fails leaves no empty ``--out`` behind. It refuses, naming the option:

- an empty path, or one with a NUL character;
- an ``--out`` that is a file, a ``--json`` that is a directory or not a regular file;
- a file or folder name longer than the file system allows (``NAME_MAX``, ``PATH_MAX``);
- a folder that cannot be created or written in (it is tried: a temporary file is made
  and removed), which covers read-only file systems and ``/proc``;
- paths under ``/proc``, ``/sys`` and ``/dev`` (but ``/dev/shm``): ``/dev/stdout`` too,
  whose target depends on the shell's redirection;
- a ``--json`` that is one of the files initlab writes in ``--out``;
- a symbolic link loop. Other symbolic links are written through: their target is
  replaced, the link stays.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from pathlib import Path

import click

from initlab.outputs import resolve_target, temp_file

PSEUDO_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
ORDINARY_UNDER_DEV = Path("/dev/shm")


class OutputPathType(click.Path):
    """A path to write to: not empty, no NUL character."""

    def __init__(self) -> None:
        super().__init__(path_type=Path)

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, str):
            if value == "":
                self.fail("an empty path is not allowed; give a file system path", param, ctx)
            if "\0" in value:
                self.fail(f"{value!r} contains a NUL character", param, ctx)
        return super().convert(value, param, ctx)


def out_option(default: Path):  # type: ignore[no-untyped-def]
    """``--out DIR``: where the figures and results.json go."""
    return click.option(
        "--out",
        "out_dir",
        type=OutputPathType(),
        default=default,
        show_default=True,
        help="Directory for the figures and results.json (created if needed). Every "
        "output is replaced whole, all together, only once the run succeeded.",
    )


json_option = click.option(
    "--json",
    "json_path",
    type=OutputPathType(),
    default=None,
    help="Also write the results JSON to this file (a symbolic link is written through).",
)


def _fail(option: str, message: str) -> click.BadParameter:
    return click.BadParameter(message, param_hint=f"'{option}'")


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _path_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_PATH_MAX")
    except (OSError, ValueError):
        return 4096


def _existing_ancestor(path: Path) -> Path:
    while not os.path.lexists(path):
        path = path.parent
    return path


def _pseudo_root(path: Path) -> Path | None:
    for root in PSEUDO_ROOTS:
        if (path == root or root in path.parents) and not (
            path == ORDINARY_UNDER_DEV or ORDINARY_UNDER_DEV in path.parents
        ):
            return root
    return None


def _check_not_pseudo(option: str, given: Path, target: Path) -> None:
    for path in (Path(os.path.abspath(given)), target):
        root = _pseudo_root(path)
        if root is not None:
            raise _fail(
                option,
                f"{str(given)!r} is in the {root} pseudo file system; initlab writes "
                "regular files in an ordinary directory",
            )


def _check_lengths(option: str, given: Path, path: Path) -> None:
    """Every name of ``path`` that does not exist yet, and the whole path, must fit."""
    ancestor = _existing_ancestor(path)
    limit = _name_max(ancestor)
    for part in path.relative_to(ancestor).parts:
        size = len(os.fsencode(part))
        if size > limit:
            raise _fail(
                option,
                f"file name too long in {str(given)!r}: {size} bytes in one name, "
                f"the file system allows {limit}",
            )
    size, limit = len(os.fsencode(str(path))), _path_max(ancestor)
    if size >= limit:
        raise _fail(
            option, f"path too long: {str(given)!r} is {size} bytes, the system allows {limit - 1}"
        )


def _check_folder(option: str, given: Path, folder: Path) -> None:
    """``folder`` is a folder initlab can write in, or one it can create."""
    ancestor = _existing_ancestor(folder)
    if not ancestor.is_dir():
        what = "a file" if ancestor.exists() else "a dangling symbolic link"
        raise _fail(option, f"cannot create directory {str(folder)!r}: {str(ancestor)!r} is {what}")
    try:
        with temp_file(ancestor):
            pass
    except OSError as exc:
        verb = "write in" if ancestor == folder else f"create {str(folder)!r} in"
        raise _fail(
            option, f"cannot {verb} directory {str(ancestor)!r} ({exc.strerror or exc})"
        ) from None


def _resolve(option: str, given: Path) -> Path:
    try:
        os.path.realpath(given, strict=True)
    except (FileNotFoundError, NotADirectoryError):
        pass  # checked below: the folder it would be in
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _fail(option, f"{str(given)!r} is a symbolic link loop") from None
        if exc.errno == errno.ENAMETOOLONG:
            _check_lengths(option, given, Path(os.path.abspath(given)))
        raise _fail(option, f"cannot use {str(given)!r} ({exc.strerror or exc})") from None
    return resolve_target(given)


def check_out_dir(out_dir: Path, names: Sequence[str], *, option: str = "--out") -> Path:
    """Check ``--out`` (or the folder argument called ``option``), a folder for the files
    ``names``; returns it resolved."""
    target = _resolve(option, out_dir)
    _check_not_pseudo(option, out_dir, target)
    longest = max(names, key=lambda name: len(os.fsencode(name)))
    _check_lengths(option, out_dir, target / longest)
    if target.exists() and not target.is_dir():
        raise _fail(option, f"{str(out_dir)!r} is an existing file; a directory is needed")
    _check_folder(option, out_dir, target)
    for name in names:
        path = target / name
        if path.exists() and not resolve_target(path).is_file():
            raise _fail(
                option,
                f"{str(out_dir / name)!r} exists and is not a regular file; "
                f"initlab writes its {name} there",
            )
    return target


def check_file_path(option: str, path: Path) -> Path:
    """Check the file path given to ``option``: a regular file (or none yet) in a folder
    initlab can write in, outside the pseudo file systems; returns it resolved."""
    target = _resolve(option, path)
    _check_not_pseudo(option, path, target)
    _check_lengths(option, path, target)
    if target.is_dir():
        raise _fail(option, f"{str(path)!r} is a directory; a file path is needed")
    if target.exists() and not target.is_file():
        raise _fail(option, f"{str(path)!r} is not a regular file")
    _check_folder(option, path, target.parent)
    return target


def check_json_path(json_path: Path, out_dir: Path, names: Sequence[str]) -> Path:
    """Check ``--json``: a regular file (or none yet) that is none of ``--out``'s files."""
    option = "--json"
    target = check_file_path(option, json_path)
    out_target = resolve_target(out_dir)
    if target == out_target or target in out_target.parents:
        raise _fail(option, f"{str(json_path)!r} is where --out {str(out_dir)!r} needs a directory")
    for name in names:
        other = resolve_target(out_target / name)
        same = other == target or (
            other.exists() and target.exists() and os.path.samefile(other, target)
        )
        if same:
            raise _fail(
                option,
                f"{str(json_path)!r} is the {name} initlab writes in --out; "
                "give --json another path",
            )
    return target


def check_outputs(out_dir: Path, names: Sequence[str], json_path: Path | None) -> None:
    """Check ``--out`` (the folder of ``names``) and ``--json`` before any work; create
    nothing; ``report.html`` (:func:`initlab.report.with_report`) is one of ``--out``'s
    files too. Raises :class:`click.BadParameter` naming the option."""
    from initlab.report import REPORT_FILE

    names = [*names, REPORT_FILE]
    check_out_dir(out_dir, names)
    if json_path is not None:
        check_json_path(json_path, out_dir, names)
