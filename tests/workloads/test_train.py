"""A tiny EGRU trains a few steps on PTB and its loss falls; the surrogate gradient is the brief's."""

import argparse

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from accelsim.workloads.egru_torch import EGRULanguageModel, SpikeFunction, beta_thresholds  # noqa: E402
from accelsim.workloads.ptb import batchify, load_ptb  # noqa: E402
from accelsim.workloads.train import make_optimizer, train_steps  # noqa: E402


def test_spike_forward_and_surrogate():
    x = torch.tensor([-1.0, -0.1, 0.0, 0.1, 1.0], requires_grad=True)
    o = SpikeFunction.apply(x, 0.7, 3.6)
    assert o.tolist() == [0, 0, 0, 1, 1]  # H(0) = 0
    o.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 0.7 * np.maximum(0, 1 - 3.6 * np.abs(x.detach().numpy())), rtol=1e-6)


def test_thresholds_beta_small_mean():
    torch.manual_seed(0)
    th = beta_thresholds(20000, 0.1)
    assert 0 < th.min() and th.max() < 1
    assert th.mean().item() == pytest.approx(0.1, abs=0.005)


def _loss_before_after(ptb_path, make_net):
    """Loss on a fixed batch before and after 40 training steps of ``make_net(vocab_size)``."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    corpus = load_ptb(ptb_path)
    data = batchify(corpus.train[:20000], 16)
    net = make_net(corpus.vocab_size)
    args = argparse.Namespace(bptt=20, lr=1e-2, lr_final=1e-2, weight_decay=0.01, grad_clip=1.0,
                              activity_target=0.2, activity_weight=1.0, log_every=1000)
    inp = torch.from_numpy(data[:20].astype(np.int64))
    tgt = torch.from_numpy(data[1:21].astype(np.int64))

    def loss():
        net.eval()
        with torch.no_grad():
            logits, outs, _ = net(inp, net.init_state(16))
        assert len(outs) == (0 if getattr(net, "cell", "egru") == "gru" else 2)
        return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1)).item()

    before = loss()
    train_steps(net, make_optimizer(net, args), data, args, 0, 40, 0, None, lambda rec: None)
    return net, before, loss()


def test_tiny_model_loss_falls(ptb_path):
    _, before, after = _loss_before_after(
        ptb_path, lambda v: EGRULanguageModel(v, [16, 32, 16], threshold_mean=0.1))
    assert after < before - 0.5, (before, after)


def test_tiny_gru_loss_falls_and_round_trips(ptb_path):
    """The same loop trains the GRU behind the delta-network workloads (no events, no regulariser)."""
    from accelsim.workloads.gru_torch import GRULanguageModel

    net, before, after = _loss_before_after(ptb_path, lambda v: GRULanguageModel(v, [16, 32, 16]))
    assert after < before - 0.5, (before, after)
    back = GRULanguageModel.from_model(net.to_model())
    for a, b in zip(net.parameters(), back.parameters()):
        assert torch.equal(a, b)


def test_held_activity_is_the_training_mode_activity(ptb_path):
    """prune --hold-activity measures the held model's per-layer activity with dropout on, over
    training batches: the mean of the layers' event fractions, as the regulariser sees them."""
    from accelsim.workloads.prune import measure_train_activity

    torch.manual_seed(0)
    corpus = load_ptb(ptb_path)
    data = batchify(corpus.train[:20000], 16)
    net = EGRULanguageModel(corpus.vocab_size, [16, 32, 16], threshold_mean=0.1)
    model = net.to_model()
    args = argparse.Namespace(bptt=10)
    torch.manual_seed(1)
    got = measure_train_activity(model, {"dropout_emb": 0.0, "dropout_forward": 0.0, "dropout_out": 0.0},
                                 data, args, batches=3)
    ref = EGRULanguageModel.from_model(model, dropout_emb=0.0, dropout_forward=0.0, dropout_out=0.0)
    with torch.no_grad():
        _, outs, _ = ref(torch.from_numpy(data[:30].astype(np.int64)), ref.init_state(16))
    want = [float(o.mean()) for o in outs]
    assert got == pytest.approx(want, rel=1e-5) and 0.0 < min(got) and max(got) < 1.0
