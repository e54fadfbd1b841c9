"""Output files of every command: checked before any work, written without replacing a device.

- a device or fifo given as an output (``run --out /dev/null``) is written into and stays a
  device or fifo; a fifo in a temporary folder stands in for the device here (the real /dev is
  never touched);
- an existing regular file is replaced atomically, no temporary file left behind;
- a folder, an input of the command, or a place that cannot be written is refused with one line
  and exit status 2, before anything is simulated, synthesised, traced or read.
"""

from __future__ import annotations

import importlib
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from accelsim.errors import InputError
from accelsim.io import check_output_file, write_output_text
from accelsim.trace import save_trace
from tests.conftest import tiny_trace

REPO = Path(__file__).resolve().parents[1]
ARCH_A = str(REPO / "configs" / "arch_a.yaml")
HAVE_PROC = Path("/proc/self/fd").is_dir()


@pytest.fixture
def trace_file(tmp_path):
    p = tmp_path / "t.npz"
    save_trace(p, tiny_trace(T=5))
    return p


class FifoReader:
    """A named pipe in a temporary folder with a thread reading it to the end: it stands in for
    ``/dev/null`` or ``/dev/stdout``, a target that exists and is not a regular file."""

    def __init__(self, path: Path):
        self.path = path
        os.mkfifo(path)
        self.data = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        with open(self.path, "rb") as f:
            self.data = f.read()

    def finish(self) -> bytes | None:
        self.thread.join(timeout=30)
        if self.thread.is_alive():  # nothing opened the fifo for writing: release the reader
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
            self.thread.join(timeout=5)
        return self.data


@pytest.fixture
def no_work(monkeypatch):
    """Every piece of work a command could start raises: a refusal must come before any of it."""
    def boom(*a, **k):
        raise AssertionError("work started before the output was checked")

    sim = importlib.import_module("accelsim.engine.simulate")
    import accelsim.engine as engine
    import accelsim.report.build as build
    import accelsim.trace as trace
    import accelsim.trace.synth as synth
    import accelsim.validate.case as case
    import accelsim.validate.run as vrun

    for mod, name in ((sim, "simulate"), (sim, "simulate_steps"), (engine, "simulate"),
                      (engine, "simulate_steps"), (trace, "load_trace"), (synth, "synthesize"),
                      (case, "load_case"), (vrun, "run_validation"), (build, "load_many")):
        monkeypatch.setattr(mod, name, boom)
    try:
        import accelsim.workloads.model_file as model_file
        import accelsim.workloads.trace_export as trace_export
    except ImportError:
        pass
    else:
        monkeypatch.setattr(model_file, "load_model", boom)
        monkeypatch.setattr(trace_export, "make_trace", boom)


def _one_line_refusal(code, err, *words):
    assert code == 2, err
    assert err.startswith("accelsim: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)


# ------------------------------------------------------------------ devices, fifos, regular files


def test_fifo_is_written_into_and_stays_a_fifo(tmp_path):
    fifo = FifoReader(tmp_path / "dev-null")
    write_output_text(fifo.path, "hello\n")
    assert fifo.finish() == b"hello\n"
    assert stat.S_ISFIFO(os.lstat(fifo.path).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["dev-null"]  # no temporary file beside it


def test_run_out_to_a_device_leaves_it_a_device(cli, tmp_path, trace_file):
    """``run --out /dev/null`` as root once replaced the device with a JSON file."""
    fifo = FifoReader(tmp_path / "null")
    code, _, err = cli("run", ARCH_A, "--trace", trace_file, "--out", fifo.path, "--quiet")
    data = fifo.finish()
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo.path).st_mode)
    assert json.loads(data)["tokens"] == 5
    assert sorted(os.listdir(tmp_path)) == ["null", "t.npz"]


