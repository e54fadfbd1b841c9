"""`accelsim trace synth --encoding delta`: version-2 traces of delta networks."""

import hashlib
import json

import numpy as np
import pytest

from accelsim.errors import InputError
from accelsim.trace import load_trace, save_trace
from accelsim.trace.format import trace_bytes, trace_from_arrays
from accelsim.trace.synth import synthesize


def _fired(ev, T, n):
    m = np.zeros((T, n), bool)
    m[np.repeat(np.arange(T), ev.counts()), ev.indices] = True
    return m


def test_asked_activities_are_met_per_layer():
    T, xa, ha = 4000, [0.2, 0.1, 0.05], [0.05, 0.3, 0.12]
    t = synthesize(layers=[40, 120, 80, 60], tokens=T, encoding="delta", x_activity=xa, h_activity=ha,
                   seed=3, vocab_size=7)
    for l, layer in enumerate(t.layers):
        x, h = layer.x_events, layer.h_events
        assert abs(int(x.indptr[-1]) / (T * layer.input_size) - xa[l]) <= 0.01
        # step 0 reads no recurrent column: the asked fraction holds over steps 1..T-1
        assert abs(int(h.indptr[-1]) / ((T - 1) * layer.hidden_size) - ha[l]) <= 0.01
        assert t.meta["achieved_x_activity"][l] == pytest.approx(int(x.indptr[-1]) / (T * layer.input_size))
        assert t.meta["achieved_h_activity"][l] == pytest.approx(int(h.indptr[-1]) / (T * layer.hidden_size))
    src = t.meta["source"]["synthetic"]
    assert src["encoding"] == "delta" and src["x_activity"] == xa and src["h_activity"] == ha
    assert t.meta["version"] == 2


def test_layer_0_input_is_sparse_with_per_column_rates_and_persistence():
    T = 4000
    t = synthesize(layers=[200, 50], tokens=T, encoding="delta", x_activity=0.2, h_activity=0.1,
                   persistence=0.6, rate_sigma=1.0, seed=5, vocab_size=5)
    fired = _fired(t.layers[0].x_events, T, 200)
    rates = fired.mean(0)
    assert rates.std() > 0.1  # log-normal spread across input columns
    x = fired - rates
    rho = (x[1:] * x[:-1]).sum() / (x * x).sum()
    assert 0.5 < rho < 0.7
    assert t.meta["source"]["synthetic"]["persistence"] == [0.6]


def test_events_are_the_recurrent_columns_of_the_next_step():
    T = 50
    t = synthesize(layers=[10, 30, 20], tokens=T, encoding="delta", x_activity=0.3, h_activity=0.3, seed=1,
                   vocab_size=5)
    for layer in t.layers:
        h, ev = layer.h_events, layer.events
        assert h.indptr[1] == 0  # nothing at step 0
        for s in range(T - 1):
            assert np.array_equal(ev.indices[ev.indptr[s]:ev.indptr[s + 1]], h.indices[h.indptr[s + 1]:h.indptr[s + 2]])
            assert np.array_equal(ev.values[ev.indptr[s]:ev.indptr[s + 1]], h.values[h.indptr[s + 1]:h.indptr[s + 2]])
        assert ev.indptr[T] == ev.indptr[T - 1]  # the last step's events are empty
        assert ev.indices.dtype == np.int32 and h.indices.dtype == np.int64 and layer.x_events.indices.dtype == np.int64
        # signed deltas, at least the producing unit's threshold
        assert (np.abs(h.values.astype(np.float64)) >= layer.threshold[h.indices].astype(np.float64) - 1e-3).all()
        assert (h.values < 0).any() and (h.values > 0).any()
    x0, x1 = t.layers[0].x_events, t.layers[1].x_events
    assert (np.abs(x0.values) >= 0.1 - 1e-3).all()
    assert (np.abs(x1.values.astype(np.float64)) >= t.layers[0].threshold[x1.indices].astype(np.float64) - 1e-3).all()


@pytest.mark.parametrize("every, want", [(0, [0]), (1, list(range(10))), (4, [0, 4, 8])])
def test_bias_fires(every, want):
    t = synthesize(layers=[6, 8, 8], tokens=10, encoding="delta", bias_every=every, seed=0, vocab_size=5)
    for layer in t.layers:
        assert layer.bias_fires.dtype == np.uint8
        assert np.nonzero(layer.bias_fires)[0].tolist() == want


@pytest.mark.parametrize("T", [0, 1, 2])
def test_tiny_lengths_are_valid(T):
    t = synthesize(layers=[6, 8], tokens=T, encoding="delta", seed=0, vocab_size=5)
    back = trace_from_arrays(t.to_arrays())
    assert back.layers[0].x_events.steps == T and back.layers[0].bias_fires.shape == (T,)


def test_same_seed_same_bytes_other_seed_other_bytes():
    kw = dict(layers=[12, 20, 16], tokens=60, encoding="delta", x_activity=0.2, h_activity=0.1, bias_every=5)
    a = trace_bytes(synthesize(seed=7, **kw))
    assert a == trace_bytes(synthesize(seed=7, **kw))
    assert a != trace_bytes(synthesize(seed=8, **kw))
    assert a != trace_bytes(synthesize(seed=7, **dict(kw, encoding="egru")))


