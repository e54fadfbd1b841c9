"""`trace synth` estimates the memory it needs before allocating and refuses, with the figure,
what the machine cannot hold."""

import time

import numpy as np
import pytest

from accelsim.config import limits
from accelsim.errors import InputError
from accelsim.trace.synth import synth_memory_bytes, synthesize


def test_synth_of_two_100000_unit_layers_is_refused_quickly_with_the_figure(cli, tmp_path):
    out = tmp_path / "huge.npz"
    t0 = time.perf_counter()
    code, stdout, err = cli("trace", "synth", "--layers", "100000,100000", "--out", out)
    assert time.perf_counter() - t0 < 5
    assert code == 2 and stdout == "" and err.count("\n") == 1 and not out.exists()
    assert err.startswith("accelsim: error: synthesising a trace of layers 100000,100000 over 10,000 tokens "
                          "needs about 1.")
    assert "TiB of memory, more than the " in err and "available on this machine; refused before allocating" in err
    assert "MemoryError" not in err and "Traceback" not in err


def test_synthesize_refuses_before_allocating_when_memory_is_short(monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 10 ** 6)
    with pytest.raises(InputError, match=r"synthesising a trace of layers 16,64,64 over 500 tokens needs "
                                         r"about [0-9.]+ MiB of memory, more than the 976.6 KiB available"):
        synthesize(layers=[16, 64, 64], tokens=500, vocab_size=50)
    monkeypatch.setattr(limits, "available_memory", lambda: None)   # cannot tell: no check
    synthesize(layers=[16, 64, 64], tokens=500, vocab_size=50)


@pytest.mark.parametrize("encoding", ["egru", "delta"])
def test_the_estimate_covers_what_is_made(encoding):
    """The estimate is at least twice the arrays of the trace it is for (the trace and its file)."""
    sizes, T = [40, 120, 80], 300
    t = synthesize(layers=sizes, tokens=T, vocab_size=30, encoding=encoding, seed=2)
    made = sum(a.nbytes for a in t.to_arrays().values())
    fired = [(0.15, 0.15)] * 2 if encoding == "delta" else [(0.0, 0.15)] * 2
    est = synth_memory_bytes(sizes, T, [0.8, 0.8], fired, 30, True, False, encoding == "delta",
                             np.dtype(np.float16).itemsize)
    assert 2 * made <= est < 40 * made
