"""The GRU language model behind the delta-network workloads, in PyTorch (``train`` extra).

Trained as a plain GRU (``torch.nn.GRU``, one module per layer so that the sizes can differ and
dropout sits between layers); evaluated and traced as a **delta network** (DeltaGRU, as in
DeltaRNN, EdgeDRNN and Spartus): a unit's input or state is transmitted only when it changed by at
least a threshold since it was last transmitted, and the pre-activations are accumulated from the
transmitted changes::

    x^_j <- x_j  where |x_j - x^_j| >= theta_x     (x^ = last transmitted input, 0 at t = 0)
    h^_j <- h_j  where |h_j - h^_j| >= theta_h     (h the state of the previous step)
    M_x += W (x^_new - x^_old) ;  M_h += R (h^_new - h^_old)   (M_x = b_x, M_h = b_r at t = 0)
    z = sigmoid(M_x[z] + M_h[z]) ; r = sigmoid(M_x[r] + M_h[r])
    g = tanh(M_x[g] + r * M_h[g]) ;  h = z * h + (1 - z) * g

Gates are ordered [z | r | g] in the exported model (``torch.nn.GRU`` orders them [r | z | n];
``to_model`` reorders), with r applied after the recurrent matmul, as in the EGRU. Layer 0's
input is the token's embedding, delta-encoded like every other input. The decoder is tied and
reads the last layer's state (dense).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from accelsim.workloads.egru_torch import ExportedLanguageModel, _array
from accelsim.workloads.model_file import EGRULayerWeights, EGRUModel

# torch.nn.GRU block order [r | z | n] -> exported order [z | r | g]
_TO_ZRG = (1, 0, 2)


def _reorder(w: np.ndarray, H: int) -> np.ndarray:
    """torch [r | z | n] gate blocks (rows) -> exported [z | r | g]."""
    return np.concatenate([w[k * H:(k + 1) * H] for k in _TO_ZRG], axis=0)


def to_torch_order(w: np.ndarray, H: int) -> np.ndarray:
    """Exported [z | r | g] gate blocks (rows) -> torch [r | z | n] (the inverse of ``_reorder``;
    the swap of two blocks is its own inverse)."""
    return _reorder(w, H)


class GRULanguageModel(ExportedLanguageModel, nn.Module):
    """Embedding (tied decoder) -> L GRU layers -> decoder. ``sizes`` = [E, H1, ..., HL], HL = E."""

    cell = "gru"

    def __init__(self, vocab_size: int, sizes: list[int], dropout_emb: float = 0.1,
                 dropout_forward: float = 0.1, dropout_out: float = 0.1):
        super().__init__()
        self._init_embedding(vocab_size, sizes)
        self.layers = nn.ModuleList(nn.GRU(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1))
        for g in self.layers:
            H = g.hidden_size
            for k in range(3):  # one orthogonal block per gate, as the EGRU
                nn.init.orthogonal_(g.weight_hh_l0.data[k * H:(k + 1) * H])
        self.decoder_bias = nn.Parameter(torch.zeros(vocab_size))
        self.dropout_emb, self.dropout_forward, self.dropout_out = dropout_emb, dropout_forward, dropout_out

    def init_state(self, batch_size: int):
        return [(torch.zeros(1, batch_size, l.hidden_size),) for l in self.layers]

    def forward(self, tokens: torch.Tensor, state):
        """tokens: (T, B). Returns logits (T, B, V), no event outputs ([]), and the new state."""
        x = F.dropout(self.embedding(tokens), self.dropout_emb, self.training)
        new_state = []
        for i, layer in enumerate(self.layers):
            y, h = layer(x, state[i][0])
            new_state.append((h,))
            last = i == len(self.layers) - 1
            x = F.dropout(y, self.dropout_out if last else self.dropout_forward, self.training)
        return F.linear(x, self.embedding.weight, self.decoder_bias), [], new_state

    def clamp_thresholds(self) -> None:  # the training loop's hook; a GRU has no thresholds
        pass

    @staticmethod
    def _export_layer(g: nn.GRU) -> EGRULayerWeights:
        H = g.hidden_size
        return EGRULayerWeights(*(_reorder(_array(p), H) for p in (g.weight_ih_l0, g.weight_hh_l0,
                                                                   g.bias_ih_l0, g.bias_hh_l0)), None)

    @staticmethod
    def _load_layer(g: nn.GRU, w: EGRULayerWeights) -> None:
        H = g.hidden_size
        for p, a in ((g.weight_ih_l0, w.W), (g.weight_hh_l0, w.R), (g.bias_ih_l0, w.bias_x),
                     (g.bias_hh_l0, w.bias_r)):
            p.copy_(torch.from_numpy(to_torch_order(a, H)))


@torch.no_grad()
def forward_delta(model: EGRUModel, ids: np.ndarray, theta_x: float, theta_h: float):
    """Batch-1 delta-network forward over one stream, step by step, in torch (float64, as the
    Numba inference: a delta network's transmissions are chaotic in the rounding).

    The reference the Numba delta inference is checked against. Returns (per layer: boolean
    fired-input (T x n_in) and fired-state (T x H) masks, per-step NLL (T - 1)).
    """
    emb = torch.from_numpy(model.embedding).double()
    L = len(model.layers)
    Ws = [torch.from_numpy(l.W).double() for l in model.layers]
    Rs = [torch.from_numpy(l.R).double() for l in model.layers]
    Hs = [l.hidden_size for l in model.layers]
    mx = [torch.from_numpy(l.bias_x).double() for l in model.layers]
    mh = [torch.from_numpy(l.bias_r).double() for l in model.layers]
    xhat = [torch.zeros(l.input_size, dtype=torch.float64) for l in model.layers]
    hhat = [torch.zeros(H, dtype=torch.float64) for H in Hs]
    h = [torch.zeros(H, dtype=torch.float64) for H in Hs]
    T = len(ids)
    xf = [np.zeros((T, l.input_size), bool) for l in model.layers]
    hf = [np.zeros((T, H), bool) for H in Hs]
    top = np.zeros((T, Hs[-1]), np.float64)
    for t in range(T):
        x = emb[int(ids[t])]
        for l in range(L):
            H = Hs[l]
            d = x - xhat[l]
            fire = d.abs() >= theta_x
            xf[l][t] = fire.numpy()
            dx = torch.where(fire, d, torch.zeros_like(d))
            xhat[l] = torch.where(fire, x, xhat[l])
            mx[l] += Ws[l] @ dx
            dh_ = h[l] - hhat[l]
            fire_h = dh_.abs() >= theta_h
            hf[l][t] = fire_h.numpy()
            dh = torch.where(fire_h, dh_, torch.zeros_like(dh_))
            hhat[l] = torch.where(fire_h, h[l], hhat[l])
            mh[l] += Rs[l] @ dh
            z = torch.sigmoid(mx[l][:H] + mh[l][:H])
            r = torch.sigmoid(mx[l][H:2 * H] + mh[l][H:2 * H])
            g = torch.tanh(mx[l][2 * H:] + r * mh[l][2 * H:])
            h[l] = z * h[l] + (1.0 - z) * g
            x = h[l]
        top[t] = x.numpy()
    logits = torch.from_numpy(top[:-1]) @ emb.t() + torch.from_numpy(model.decoder_bias).double()
    nll = F.cross_entropy(logits, torch.from_numpy(np.asarray(ids[1:], np.int64)), reduction="none")
    return xf, hf, nll.numpy()


def perplexity(nll: np.ndarray) -> float:
    return math.exp(float(np.mean(nll)))
