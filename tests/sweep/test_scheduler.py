"""--scheduler errors: one line, exit status 2, within 5 s, and no "Exception ignored" noise."""

from __future__ import annotations

import socket
import sys
import threading

import pytest

from accelsim.errors import InputError
from accelsim.sweep import run_sweep
from accelsim.sweep.executors import parse_scheduler_address
from tests.sweep.conftest import accelsim, write_spec


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    return port


def _assert_one_clean_line(code, out, err, seconds, *expected):
    assert code == 2, (code, out, err)
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith("accelsim: error: --scheduler ")
    assert "Exception ignored" not in err and "Traceback" not in err
    for text in expected:
        assert text in err, err
    assert seconds < 5, f"took {seconds:.1f} s"


@pytest.mark.parametrize("address", ["notaurl", "tcp://", "tcp://host", "http://127.0.0.1:8786", "tcp://h:0",
                                     "tcp://h:99999", "tcp://a b:1"])
def test_not_an_address_is_one_line_at_once(tmp_path, address):
    code, out, err, seconds = accelsim("sweep", write_spec(tmp_path), "--out", tmp_path / "o", "--scheduler", address)
    _assert_one_clean_line(code, out, err, seconds, "not a Dask scheduler address; expected tcp://HOST:PORT")
    assert not (tmp_path / "o").exists()


def test_address_forms():
    assert parse_scheduler_address("tcp://127.0.0.1:8786") == ("tcp", "127.0.0.1", 8786)
    assert parse_scheduler_address("10.0.0.9:8786") == ("tcp", "10.0.0.9", 8786)
    assert parse_scheduler_address("tls://sched.example:8786") == ("tls", "sched.example", 8786)
    assert parse_scheduler_address("tcp://[::1]:8786") == ("tcp", "::1", 8786)


def test_unreachable_address_is_one_line_within_5_s(tmp_path):
    pytest.importorskip("distributed")  # the `dist` extra
    port = _closed_port()
    code, out, err, seconds = accelsim("sweep", write_spec(tmp_path), "--out", tmp_path / "o",
                                       "--scheduler", f"tcp://127.0.0.1:{port}")
    _assert_one_clean_line(code, out, err, seconds, f"tcp://127.0.0.1:{port}: cannot reach a Dask scheduler")
    assert not (tmp_path / "o").exists()


def test_unknown_host_is_one_line_within_5_s(tmp_path):
    pytest.importorskip("distributed")
    code, out, err, seconds = accelsim("sweep", write_spec(tmp_path), "--out", tmp_path / "o",
                                       "--scheduler", "tcp://no-such-host.invalid:8786")
    _assert_one_clean_line(code, out, err, seconds, "cannot reach a Dask scheduler", "unknown host")


def test_something_that_is_not_a_scheduler_is_one_line_without_exception_ignored(tmp_path):
    pytest.importorskip("distributed")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    held = []

    def accept():  # accepts and says nothing: the handshake times out
        try:
            while True:
                held.append(server.accept()[0])
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    try:
        code, out, err, seconds = accelsim("sweep", write_spec(tmp_path), "--out", tmp_path / "o",
                                           "--scheduler", f"tcp://127.0.0.1:{port}", "--connect-timeout", "1",
                                           timeout=30)
    finally:
        server.close()
        for c in held:
            c.close()
    _assert_one_clean_line(code, out, err, seconds, "cannot reach a Dask scheduler within 1 s")


def test_without_the_dist_extra_scheduler_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(InputError, match=r"--scheduler needs Dask distributed: pip install 'accelsim\[dist\]'"):
        run_sweep(write_spec(tmp_path), tmp_path / "o", scheduler=f"tcp://127.0.0.1:{_closed_port()}")
    assert not (tmp_path / "o").exists()
