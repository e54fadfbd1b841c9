"""The EGRU language model in PyTorch (training side; needs the optional ``train`` extra).

The forward pass (cuDNN-style GRU, gates ordered [z | r | g])::

    Wx_t = W x_t + b_x ;  Rh_t = R y_{t-1} + b_r          (recurrence uses the sparse events y)
    z = sigmoid(Wx[z] + Rh[z]) ; r = sigmoid(Wx[r] + Rh[r])
    g = tanh(Wx[g] + r * Rh[g])                            (r after the matmul)
    c^ = z * c + (1 - z) * g ;  o = H(c^ - theta), H(0) = 0
    y = o * c^  (the event carries the value) ;  c = c^ - o * theta   (reset by subtraction)

The Heaviside step back-propagates through the surrogate ``gamma * max(0, 1 - eps * |x|)``.
Thresholds are per unit, drawn from Beta(alpha, 3) with mean ``threshold_mean`` (alpha =
3 m / (1 - m)), as in the reference implementation (EvNN, Subramoney et al., ICLR 2023).
The embedding is tied with the decoder, so the last layer's hidden size equals the embedding size.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from accelsim.workloads.model_file import EGRULayerWeights, EGRUModel


class SpikeFunction(torch.autograd.Function):
    """o = H(x) with H(0) = 0; backward uses gamma * max(0, 1 - eps * |x|)."""

    @staticmethod
    def forward(ctx, x, gamma: float, eps: float):
        ctx.save_for_backward(x)
        ctx.gamma, ctx.eps = gamma, eps
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_o):
        (x,) = ctx.saved_tensors
        surrogate = ctx.gamma * torch.clamp(1.0 - ctx.eps * x.abs(), min=0.0)
        return grad_o * surrogate, None, None


def beta_thresholds(hidden_size: int, mean: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-unit thresholds ~ Beta(3 m / (1 - m), 3): mean m, all in (0, 1)."""
    if not 0.0 < mean < 1.0:
        raise ValueError(f"threshold mean must be in (0, 1), got {mean}")
    b = 3.0
    a = b * mean / (1.0 - mean)
    # torch's Beta sampler ignores generators; draw through numpy with a seed taken from torch's RNG.
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator).item())
    return torch.from_numpy(np.random.default_rng(seed).beta(a, b, size=hidden_size).astype(np.float32))


class EGRULayer(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, threshold_mean: float = 0.1,
                 gamma: float = 0.7, eps: float = 1.0):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.gamma, self.eps = gamma, eps
        H = hidden_size
        self.W = nn.Parameter(torch.empty(3 * H, input_size))
        self.R = nn.Parameter(torch.empty(3 * H, H))
        self.bias_x = nn.Parameter(torch.zeros(3 * H))
        self.bias_r = nn.Parameter(torch.zeros(3 * H))
        nn.init.xavier_normal_(self.W)
        for k in range(3):  # one orthogonal block per gate keeps the recurrence well-conditioned
            nn.init.orthogonal_(self.R.data[k * H:(k + 1) * H])
        self.threshold = nn.Parameter(beta_thresholds(H, threshold_mean))

    def forward(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        """x: (T, B, n_in). state: (c, y), each (B, H). Returns y (T, B, H), o (T, B, H), state."""
        H = self.hidden_size
        c, y = state
        Wx = F.linear(x, self.W, self.bias_x)  # all steps in one matmul: it does not depend on y
        R_t = self.R.t()
        thr = self.threshold
        ys, os_ = [], []
        for t in range(x.shape[0]):
            Rh = torch.addmm(self.bias_r, y, R_t)
            wx = Wx[t]
            zr = torch.sigmoid(wx[:, : 2 * H] + Rh[:, : 2 * H])
            z, r = zr[:, :H], zr[:, H:]
            g = torch.tanh(wx[:, 2 * H:] + r * Rh[:, 2 * H:])
            c_hat = z * c + (1.0 - z) * g
            o = SpikeFunction.apply(c_hat - thr, self.gamma, self.eps)
            y = o * c_hat
            c = c_hat - o * thr
            ys.append(y)
            os_.append(o)
        return torch.stack(ys), torch.stack(os_), (c, y)


def _array(p: torch.Tensor) -> np.ndarray:
    return p.detach().cpu().numpy().astype(np.float32).copy()


class ExportedLanguageModel:
    """``to_model`` / ``from_model`` of a language model with ``embedding`` (tied decoder),
    ``decoder_bias`` and ``layers``, in the torch-free exported form (model_file); a subclass
    says how one of its layers is written (``_export_layer``) and read (``_load_layer``)."""

    def _init_embedding(self, vocab_size: int, sizes: list[int]) -> None:
        """The sizes, checked, and the embedding (its transpose is the decoder)."""
        if len(sizes) < 2 or sizes[-1] != sizes[0]:
            raise ValueError(f"sizes must be [E, H1, ..., HL] with HL = E (tied decoder), got {sizes}")
        self.vocab_size, self.sizes = vocab_size, list(sizes)
        self.embedding = nn.Embedding(vocab_size, sizes[0])
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)

    def to_model(self, meta: dict | None = None) -> EGRUModel:
        return EGRUModel(_array(self.embedding.weight), [self._export_layer(l) for l in self.layers],
                         _array(self.decoder_bias), dict(meta or {}))

    @classmethod
    def from_model(cls, m: EGRUModel, **kwargs):
        net = cls(m.vocab_size, m.sizes, **kwargs)
        with torch.no_grad():
            net.embedding.weight.copy_(torch.from_numpy(m.embedding))
            net.decoder_bias.copy_(torch.from_numpy(m.decoder_bias))
            for l, w in zip(net.layers, m.layers):
                net._load_layer(l, w)
        return net


class EGRULanguageModel(ExportedLanguageModel, nn.Module):
    """Embedding (tied decoder) -> L EGRU layers -> decoder. ``sizes`` = [E, H1, ..., HL], HL = E."""

    def __init__(self, vocab_size: int, sizes: list[int], threshold_mean: float = 0.1,
                 gamma: float = 0.7, eps: float = 1.0, dropout_emb: float = 0.1,
                 dropout_forward: float = 0.1, dropout_out: float = 0.1):
        super().__init__()
        self._init_embedding(vocab_size, sizes)
        self.layers = nn.ModuleList(EGRULayer(sizes[i], sizes[i + 1], threshold_mean, gamma, eps)
                                    for i in range(len(sizes) - 1))
        self.decoder_bias = nn.Parameter(torch.zeros(vocab_size))
        self.dropout_emb, self.dropout_forward, self.dropout_out = dropout_emb, dropout_forward, dropout_out

    def init_state(self, batch_size: int):
        return [(torch.zeros(batch_size, l.hidden_size), torch.zeros(batch_size, l.hidden_size))
                for l in self.layers]

    def forward(self, tokens: torch.Tensor, state):
        """tokens: (T, B) int64. Returns logits (T, B, V), per-layer o (T, B, H) and the new state."""
        x = F.dropout(self.embedding(tokens), self.dropout_emb, self.training)
        outs, new_state = [], []
        for i, layer in enumerate(self.layers):
            y, o, st = layer(x, state[i])
            outs.append(o)
            new_state.append(st)
            last = i == len(self.layers) - 1
            x = F.dropout(y, self.dropout_out if last else self.dropout_forward, self.training)
        logits = F.linear(x, self.embedding.weight, self.decoder_bias)
        return logits, outs, new_state

    @torch.no_grad()
    def clamp_thresholds(self, minimum: float = 1e-3) -> None:
        # A threshold <= 0 would make H(c^ - theta) fire on silence and the reset add state.
        for l in self.layers:
            l.threshold.clamp_(min=minimum)

    # --- the torch-free exported form (ExportedLanguageModel) -------------------------------
    @staticmethod
    def _export_layer(l: EGRULayer) -> EGRULayerWeights:
        return EGRULayerWeights(*(_array(getattr(l, n)) for n in ("W", "R", "bias_x", "bias_r", "threshold")))

    @staticmethod
    def _load_layer(l: EGRULayer, w: EGRULayerWeights) -> None:
        for name in ("W", "R", "bias_x", "bias_r", "threshold"):
            getattr(l, name).copy_(torch.from_numpy(getattr(w, name)))


def evaluate(net: EGRULanguageModel, ids: np.ndarray, batch_size: int = 1, chunk: int = 1000,
             max_tokens: int | None = None):
    """Streamed evaluation over one id sequence: (perplexity, per-layer activity, mean NLL).

    ``batch_size`` streams (1 = the whole split as one stream, the standard test setting).
    """
    net.eval()
    if max_tokens is not None:
        ids = ids[:max_tokens]
    n = (len(ids) - 1) // batch_size
    data = torch.from_numpy(np.ascontiguousarray(ids[: n * batch_size + 1]).astype(np.int64))
    inp = data[:-1].view(batch_size, n).t()
    tgt = data[1:].view(batch_size, n).t()
    state = net.init_state(batch_size)
    nll, count = 0.0, 0
    act = np.zeros(len(net.layers))
    for s in range(0, n, chunk):
        logits, outs, state = net(inp[s:s + chunk], state)
        nll += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt[s:s + chunk].reshape(-1),
                               reduction="sum").item()
        count += tgt[s:s + chunk].numel()
        for i, o in enumerate(outs):
            act[i] += o.sum().item()
    steps = n * batch_size
    if getattr(net, "cell", "egru") == "gru":
        return math.exp(nll / count), [], nll / count  # a GRU emits no events
    activity = [act[i] / (steps * l.hidden_size) for i, l in enumerate(net.layers)]
    return math.exp(nll / count), activity, nll / count


@torch.no_grad()
def forward_events(net: EGRULanguageModel, ids: np.ndarray, chunk: int = 2000):
    """Batch-1 eval forward over one stream: per-layer y (T x H float32) and per-step NLL (T-1).

    The reference the Numba inference is checked against (events are the nonzero entries of y).
    """
    net.eval()
    inp = torch.from_numpy(np.asarray(ids, dtype=np.int64)).view(-1, 1)
    state = net.init_state(1)
    ys = [[] for _ in net.layers]
    nll = []
    for s in range(0, inp.shape[0], chunk):
        x = net.embedding(inp[s:s + chunk])
        new_state = []
        for i, layer in enumerate(net.layers):
            y, o, st = layer(x, state[i])
            new_state.append(st)
            ys[i].append(y[:, 0].numpy().copy())
            x = y
        state = new_state
        logits = F.linear(x[:, 0], net.embedding.weight, net.decoder_bias)
        tg = inp[s + 1:s + chunk + 1, 0]
        nll.append(F.cross_entropy(logits[: tg.shape[0]], tg, reduction="none").numpy())
    return [np.concatenate(y) for y in ys], np.concatenate(nll)
