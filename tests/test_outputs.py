"""Outputs: nothing partial, nothing good destroyed, every path checked before training.

Every output is either the previous run's complete file or the new complete one, at any
moment (kill -9 included); a run that fails (training, a full disk) changes none of
them and leaves no temporary file or empty folder; bad paths are refused before any
training; modes follow the umask; symbolic links are written through; a closed
standard output and Ctrl-C at start-up end quietly.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import initlab.cli
import initlab.outputs
from badinput import assert_one_line_error, files_under, run_cli
from initlab.outputs import remove_stale_temps, write_files

OUTPUTS = ("results.json", "costs.png", "decision_boundaries.png", "report.html")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # an empty IEND chunk and its CRC
OLD = ("course", "--iterations", "50", "--print-every", "25", "--engine", "reference")
NEW = ("course", "--iterations", "100", "--print-every", "50", "--engine", "reference")
ENV = {**os.environ, "MPLBACKEND": "Agg"}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder``, hidden ones included, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in files_under(folder)}


def comparable(name: str, content: bytes) -> bytes:
    """An output without the command line that made it (its ``--out`` differs between
    the runs compared here): results.json without ``provenance``, report.html without
    its Reproduce section."""
    if name.endswith(".json"):
        document = json.loads(content)
        document.pop("provenance", None)
        return json.dumps(document).encode()
    if name.endswith(".html"):
        return re.sub(rb'<section id="reproduce">.*?</section>', b"", content, flags=re.DOTALL)
    return content


def comparables(files: dict[str, bytes]) -> dict[str, bytes]:
    return {name: comparable(name, content) for name, content in files.items()}


def temporaries(folder: Path) -> list[Path]:
    return [p for p in files_under(folder) if p.name.endswith(".tmp")]


def assert_complete(name: str, content: bytes) -> None:
    """A whole results.json (it parses), a whole report.html (its first and last tag) or a
    whole PNG (signature and IEND at the end)."""
    if name.endswith(".json"):
        assert json.loads(content)["experiment"] == "course"
    elif name.endswith(".html"):
        assert content.startswith(b"<!DOCTYPE html>") and content.endswith(b"</html>"), name
    else:
        assert content.startswith(PNG_SIGNATURE) and content.endswith(PNG_END), name


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """The outputs of an old (50 iterations) and a new (100 iterations) course run."""
    found = {}
    for key, argv in (("old", OLD), ("new", NEW)):
        out = tmp_path_factory.mktemp(key)
        code = initlab.cli.main([*argv, "-q", "--out", str(out)])
        assert code == 0
        found[key] = snapshot(out)
        assert set(found[key]) == set(OUTPUTS)
    assert all(found["old"][name] != found["new"][name] for name in OUTPUTS)
    return found


def start(argv: tuple[str, ...], *, cwd: Path | None = None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *kwargs.pop("python_flags", ()), "-m", "initlab", *argv],
        cwd=cwd, env=ENV, text=True, **kwargs,
    )  # fmt: skip


# -- kill -9 at many points ---------------------------------------------------------------


def _kill_when(out: Path, event: str) -> subprocess.Popen:
    """Run the new course into ``out`` and SIGKILL it at ``event``."""
    proc = start((*NEW, "--out", str(out)), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    old_results = (out / "results.json").read_bytes()
    if event in ("training", "rendering"):
        marker = {"training": "Cost after", "rendering": "Results"}[event]
        for line in proc.stdout:
            if marker in line:
                break
    else:  # poll the folder: a temporary exists, or results.json was replaced
        for line in proc.stdout:
            if "Results" in line:
                break
        while proc.poll() is None:
            if event == "temporary" and temporaries(out):
                break
            if event == "renamed" and (out / "results.json").read_bytes() != old_results:
                break
    proc.kill()
    proc.wait()
    proc.stdout.close()
    return proc


def test_kill_9_leaves_every_output_old_or_new_and_complete(tmp_path: Path, runs) -> None:
    out = tmp_path / "out"
    # killed while training, while drawing the figures, while a temporary file is being
    # written (the folder is polled for one), and once results.json was replaced
    for event in ("training", "rendering", "temporary", "renamed"):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        for name, content in runs["old"].items():
            (out / name).write_bytes(content)
        _kill_when(out, event)
        found = snapshot(out)
        for name in OUTPUTS:
            assert_complete(name, found[name])
            versions = (comparable(name, runs[key][name]) for key in ("old", "new"))
            assert comparable(name, found[name]) in versions, (event, name)
        # after SIGKILL a temporary may remain (nothing can remove it); nothing else does
        assert set(found) - set(OUTPUTS) == {str(p.relative_to(out)) for p in temporaries(out)}
    # the next run completes the set and removes the temporaries of the killed runs
    assert initlab.cli.main([*NEW, "-q", "--out", str(out)]) == 0
    assert comparables(snapshot(out)) == comparables(runs["new"])


def test_stale_temporaries_of_dead_processes_only_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    host = initlab.outputs._host_tag()
    other_host = f"{(int(host, 16) + 1) % 2**32:08x}"
    stale = tmp_path / f".costs.png.initlab-{host}-{int(dead.stdout)}-abcd1234.tmp"
    keep = [
        tmp_path / f".costs.png.initlab-{host}-{os.getppid()}-abcd1234.tmp",  # alive
        tmp_path / f".costs.png.initlab-{host}-{os.getpid()}-abcd1234.tmp",  # this process
        tmp_path / f".costs.png.initlab-{other_host}-{int(dead.stdout)}-abcd1234.tmp",
        tmp_path / ".costs.png.someone-else.tmp",
    ]
    for path in (stale, *keep):
        path.write_bytes(b"partial")
    assert remove_stale_temps(tmp_path) == [stale]
    assert sorted(tmp_path.iterdir()) == sorted(keep)


def test_a_target_that_became_a_folder_stops_the_write_before_any_rename(tmp_path: Path):
    (tmp_path / "a").write_bytes(b"old")
    (tmp_path / "b").mkdir()
    with pytest.raises(OSError, match="not a regular file"):
        write_files([(tmp_path / "a", b"new"), (tmp_path / "b", b"new")])
    assert (tmp_path / "a").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


# -- a failing run changes nothing ----------------------------------------------------------


def _full_disk_at(victim: str, monkeypatch) -> None:
    """``initlab.outputs`` writes half of ``victim``'s temporary, then the disk is full."""
    real = initlab.outputs._write

    def write(fh, content: bytes, temp: Path) -> None:  # type: ignore[no-untyped-def]
        if temp.name.startswith(f".{victim}."):
            fh.write(content[: len(content) // 2])
            fh.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fh, content, temp)

    monkeypatch.setattr(initlab.outputs, "_write", write)


@pytest.mark.parametrize(
    ("victim", "label"),
    [
        ("results.json", "results"),
        ("copy.json", "results copy"),
        ("decision_boundaries.png", "decision boundaries"),
    ],
)
def test_full_disk_keeps_the_old_outputs_and_leaves_no_temporary(
    tmp_path: Path, capsys, monkeypatch, runs, victim: str, label: str
) -> None:
    out, copy = tmp_path / "out", tmp_path / "copies" / "copy.json"
    out.mkdir()
    for name, content in runs["old"].items():
        (out / name).write_bytes(content)
    _full_disk_at(victim, monkeypatch)
    code, stdout, stderr = run_cli(capsys, *NEW, "-q", "--out", str(out), "--json", str(copy))
    assert code == 1 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith(f"initlab: error: could not write the {label} to ")
    assert "No space left on device" in lines[0] and victim in lines[0]
    assert snapshot(out) == runs["old"]  # every old output, and nothing else
    assert not (tmp_path / "copies").exists()  # the folder this run would have created


@pytest.fixture
def small_tmpfs(tmp_path: Path, runs):
    """A tmpfs holding the old outputs with 64 kB to spare (where mount is allowed)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs Linux and root")
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    pages = sum(-(-len(content) // 4096) for content in runs["old"].values())
    size = (pages + 16) * 4096 + 64 * 1024  # the folder's own pages, and 64 kB free
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"mount not allowed here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_really_full_disk_keeps_the_old_outputs(small_tmpfs: Path, capsys, runs) -> None:
    out = small_tmpfs / "out"
    out.mkdir()
    for name, content in runs["old"].items():
        (out / name).write_bytes(content)
    code, _, stderr = run_cli(capsys, *NEW, "-q", "--out", str(out))
    assert code == 1 and len(stderr.strip().splitlines()) == 1, stderr
    assert "No space left on device" in stderr and "Traceback" not in stderr
    assert snapshot(out) == runs["old"]
    assert [p.name for p in small_tmpfs.iterdir()] == ["out"]


def test_full_disk_in_a_new_out_leaves_no_empty_folder(tmp_path: Path, capsys, monkeypatch):
    _full_disk_at("costs.png", monkeypatch)
    out = tmp_path / "a" / "b"
    code, _, stderr = run_cli(capsys, *OLD, "-q", "--out", str(out))
    assert code == 1 and "No space left on device" in stderr
    assert list(tmp_path.iterdir()) == []


def test_interrupted_training_touches_nothing(tmp_path: Path, capsys, monkeypatch, runs):
    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    out = tmp_path / "out"
    out.mkdir()
    for name, content in runs["old"].items():
        (out / name).write_bytes(content)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    monkeypatch.setattr("initlab.cli.course.run_course", interrupted)
    code, _, stderr = run_cli(capsys, *NEW, "-q", "--out", str(out))
    assert code == 130 and stderr.strip() == "initlab: aborted"
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    code, _, _ = run_cli(capsys, *NEW, "-q", "--out", str(tmp_path / "new"))
    assert code == 130 and not (tmp_path / "new").exists()


def test_write_files_refuses_two_outputs_that_are_one_file(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"old")
    (tmp_path / "dir").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(ValueError, match="same file"):
        write_files([(tmp_path / "a", b"1"), (tmp_path / "dir" / "a", b"2")])
    assert (tmp_path / "a").read_bytes() == b"old"


def test_a_link_at_an_output_path_is_replaced_never_written_through(tmp_path: Path, capsys) -> None:
    """A symbolic link planted in --out (results.json -> some precious file) is replaced
    by the output; the file it pointed to is untouched."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "b.txt").write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").symlink_to(victim / "b.txt")
    (out / "costs.png").symlink_to(victim / "a.txt")  # dangling: must not be created
    code, _, stderr = run_cli(capsys, *OLD, "-q", "--out", str(out))
    assert code == 0, stderr
    assert (victim / "b.txt").read_text() == "precious"
    assert not (victim / "a.txt").exists()
    assert not (out / "results.json").is_symlink() and not (out / "costs.png").is_symlink()
    json.loads((out / "results.json").read_text())


def test_a_failing_rename_says_what_was_replaced_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch
) -> None:
    real = os.replace
    calls = []

    def replace(src, dst) -> None:  # type: ignore[no-untyped-def]
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real(src, dst)

    for name in "abc":
        (tmp_path / name).write_bytes(b"old")
    monkeypatch.setattr(initlab.outputs.os, "replace", replace)
    with pytest.raises(initlab.outputs.OutputError) as caught:
        write_files([(tmp_path / name, b"new") for name in "abc"])
    monkeypatch.undo()
    assert caught.value.path == tmp_path / "b" and caught.value.replaced == [tmp_path / "a"]
    assert snapshot(tmp_path) == {"a": b"new", "b": b"old", "c": b"old"}


# -- modes and symbolic links ------------------------------------------------------------


def test_outputs_respect_the_umask_and_keep_a_replaced_file_s_mode(tmp_path: Path, capsys) -> None:
    out, copy = tmp_path / "out", tmp_path / "copy.json"
    old_mask = os.umask(0o027)
    try:
        assert run_cli(capsys, *OLD, "-q", "--out", str(out), "--json", str(copy))[0] == 0
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (*out.iterdir(), copy)}
        assert modes == {name: 0o640 for name in (*OUTPUTS, "copy.json")}
        assert stat.S_IMODE(out.stat().st_mode) == 0o750  # a folder made as mkdir makes it
        (out / "costs.png").chmod(0o604)
        assert run_cli(capsys, *OLD, "-q", "--out", str(out), "--json", str(copy))[0] == 0
        assert stat.S_IMODE((out / "costs.png").stat().st_mode) == 0o604
    finally:
        os.umask(old_mask)


def test_a_json_symlink_is_written_through(tmp_path: Path, capsys) -> None:
    out, target = tmp_path / "out", tmp_path / "elsewhere" / "results-copy.json"
    target.parent.mkdir()
    target.write_text("old")
    link, dangling = tmp_path / "link.json", tmp_path / "dangling.json"
    link.symlink_to(target)
    dangling.symlink_to(tmp_path / "elsewhere" / "new.json")
    for path in (link, dangling):
        code, stdout, _ = run_cli(capsys, *OLD, "--out", str(out), "--json", str(path))
        assert code == 0
        assert path.is_symlink()  # the link stays, its target is replaced
        assert path.read_bytes() == (out / "results.json").read_bytes()
        assert f"wrote results copy: {path} -> {path.resolve()}" in stdout
    assert temporaries(tmp_path) == []


# -- every path checked before training -----------------------------------------------------

LONG = "n" * 300


def _bad_paths(tmp: Path) -> dict[str, tuple[list[str], list[str]]]:
    """name: (the options, what the error line must name)."""
    out = str(tmp / "out")
    return {
        "empty out": (["--out", ""], ["'--out'", "empty"]),
        "out is a file": (["--out", str(tmp / "file")], ["'--out'", "existing file"]),
        "out under a file": (["--out", str(tmp / "file" / "sub")], ["'--out'", "is a file"]),
        "out name too long": (["--out", str(tmp / LONG)], ["'--out'", "too long"]),
        "out nested name too long": (
            ["--out", str(tmp / "new" / LONG / "x")],
            ["'--out'", "too long"],
        ),
        "out path too long": (["--out", str(tmp / "/".join(["d" * 200] * 21))], ["'--out'"]),
        "out under /proc": (["--out", "/proc/initlab-out"], ["'--out'", "/proc"]),
        "out is /proc/self": (["--out", "/proc/self"], ["'--out'", "/proc"]),
        "out has a directory costs.png": (
            ["--out", str(tmp / "blocked")],
            ["'--out'", "costs.png", "not a regular file"],
        ),
        "empty json": (["--out", out, "--json", ""], ["'--json'", "empty"]),
        "json is a directory": (["--out", out, "--json", str(tmp)], ["'--json'", "directory"]),
        "json name too long": (
            ["--out", out, "--json", str(tmp / f"{LONG}.json")],
            ["'--json'", "too long"],
        ),
        "json under a file": (
            ["--out", out, "--json", str(tmp / "file" / "r.json")],
            ["'--json'", "is a file"],
        ),
        "json under /proc": (["--out", out, "--json", "/proc/self/r.json"], ["'--json'", "/proc"]),
        "json is /dev/stdout": (["--out", out, "--json", "/dev/stdout"], ["'--json'", "/dev"]),
        "json is a link loop": (["--out", out, "--json", str(tmp / "loop")], ["'--json'", "loop"]),
        "json is costs.png": (
            ["--out", out, "--json", str(tmp / "out" / "costs.png")],
            ["'--json'", "costs.png"],
        ),
        "json is decision_boundaries.png": (
            ["--out", out, "--json", str(tmp / "out" / "decision_boundaries.png")],
            ["'--json'", "decision_boundaries.png"],
        ),
        "json is results.json": (
            ["--out", out, "--json", str(tmp / "out" / "results.json")],
            ["'--json'", "results.json"],
        ),
        "json is the new out": (["--out", out, "--json", out], ["'--json'", "--out"]),
        "json is above the new out": (
            ["--out", str(tmp / "a" / "b"), "--json", str(tmp / "a")],
            ["'--json'", "directory"],
        ),
        "json links to results.json": (
            ["--out", out, "--json", str(tmp / "to-results.json")],
            ["'--json'", "results.json"],
        ),
    }