def test_cli_delta_is_deterministic_and_validates(cli, tmp_path):
    for name in ("a", "b"):
        code, out, err = cli("trace", "synth", "--encoding", "delta", "--layers", "8,16,8", "--tokens", "300",
                             "--x-activity", "0.25", "--h-activity", "0.1,0.2", "--bias-every", "3", "--seed", "3",
                             "--out", tmp_path / f"{name}.npz")
        assert code == 0, err
        assert "delta encoding" in out
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    code, out, _ = cli("trace", "validate", tmp_path / "a.npz")
    assert code == 0 and "valid accelsim trace v2" in out
    code, out, _ = cli("trace", "info", "--json", tmp_path / "a.npz")
    layers = json.loads(out)["layers"]
    assert abs(layers[0]["x_fired_per_step"] / 8 - 0.25) < 0.05
    assert abs(layers[1]["h_fired_per_step"] / 8 - 0.2) < 0.05
    assert [x["bias_fires"] for x in layers] == [100, 100]
    with np.load(tmp_path / "a.npz", allow_pickle=False) as z:
        assert {"l0.x_events.indptr", "l0.x_events.values", "l1.h_events.indices", "l1.bias_fires"} <= set(z.files)


def _content_digest(trace) -> str:
    """SHA-256 of every array (dtype, shape, bytes) and of meta without its version."""
    h = hashlib.sha256()
    for k, a in trace.to_arrays().items():
        h.update(k.encode())
        if k == "meta":
            m = json.loads(str(a[()]))
            m.pop("version")
            h.update(json.dumps(m, sort_keys=True).encode())
        else:
            h.update(a.dtype.str.encode() + repr(a.shape).encode() + a.tobytes())
    return h.hexdigest()


def test_egru_encoding_writes_the_arrays_it_always_did():
    # digests of the version-1 synthesiser's output for these arguments (meta.version aside)
    t = synthesize(layers=[12, 24, 12], tokens=60, weight_sparsity=[0.7, 0.9], activity_sparsity=[0.8, 0.9],
                   pruning="column-balanced", balance_groups=4, seed=11, vocab_size=9, decoder=True)
    assert t.meta["version"] == 2
    assert all(l.x_events is None and l.h_events is None and l.bias_fires is None for l in t.layers)
    assert _content_digest(t) == "e485d4d6b28145396b8143c47ff77262540039a8442857622bf03586fc43991a"
    t = synthesize(layers=[8, 16], tokens=40, pruning="2:4", seed=2, vocab_size=5, embedding=False)
    assert _content_digest(t) == "0fbf58a83b28fd0a15772e025d27d72c949a2a93cb6d6ada4021137c62c33065"


def test_delta_trace_round_trips(tmp_path):
    t = synthesize(layers=[8, 16, 8], tokens=40, encoding="delta", seed=4, vocab_size=5)
    digest = save_trace(tmp_path / "d.npz", t)
    back = load_trace(tmp_path / "d.npz")
    assert back.sha256 == digest
    a, b = t.to_arrays(), back.to_arrays()
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("kwargs, match", [
    (dict(encoding="spiky"), "--encoding: unknown encoding 'spiky'"),
    (dict(encoding="delta", x_activity=0.99), r"--x-activity: each value must be in \[0, 0.95\]"),
    (dict(encoding="delta", h_activity=[0.1, 0.2, 0.3]), "--h-activity: give one value or one per layer"),
    (dict(encoding="delta", bias_every=-1), "--bias-every: must be an integer >= 0"),
])
def test_bad_delta_arguments(kwargs, match):
    args = dict(layers=[8, 16, 16], tokens=10, vocab_size=5)
    args.update(kwargs)
    with pytest.raises(InputError, match=match):
        synthesize(**args)


def test_delta_refuses_calibration(tmp_path):
    real = synthesize(layers=[8, 16], tokens=20, seed=0, vocab_size=5)
    with pytest.raises(InputError, match="--calibrate-from: only with --encoding egru"):
        synthesize(layers=[8, 16], tokens=20, encoding="delta", calibrate_from=real, vocab_size=5)


@pytest.mark.parametrize("argv, msg", [
    (["--x-activity", "0.2"], "--x-activity: only with --encoding delta"),
    (["--bias-every", "2"], "--bias-every: only with --encoding delta"),
    (["--encoding", "delta", "--activity-sparsity", "0.9"], "--activity-sparsity: only with --encoding egru"),
    (["--encoding", "delta", "--h-activity", "x"], "--h-activity: expected numbers separated by commas"),
])
def test_cli_flags_of_the_other_encoding_are_refused(cli, tmp_path, argv, msg):
    code, out, err = cli("trace", "synth", "--layers", "8,16", "--tokens", "5", *argv, "--out", tmp_path / "x.npz")
    assert code == 2 and out == "" and err.startswith(f"accelsim: error: {msg}") and err.count("\n") == 1
    assert not (tmp_path / "x.npz").exists()
