"""Writing a run's output files all or nothing.

:func:`write_files` gets every output's full content first, then writes each to a
temporary file in its target's folder, ``.NAME.initlab-HOST-PID-XXXXXXXX.tmp``, flushed to
disk, and only when all of them are written renames them into place with
:func:`os.replace`. So every output file is, at any moment, either the previous complete
file or the new complete one (a kill -9 included), and a write that fails (a full disk,
a lost permission) removes its temporaries, and the folders it created, and leaves the
previous run's outputs untouched.

A new file gets the mode an ordinary ``open(path, "w")`` gives it, ``0o666 & ~umask``; a
file replaced keeps its mode. A target that is a symbolic link is written through: the
file it points to is replaced, the link stays.

A process killed while it writes its temporaries leaves them behind (nothing can remove
a file when its writer gets SIGKILL); the next successful write into that folder removes
every temporary whose process is gone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import socket
import stat
import tempfile
import threading
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = [
    "OutputError",
    "output_target",
    "remove_stale_temps",
    "resolve_target",
    "temp_file",
    "write_files",
]

TEMP_MARK = ".initlab-"
_TEMP_NAME = re.compile(r"^\..*\.initlab-([0-9a-f]{8})-(\d+)-[^.]+\.tmp$", re.DOTALL)


def _host_tag() -> str:
    """8 hex digits naming this host (or container): temporaries are told apart by host
    and process, so a folder shared between machines is cleaned by each for itself."""
    return f"{zlib.crc32(socket.gethostname().encode('utf-8', 'replace')):08x}"


class OutputError(OSError):
    """Writing ``path`` failed (``strerror`` says why); no file was replaced but those in
    ``replaced``, which is empty unless a rename itself failed."""

    def __init__(self, path: Path, cause: OSError, replaced: Sequence[Path] = ()) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause), str(path))
        self.path = path
        self.replaced = list(replaced)  # files already renamed into place (rare: see below)


def output_target(path: str | os.PathLike[str]) -> Path:
    """The file a write to ``path`` replaces: ``path`` in its folder with the folder's
    symbolic links resolved. A symbolic link at ``path`` itself is replaced by the new
    file, never written through: an output never overwrites what a link points to
    (write through a link on purpose by passing :func:`resolve_target` of it)."""
    absolute = Path(os.path.abspath(path))
    return Path(os.path.realpath(absolute.parent)) / absolute.name


def resolve_target(path: str | os.PathLike[str]) -> Path:
    """The file a write to ``path`` replaces: ``path`` with every symbolic link resolved.

    A dangling link resolves to the file it names (writing creates it, as ``open`` does).
    """
    return Path(os.path.realpath(os.path.abspath(path)))


def _temp_prefix(target: Path) -> str:
    # at most 40 characters of the name, so the temporary fits NAME_MAX whatever the name
    return f".{target.name[:40]}{TEMP_MARK}{_host_tag()}-{os.getpid()}-"


@contextlib.contextmanager
def temp_file(folder: Path, target_name: str = "probe") -> Iterator[tuple[int, Path]]:
    """A new empty temporary file in ``folder`` (open descriptor and path), removed on exit
    unless it was renamed away."""
    fd, name = tempfile.mkstemp(
        prefix=_temp_prefix(folder / target_name), suffix=".tmp", dir=folder
    )
    path = Path(name)
    try:
        yield fd, path
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _umask() -> int:
    """The process's umask, read without changing it where the system tells it."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (a moment another thread could see)
    os.umask(mask)
    return mask


def _make_folders(folder: Path) -> list[Path]:
    """``mkdir -p folder``; returns the folders it created, outermost first."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    created: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue
        created.append(path)
    return created


def _write_temp(target: Path, content: bytes, mode: int) -> Path:
    fd, name = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=".tmp", dir=target.parent)
    try:
        with open(fd, "wb", closefd=True) as fh:
            _write(fh, content, Path(name))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(name, mode)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _write(fh, content: bytes, temp: Path) -> None:  # type: ignore[no-untyped-def]
    """Write the whole content to the open temporary ``temp`` (the tests' full disk)."""
    fh.write(content)


@contextlib.contextmanager
def _no_interrupt() -> Iterator[None]:
    """Hold SIGINT back while the renames run, so Ctrl-C cannot split the set."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def write_files(contents: Sequence[tuple[str | os.PathLike[str], bytes]]) -> list[Path]:
    """Write every ``(path, content)`` pair, all or nothing; returns the files written
    (see :func:`output_target`: a symbolic link at a path is replaced, not followed).

    Raises :class:`OutputError` (an ``OSError``) naming the first file that could not be
    written; then no file was replaced, and no temporary file or new folder remains.
    The renames come last, with SIGINT held back; short of the folders changing under
    the run (a target turned into a folder) they cannot fail.
    """
    targets = [output_target(path) for path, _ in contents]
    if len(set(targets)) != len(targets):
        raise ValueError(f"two outputs are the same file: {[str(t) for t in targets]}")
    umask = _umask()
    created: list[Path] = []
    staged: list[Path] = []
    done = False
    try:
        for target, (_, content) in zip(targets, contents, strict=True):
            try:
                created += _make_folders(target.parent)
                try:
                    status = os.lstat(target)
                except FileNotFoundError:
                    mode = 0o666 & ~umask
                else:
                    if stat.S_ISLNK(status.st_mode):  # the link is replaced, not followed
                        mode = 0o666 & ~umask
                    elif stat.S_ISREG(status.st_mode):
                        mode = stat.S_IMODE(status.st_mode)
                    else:
                        raise OSError(errno.EEXIST, "it exists and is not a regular file")
                staged.append(_write_temp(target, content, mode))
            except OSError as exc:
                raise OutputError(target, exc) from exc
        with _no_interrupt():
            for i, (temp, target) in enumerate(zip(staged, targets, strict=True)):
                try:
                    os.replace(temp, target)
                except OSError as exc:
                    raise OutputError(target, exc, replaced=targets[:i]) from exc
        done = True
    finally:
        if not done:
            for temp in staged:
                temp.unlink(missing_ok=True)
            for folder in reversed(created):
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only if empty
    for folder in dict.fromkeys(target.parent for target in targets):
        _sync_folder(folder)
        remove_stale_temps(folder)
    return targets


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries (the renames) to disk, where the system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def remove_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporaries in ``folder`` left by initlab processes of this host that are
    gone (killed while writing); returns them."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    host = _host_tag()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match and match.group(1) == host and not _process_alive(int(match.group(2))):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed
