"""Torch-free delta-network inference (DeltaGRU) of an exported GRU, producing v2 traces.

The equations are those of ``accelsim.workloads.gru_torch`` (module docstring): per step and
layer, the input columns whose value moved by at least ``theta_x`` since they were last sent, and
the recurrent columns whose state moved by at least ``theta_h``, are transmitted; the
pre-activation memories ``M_x`` and ``M_h`` accumulate ``column * delta`` of the transmitted
columns only (the work of a delta accelerator such as EdgeDRNN), starting from the biases. Layer
0's input is the token's embedding, delta-encoded like the others. The decoder (tied) reads the
last layer's state, densely, outside the kernel.

One token at a time, batch 1, the state carried across the whole split. Weights are the exported
float16 values; the arithmetic is float64, here and in the torch reference (``forward_delta``).
A delta network's transmissions are chaotic in the rounding: one value that lands on the other
side of a threshold changes what a unit last sent, and with it every later step. In float32, two
implementations that differ only in summation order agreed on 80 to 99 % of the transmissions of
the PTB models over 5,000 tokens; in float64 the rounding is far below any threshold's margin
(agreement: ``delta_summary --torch``, workloads/README.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from accelsim.errors import InputError
from accelsim.workloads.infer import Packed, _sigmoid, chunks_to_csr, pack, project
from accelsim.workloads.model_file import EGRUModel


@njit(cache=True)
def _send(v, vo, hat, ho, n_units, theta, idx, val):
    """The units j < n_units with |v[vo + j] - hat[ho + j]| >= theta: their ids and deltas go to
    idx / val, and hat takes their new value. Returns how many."""
    n = 0
    for j in range(n_units):
        d = v[vo + j] - hat[ho + j]
        if abs(d) >= theta:
            idx[n] = j
            val[n] = d
            hat[ho + j] = v[vo + j]
            n += 1
    return n


@njit(cache=True)
def _record(out_idx, out_val, off, idx, val, n):
    for e in range(n):
        out_idx[off + e] = idx[e]
        out_val[off + e] = val[e]


@njit(cache=True)
def delta_run_kernel(tokens, emb, n_in, hidden, wt, wt_off, rt, rt_off, g_off, h_off, x_off,
                     use_csc, csc_ptr, ptr_off, csc_row, csc_val, nz_off, theta_x, theta_h,
                     mx, mh, xhat, hhat, h, record, x_count, h_count, x_idx, x_val, h_idx, h_val,
                     top):
    """Run len(tokens) steps from the state (mx, mh, xhat, hhat, h), updating it in place.

    Writes per step and layer the transmitted input / recurrent column counts to x_count[t, l]
    and h_count[t, l]; when ``record``, their ids and deltas go to x_idx / x_val (layer l's
    region starts at T * x_off[l]) and h_idx / h_val (at T * h_off[l]). ``top[t]`` receives the
    last layer's state after step t (the decoder's input).
    """
    T = tokens.shape[0]
    L = hidden.shape[0]
    maxg = 0
    maxin = 0
    for l in range(L):
        if 3 * hidden[l] > maxg:
            maxg = 3 * hidden[l]
        if n_in[l] > maxin:
            maxin = n_in[l]
    acc = np.empty(maxg, np.float64)
    x = np.empty(maxin, np.float64)
    fidx = np.empty(maxin, np.int64)
    fval = np.empty(maxin, np.float64)
    hidx = np.empty(maxg, np.int64)
    hval = np.empty(maxg, np.float64)
    xfill = np.zeros(L, np.int64)
    hfill = np.zeros(L, np.int64)
    E = emb.shape[1]
    for t in range(T):
        tok = tokens[t]
        for k in range(E):
            x[k] = emb[tok, k]
        for l in range(L):
            H = hidden[l]
            G = 3 * H
            go = g_off[l]
            ho = h_off[l]
            xo = x_off[l]
            ni = n_in[l]
            # input deltas
            n = _send(x, 0, xhat, xo, ni, theta_x, fidx, fval)
            x_count[t, l] = n
            acc[:G] = 0.0
            project(acc, G, n, fidx, fval, use_csc[l], ptr_off[l], nz_off[l], csc_ptr, csc_row,
                    csc_val, wt, wt_off[l])
            for k in range(G):
                mx[go + k] += acc[k]
            if record:
                _record(x_idx, x_val, T * x_off[l] + xfill[l], fidx, fval, n)
                xfill[l] += n
            # recurrent deltas (the state of the previous step)
            m = _send(h, ho, hhat, ho, H, theta_h, hidx, hval)
            h_count[t, l] = m
            acc[:G] = 0.0
            project(acc, G, m, hidx, hval, use_csc[l], ptr_off[l] + ni, nz_off[l], csc_ptr,
                    csc_row, csc_val, rt, rt_off[l])
            for k in range(G):
                mh[go + k] += acc[k]
            if record:
                _record(h_idx, h_val, T * h_off[l] + hfill[l], hidx, hval, m)
                hfill[l] += m
            # gates and state update; the new state is the next layer's input
            for u in range(H):
                z = _sigmoid(mx[go + u] + mh[go + u])
                r = _sigmoid(mx[go + H + u] + mh[go + H + u])
                g = np.tanh(mx[go + 2 * H + u] + r * mh[go + 2 * H + u])
                h[ho + u] = z * h[ho + u] + (1.0 - z) * g
            for u in range(H):
                x[u] = h[ho + u]
        for k in range(E):
            top[t, k] = x[k]


@dataclass
class DeltaResult:
    tokens: int
    nll_sum: float
    predictions: int
    x_counts: np.ndarray   # T x L transmitted input columns
    h_counts: np.ndarray   # T x L transmitted recurrent columns
    x_events: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None  # per layer (indptr, idx, delta)
    h_events: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None
    wall_s: float

    @property
    def perplexity(self) -> float:
        return math.exp(self.nll_sum / self.predictions) if self.predictions else float("nan")

    def x_activity(self, n_in: list[int]) -> list[float]:
        """Fraction of input columns transmitted per step, per layer."""
        return [float(self.x_counts[:, l].sum()) / (self.tokens * n) for l, n in enumerate(n_in)]

    def h_activity(self, hidden: list[int]) -> list[float]:
        """Fraction of recurrent columns transmitted per step, per layer."""
        return [float(self.h_counts[:, l].sum()) / (self.tokens * n) for l, n in enumerate(hidden)]


def _nll(top: np.ndarray, emb: np.ndarray, bias: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-row NLL of targets under logits = top @ emb^T + bias (float64)."""
    logits = top @ emb.T + bias
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0].astype(np.float64) + np.log(np.exp(logits - m).astype(np.float64).sum(axis=1))
    return lse - logits[np.arange(len(targets)), targets]


