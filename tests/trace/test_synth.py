import numpy as np
import pytest

from accelsim.errors import InputError
from accelsim.trace import load_trace, save_trace
from accelsim.trace.format import trace_bytes
from accelsim.trace.stats import activity_sparsity, weight_sparsity
from accelsim.trace.synth import prune_mask, synthesize


def test_same_seed_same_bytes_other_seed_other_bytes():
    a = trace_bytes(synthesize(layers=[12, 20, 16], tokens=50, seed=7))
    b = trace_bytes(synthesize(layers=[12, 20, 16], tokens=50, seed=7))
    c = trace_bytes(synthesize(layers=[12, 20, 16], tokens=50, seed=8))
    assert a == b and a != c


def test_cli_synth_is_deterministic_to_the_byte(cli, tmp_path):
    for name in ("a", "b"):
        code, _, err = cli("trace", "synth", "--layers", "8,16,8", "--tokens", "30", "--seed", "3",
                           "--out", tmp_path / f"{name}.npz")
        assert code == 0, err
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


@pytest.mark.parametrize("pruning", ["unstructured", "magnitude", "column-balanced"])
def test_requested_sparsities_met_over_10000_steps(pruning):
    ws, as_ = [0.5, 0.8, 0.9], [0.8, 0.85, 0.9]
    # 160 units -> 480 gate rows, 30 per PE group: column-balanced keeps a whole number per group
    t = synthesize(layers=[64, 160, 160, 160], tokens=10000, weight_sparsity=ws, activity_sparsity=as_,
                   pruning=pruning, seed=1, vocab_size=50)
    for l, layer in enumerate(t.layers):
        s = weight_sparsity(layer)
        assert abs(s["W"] - ws[l]) <= 0.005 and abs(s["R"] - ws[l]) <= 0.005
        assert abs(activity_sparsity(layer) - as_[l]) <= 0.005


def test_n_m_pruning_keeps_n_of_every_m_rows():
    t = synthesize(layers=[8, 16], tokens=20, pruning="2:4", seed=0, vocab_size=5)
    W = t.layers[0].weight.to_dense()
    blocks = (W.reshape(12, 4, 24) != 0).sum(axis=1)
    assert (blocks == 2).all()
    assert weight_sparsity(t.layers[0])["total"] == 0.5


def test_column_balanced_has_equal_nonzeros_per_pe_group():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((48, 30))
    m = prune_mask(w, 0.75, "column-balanced", rng, groups=4)
    per_group = np.stack([m[g::4].sum(axis=0) for g in range(4)])
    assert (per_group == 3).all()  # 12 rows per group, keep 25%


def test_magnitude_keeps_the_largest():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((10, 10))
    m = prune_mask(w, 0.9, "magnitude", rng)
    assert m.sum() == 10 and np.abs(w[m]).min() >= np.abs(w[~m]).max()


def test_heterogeneous_rates_and_persistence():
    t = synthesize(layers=[8, 200], tokens=4000, activity_sparsity=0.8, persistence=0.6, rate_sigma=1.0,
                   seed=2, vocab_size=5)
    ev = t.layers[0].events
    fired = np.zeros((4000, 200), bool)
    fired[np.repeat(np.arange(4000), ev.counts()), ev.indices] = True
    rates = fired.mean(0)
    assert rates.std() > 0.1  # log-normal spread, not one rate for all
    x = fired - rates
    rho = (x[1:] * x[:-1]).sum() / (x * x).sum()
    assert 0.5 < rho < 0.7
    # events carry values above their unit's threshold, as EGRU states do
    assert (ev.values >= t.layers[0].threshold[ev.indices]).all()


def test_calibrate_from_copies_rate_distribution_and_persistence(tmp_path):
    real = synthesize(layers=[8, 64, 64], tokens=3000, activity_sparsity=[0.7, 0.9], persistence=0.5,
                      seed=4, vocab_size=5)
    save_trace(tmp_path / "real.npz", real)
    real = load_trace(tmp_path / "real.npz")
    big = synthesize(layers=[16, 128, 128], tokens=3000, activity_sparsity=None, calibrate_from=real, seed=5,
                     vocab_size=5)
    assert abs(activity_sparsity(big.layers[0]) - 0.7) < 0.02
    assert abs(activity_sparsity(big.layers[1]) - 0.9) < 0.02
    assert big.meta["source"]["synthetic"]["calibrated_from"] == real.sha256
    assert all(0.4 < p < 0.6 for p in big.meta["source"]["synthetic"]["persistence"])


@pytest.mark.parametrize("kwargs, match", [
    (dict(weight_sparsity=[0.5, 0.6, 0.7]), "one value or one per layer"),
    (dict(activity_sparsity=1.0), r"must be in \[0, 1\)"),
    (dict(pruning="blocky"), "unknown pattern 'blocky'"),
    (dict(layers=[8]), "at least one hidden size"),
])
def test_bad_synth_arguments(kwargs, match):
    args = dict(layers=[8, 16, 16], tokens=10, vocab_size=5)
    args.update(kwargs)
    with pytest.raises(InputError, match=match):
        synthesize(**args)