BAD_PATHS = list(_bad_paths(Path("/x")))


@pytest.mark.parametrize("command", ["course", "train"])
@pytest.mark.parametrize("case", BAD_PATHS)
def test_bad_output_paths_fail_before_training(tmp_path: Path, capsys, case, command) -> None:
    if "/proc" in case and not Path("/proc/self").is_dir():
        pytest.skip("no /proc here")
    (tmp_path / "file").write_text("a file")
    (tmp_path / "blocked" / "costs.png").mkdir(parents=True)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "to-results.json").symlink_to(tmp_path / "out" / "results.json")
    options, names = _bad_paths(tmp_path)[case]
    before = sorted(tmp_path.rglob("*"))
    argv = [*OLD] if command == "course" else ["train", "--iterations", "50"]
    code, stdout, stderr = run_cli(capsys, *argv, *options)
    assert_one_line_error(code, stderr, *names)
    assert stdout == ""  # no cost line: it failed before training
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, no folder made


# -- a closed standard output, Ctrl-C at start-up --------------------------------------------


def test_a_closed_stdout_still_writes_every_output_and_exits_quietly(tmp_path: Path) -> None:
    # 4500 cost lines (~220 kB), far more than a pipe holds (64 kB): the writes must meet
    # the closed pipe
    argv = ("course", "--iterations", "1500", "--print-every", "1", "--engine", "reference")
    proc = start((*argv, "--out", str(tmp_path)), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    stderr = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=300) == 0, stderr
    assert first == "[zeros] Cost after iteration 0: 0.6931471805599453\n"
    assert stderr == ""  # no traceback, no "Exception ignored"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(OUTPUTS)
    for name in OUTPUTS:
        assert_complete(name, (tmp_path / name).read_bytes())
    runs = json.loads((tmp_path / "results.json").read_text())["runs"]
    assert [len(run["costs"]) for run in runs] == [1500, 1500, 1500]


@pytest.mark.parametrize("delay", [0.0, 0.2, 0.6, 1.5])
def test_ctrl_c_at_start_up_is_one_line_and_exit_130(tmp_path: Path, delay: float) -> None:
    # -X importtime reports each import as it ends: wait until initlab's first module
    # is in, then interrupt the imports (NumPy, SciPy, ...) and what follows
    proc = start(
        (*OLD, "-q", "--out", str(tmp_path / "out")),
        python_flags=("-X", "importtime"), stderr=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.rstrip().endswith("initlab._startup"):
            break
    else:
        pytest.fail("initlab._startup was never imported")
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=300)
    lines = [line for line in rest.splitlines() if not line.startswith("import time:")]
    assert "Traceback" not in rest and "KeyboardInterrupt" not in rest, rest
    if proc.returncode == 0:  # it had finished
        assert lines == []
    else:
        assert proc.returncode == 130 and [line for line in lines if line] == [
            "initlab: aborted"
        ], rest
        assert not (tmp_path / "out").exists()