def test_run_steps_to_a_device_leaves_it_a_device(cli, tmp_path, trace_file):
    fifo = FifoReader(tmp_path / "null")
    out = tmp_path / "r.json"
    code, _, err = cli("run", ARCH_A, "--trace", trace_file, "--steps", fifo.path, "--out", out, "--quiet")
    data = fifo.finish()
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo.path).st_mode)
    assert data.decode().splitlines()[0] == "t,layer,phase,start,end,cycles"
    assert json.loads(out.read_text())["tokens"] == 5


def test_existing_regular_file_is_replaced_atomically(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old result")
    with open(target) as held:  # a reader holding the old file still sees it whole
        write_output_text(target, "new result")
        assert held.read() == "old result"
    assert target.read_text() == "new result"
    assert stat.S_ISREG(os.lstat(target).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["r.json"]  # no temporary file left


def test_run_out_replaces_an_existing_result_atomically(cli, tmp_path, trace_file):
    out = tmp_path / "r.json"
    out.write_text("an earlier result")
    old_inode = out.stat().st_ino
    code, _, err = cli("run", ARCH_A, "--trace", trace_file, "--out", out, "--quiet")
    assert code == 0, err
    assert json.loads(out.read_text())["tokens"] == 5
    assert out.stat().st_ino != old_inode  # renamed over, not rewritten in place
    assert sorted(os.listdir(tmp_path)) == ["r.json", "t.npz"]


def test_a_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    import accelsim.io as io

    target = tmp_path / "r.json"
    target.write_text("kept")

    def fail_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io.os, "fsync", fail_fsync)
    with pytest.raises(InputError, match="cannot write .No space left on device"):
        write_output_text(target, "new")
    assert target.read_text() == "kept"
    assert sorted(os.listdir(tmp_path)) == ["r.json"]


def test_a_link_to_a_file_stays_a_link(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_output_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["link.json", "real.json"]


@pytest.mark.skipif(not HAVE_PROC, reason="needs /proc/self/fd")
def test_a_file_descriptor_name_is_written_into_not_replaced(tmp_path):
    """``--out /dev/stdout`` with stdout redirected to a file: a name of an open file descriptor,
    here a link in a temporary folder to /proc/self/fd/N, is appended to; neither the name nor
    the file it leads to is replaced."""
    redirected = tmp_path / "stdout.txt"
    redirected.write_text("earlier output\n")
    fd = os.open(redirected, os.O_WRONLY | os.O_APPEND)
    try:
        name = tmp_path / "stdout"
        name.symlink_to(f"/proc/self/fd/{fd}")
        inode = redirected.stat().st_ino
        check_output_file(name, "--out")
        write_output_text(name, "result\n")
        assert redirected.read_text() == "earlier output\nresult\n"
        assert redirected.stat().st_ino == inode
        assert name.is_symlink()
        assert sorted(os.listdir(tmp_path)) == ["stdout", "stdout.txt"]
    finally:
        os.close(fd)


def test_a_socket_is_refused(tmp_path):
    import socket

    path = tmp_path / "s"
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(str(path))
        with pytest.raises(InputError, match="is a socket"):
            check_output_file(path, "--out")
    finally:
        s.close()


# ------------------------------------------------------------------ run: inputs, folders, places


@pytest.mark.parametrize("option", ["--out", "--steps"])
def test_run_output_equal_to_the_trace_is_refused(cli, tmp_path, trace_file, no_work, option):
    before = trace_file.read_bytes()
    code, _, err = cli("run", ARCH_A, "--trace", trace_file, option, trace_file)
    _one_line_refusal(code, err, option, "is also an input")
    assert trace_file.read_bytes() == before


def test_run_output_equal_to_the_trace_through_another_name(cli, tmp_path, trace_file, no_work):
    alias = tmp_path / "sub" / ".." / "t.npz"
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.npz"
    link.symlink_to(trace_file)
    for name in (alias, link):
        code, _, err = cli("run", ARCH_A, "--trace", trace_file, "--out", name)
        _one_line_refusal(code, err, "--out", "is also an input")
    assert stat.S_ISLNK(os.lstat(link).st_mode)


def test_run_output_equal_to_the_config_is_refused(cli, tmp_path, trace_file, no_work):
    cfg = tmp_path / "a.yaml"
    cfg.write_bytes(Path(ARCH_A).read_bytes())
    code, _, err = cli("run", cfg, "--trace", trace_file, "--out", cfg)
    _one_line_refusal(code, err, "--out", "is also an input")
    assert cfg.read_bytes() == Path(ARCH_A).read_bytes()


def test_run_out_and_steps_must_differ(cli, tmp_path, trace_file, no_work):
    same = tmp_path / "x.csv"
    code, _, err = cli("run", ARCH_A, "--trace", trace_file, "--out", same, "--steps", same)
    _one_line_refusal(code, err, "--out", "--steps", "different files")
    assert not same.exists()


def test_run_out_and_steps_may_share_a_device(tmp_path):
    """Two outputs into one device (``--out /dev/null --steps /dev/null``) are not a clash; the
    checks never open the device (a fifo without a reader would block)."""
    from accelsim.io import check_distinct_outputs

    fifo = tmp_path / "null"
    os.mkfifo(fifo)
    for option in ("--out", "--steps"):
        assert check_output_file(fifo, option) == fifo
    check_distinct_outputs({"--out": fifo, "--steps": fifo})
    with pytest.raises(InputError, match="different files"):
        check_distinct_outputs({"--out": tmp_path / "a", "--steps": tmp_path / "a"})


def test_run_out_folder_is_refused_before_the_simulation(cli, tmp_path, trace_file, no_work):
    (tmp_path / "d").mkdir()
    code, _, err = cli("run", ARCH_A, "--trace", trace_file, "--out", tmp_path / "d")
    _one_line_refusal(code, err, "--out", "is a folder")
    assert list((tmp_path / "d").iterdir()) == []


def _unwritable(tmp_path: Path, kind: str, name: str) -> Path:
    if kind == "under_a_file":
        (tmp_path / "afile").write_text("x")
        return tmp_path / "afile" / name
    return Path("/proc") / "accelsim-no-such-entry" / name


UNWRITABLE = ["under_a_file", pytest.param("proc", marks=pytest.mark.skipif(not HAVE_PROC, reason="no /proc"))]


@pytest.mark.parametrize("kind", UNWRITABLE)
@pytest.mark.parametrize("option", ["--out", "--steps"])
def test_run_unwritable_place_is_refused_before_the_simulation(cli, tmp_path, trace_file, no_work,
                                                               kind, option):
    target = _unwritable(tmp_path, kind, "r.out")
    code, _, err = cli("run", ARCH_A, "--trace", trace_file, option, target)
    _one_line_refusal(code, err, option, "cannot write")
    if kind == "under_a_file":
        assert (tmp_path / "afile").read_text() == "x"


# ------------------------------------------------------------------ every other output option


def _commands(tmp_path: Path, target: Path) -> dict[str, list]:
    """Each output option, with inputs good enough to reach the output check."""
    case = tmp_path / "case"
    return {
        "trace synth --out": ["trace", "synth", "--layers", "8,16", "--tokens", "5", "--out", target],
        "trace egru --out": ["trace", "egru", "--model", tmp_path / "m.npz", "--ptb", tmp_path,
                             "--out", target],
        "validate --json": ["validate", case, "--json", target],
        "validate --csv": ["validate", case, "--csv", target],
        "validate --plot": ["validate", case, "--plot", target.with_suffix(".png")],
        "report --out": ["report", tmp_path / "runs", "--out", target],
    }


OPTIONS = list(_commands(Path("x"), Path("y")))


def _option(label: str) -> str:
    return label.split()[-1]


@pytest.mark.parametrize("label", OPTIONS)
@pytest.mark.parametrize("kind", UNWRITABLE)
def test_unwritable_place_is_refused_before_any_work(cli, tmp_path, no_work, label, kind):
    target = _unwritable(tmp_path, kind, "o.out")
    code, _, err = cli(*_commands(tmp_path, target)[label])
    _one_line_refusal(code, err, _option(label), "cannot write")
    if kind == "under_a_file":
        assert (tmp_path / "afile").read_text() == "x"


@pytest.mark.parametrize("label", [l for l in OPTIONS if l != "report --out"])
def test_folder_as_output_file_is_refused_before_any_work(cli, tmp_path, no_work, label):
    folder = tmp_path / "d.png"  # the --plot suffix is right: the folder is what is refused
    folder.mkdir()
    argv = _commands(tmp_path, folder)[label]
    code, _, err = cli(*argv)
    _one_line_refusal(code, err, _option(label), "is a folder")


def test_report_out_that_is_a_file_is_refused_before_any_work(cli, tmp_path, no_work):
    (tmp_path / "r").write_text("x")
    code, _, err = cli(*_commands(tmp_path, tmp_path / "r")["report --out"])
    _one_line_refusal(code, err, "--out", "is a file")
    assert (tmp_path / "r").read_text() == "x"


def test_report_figures_that_is_a_file_is_refused_before_any_work(cli, tmp_path, no_work):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "figures").write_text("x")
    code, _, err = cli(*_commands(tmp_path, tmp_path / "r")["report --out"])
    _one_line_refusal(code, err, "--out", "figures")


def test_trace_synth_out_equal_to_the_calibration_trace(cli, tmp_path, trace_file, no_work):
    before = trace_file.read_bytes()
    code, _, err = cli("trace", "synth", "--layers", "6,8,5", "--tokens", "5",
                       "--calibrate-from", trace_file, "--out", trace_file)
    _one_line_refusal(code, err, "--out", "is also an input")
    assert trace_file.read_bytes() == before


def test_trace_egru_out_equal_to_the_model(cli, tmp_path, no_work):
    pytest.importorskip("accelsim.workloads.cli")
    model = tmp_path / "m.npz"
    model.write_bytes(b"a model")
    code, _, err = cli("trace", "egru", "--model", model, "--ptb", tmp_path, "--out", model)
    _one_line_refusal(code, err, "--out", "is also an input")
    assert model.read_bytes() == b"a model"


@pytest.mark.parametrize("option,name", [("--json", "case.json"), ("--csv", "steps.csv")])
def test_validate_output_equal_to_a_case_file(cli, tmp_path, no_work, option, name):
    case = tmp_path / "case"
    case.mkdir()
    (case / name).write_text("measured")
    code, _, err = cli("validate", case, option, case / name)
    _one_line_refusal(code, err, option, "is also an input")
    assert (case / name).read_text() == "measured"


def test_trace_synth_out_to_a_device(cli, tmp_path):
    fifo = FifoReader(tmp_path / "null")
    code, out, err = cli("trace", "synth", "--layers", "8,16", "--tokens", "5", "--out", fifo.path)
    data = fifo.finish()
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo.path).st_mode)
    assert data[:2] == b"PK" and len(data) > 100  # the .npz (a zip) went through the fifo
    assert sorted(os.listdir(tmp_path)) == ["null"]


# ------------------------------------------------------------------ report --out


def test_report_without_out_is_a_usage_error(cli, tmp_path, no_work, monkeypatch):
    """Without --out the report once went to ./reports, over the committed report."""
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("report", tmp_path / "runs")
    assert code == 2
    assert "--out" in err and "required" in err and "Traceback" not in err
    assert not (tmp_path / "reports").exists()


def test_report_help_says_out_is_required(cli):
    code, out, _ = cli("report", "--help")
    assert code == 0
    usage = out.split("\n\n")[0]
    assert "--out DIR" in usage and "[--out" not in usage