def run_delta(model: EGRUModel, ids: np.ndarray, theta_x: float, theta_h: float, start: int = 0,
              tokens: int | None = None, record_events: bool = True, chunk: int = 4096,
              packed: Packed | None = None) -> DeltaResult:
    """Run ids[start : start + tokens] (default: to the end) as one delta-network stream from a
    zero state. Step t predicts ids[start + t + 1] whenever that id exists within ``ids``."""
    if model.cell != "gru":
        raise InputError("delta-network inference needs a GRU model (accelsim-gru-model); "
                         "this is an EGRU, which is traced with `accelsim trace egru`")
    if not (theta_x >= 0 and theta_h >= 0 and math.isfinite(theta_x) and math.isfinite(theta_h)):
        raise InputError(f"--theta-x and --theta-h must be finite and >= 0 (got {theta_x}, {theta_h})")
    P = packed or pack(model, dense_w0=True)
    ids = np.asarray(ids, dtype=np.int32)
    end = len(ids) if tokens is None else min(len(ids), start + tokens)
    T = end - start
    L = len(model.layers)
    Htot = int(P.hidden.sum())
    x_off = np.concatenate([[0], np.cumsum(P.n_in)]).astype(np.int64)
    Xtot = int(x_off[-1])
    mx = np.concatenate([l.bias_x for l in model.layers]).astype(np.float64)
    mh = np.concatenate([l.bias_r for l in model.layers]).astype(np.float64)
    xhat = np.zeros(Xtot, np.float64)
    hhat = np.zeros(Htot, np.float64)
    h = np.zeros(Htot, np.float64)
    emb = np.ascontiguousarray(model.embedding, dtype=np.float64)
    dec_b = model.decoder_bias.astype(np.float64)
    t0 = time.perf_counter()
    xc, hc, nll_sum, preds = [], [], 0.0, 0
    xs, hs = [[] for _ in range(L)], [[] for _ in range(L)]
    for a in range(start, end, chunk):
        b = min(end, a + chunk)
        n = b - a
        x_count = np.zeros((n, L), np.int64)
        h_count = np.zeros((n, L), np.int64)
        xsize, hsize = (n * Xtot, n * Htot) if record_events else (1, 1)
        x_idx, x_val = np.zeros(xsize, np.int64), np.zeros(xsize, np.float64)
        h_idx, h_val = np.zeros(hsize, np.int64), np.zeros(hsize, np.float64)
        top = np.zeros((n, emb.shape[1]), np.float64)
        delta_run_kernel(ids[a:b], emb, P.n_in, P.hidden, P.wt, P.wt_off, P.rt, P.rt_off, P.g_off,
                         P.h_off, x_off, P.use_csc, P.csc_ptr, P.ptr_off, P.csc_row, P.csc_val,
                         P.nz_off, np.float64(theta_x), np.float64(theta_h), mx, mh, xhat, hhat, h,
                         record_events, x_count, h_count, x_idx, x_val, h_idx, h_val, top)
        xc.append(x_count)
        hc.append(h_count)
        hi = min(b + 1, len(ids))
        k = hi - a - 1  # steps of this chunk that have a next id
        if k > 0:
            nll_sum += float(_nll(top[:k], emb, dec_b, ids[a + 1:hi]).sum())
            preds += k
        if record_events:
            for l in range(L):
                s, tot = n * int(x_off[l]), int(x_count[:, l].sum())
                xs[l].append((x_idx[s:s + tot].copy(), x_val[s:s + tot].copy()))
                s, tot = n * int(P.h_off[l]), int(h_count[:, l].sum())
                hs[l].append((h_idx[s:s + tot].copy(), h_val[s:s + tot].copy()))
    x_counts = np.concatenate(xc) if xc else np.zeros((0, L), np.int64)
    h_counts = np.concatenate(hc) if hc else np.zeros((0, L), np.int64)

    return DeltaResult(T, nll_sum, preds, x_counts, h_counts,
                       chunks_to_csr(x_counts, xs, np.int64, np.float64) if record_events else None,
                       chunks_to_csr(h_counts, hs, np.int64, np.float64) if record_events else None, time.perf_counter() - t0)
