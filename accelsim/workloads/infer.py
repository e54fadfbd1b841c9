"""Torch-free EGRU inference (NumPy + Numba) of the EGRU equations, producing v1 traces.

One token at a time, batch 1, the state carried across the whole split (the standard PTB test
setting). The work is event-driven like the hardware: layer l's input and recurrent projections
add one weight column per event (``acc += value * column``), with Wx and Rh accumulated apart so
that r multiplies Rh[g] only. Layer 0's input projection of a token is a row of the table
``embedding @ W0^T + b_x`` (computed once with BLAS). The decoder is tied: logits =
``embedding @ y_L + bias``, also one column per last-layer event.

Weights are the exported float16 values held as float32; arithmetic is float32 like torch, so the
two agree up to summation order (checked by the tests and by ``compare_with_torch``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numba import njit

from accelsim.workloads.model_file import EGRUModel


@dataclass
class Packed:
    """All layers flattened into contiguous arrays with offsets (Numba takes no lists of arrays)."""

    n_in: np.ndarray
    hidden: np.ndarray
    wt: np.ndarray   # per layer l > 0: W_l^T (n_in x 3H), row j = input column j; layer 0 unused
    wt_off: np.ndarray
    rt: np.ndarray   # per layer: R_l^T (H x 3H)
    rt_off: np.ndarray
    bx: np.ndarray
    br: np.ndarray
    g_off: np.ndarray  # offsets into bx / br (3H per layer)
    thr: np.ndarray
    h_off: np.ndarray  # offsets into thr / state (H per layer)
    table0: np.ndarray  # V x 3H0: embedding @ W0^T + b_x0
    emb_t: np.ndarray   # E x V: decoder columns (tied embedding, transposed)
    dec_b: np.ndarray
    use_csc: np.ndarray  # per layer: 1 = walk the nonzeros of [W | R] (pruned), 0 = dense rows
    csc_ptr: np.ndarray  # per layer: column pointers of [W | R] (n_in + H + 1), concatenated
    ptr_off: np.ndarray
    csc_row: np.ndarray  # row ids (gate rows 0..3H-1), concatenated
    csc_val: np.ndarray
    nz_off: np.ndarray


CSC_MAX_DENSITY = 0.5  # below this a layer's columns are walked as nonzeros, not dense rows


def pack(model: EGRUModel, csc: bool | None = None, dense_w0: bool = False) -> Packed:
    """Flatten the model for the kernel. ``csc`` forces the nonzero walk (True) or dense rows
    (False) for every layer; by default a layer uses it below ``CSC_MAX_DENSITY``. Both give the
    same numbers: each accumulator sums the same products in the same (event) order.
    ``dense_w0`` also stores layer 0's W^T (a delta network reads layer 0's input columns one by
    one; the EGRU reads its table). A GRU's missing thresholds pack as zeros."""
    L = len(model.layers)
    use_csc, ptrs, rows_, vals, ptr_off, nz_off = [], [], [], [], [0], [0]
    for l in model.layers:
        wr = np.concatenate([l.W, l.R], axis=1)
        nz = wr != 0
        use_csc.append(int(nz.mean() < CSC_MAX_DENSITY) if csc is None else int(csc))
        cols, rows = np.nonzero(nz.T)  # column-major, rows ascending within a column
        ptr = np.zeros(wr.shape[1] + 1, np.int64)
        np.cumsum(np.bincount(cols, minlength=wr.shape[1]), out=ptr[1:])
        ptrs.append(ptr)
        rows_.append(rows.astype(np.int32))
        vals.append(wr[rows, cols].astype(np.float32))
        ptr_off.append(ptr_off[-1] + ptr.size)
        nz_off.append(nz_off[-1] + rows.size)
    n_in = np.array([l.input_size for l in model.layers], np.int64)
    hid = np.array([l.hidden_size for l in model.layers], np.int64)
    wt, rt, wt_off, rt_off = [], [], [0], [0]
    for i, l in enumerate(model.layers):
        w = np.ascontiguousarray(l.W.T, dtype=np.float32) if i > 0 or dense_w0 else np.zeros(0, np.float32)
        wt.append(w.ravel())
        wt_off.append(wt_off[-1] + w.size)
        r = np.ascontiguousarray(l.R.T, dtype=np.float32)
        rt.append(r.ravel())
        rt_off.append(rt_off[-1] + r.size)
    g_off = np.concatenate([[0], np.cumsum(3 * hid)]).astype(np.int64)
    h_off = np.concatenate([[0], np.cumsum(hid)]).astype(np.int64)
    l0 = model.layers[0]
    table0 = (model.embedding.astype(np.float32) @ l0.W.T.astype(np.float32)
              + l0.bias_x.astype(np.float32)).astype(np.float32)
    return Packed(n_in, hid, np.concatenate(wt).astype(np.float32), np.array(wt_off, np.int64),
                  np.concatenate(rt).astype(np.float32), np.array(rt_off, np.int64),
                  np.concatenate([l.bias_x for l in model.layers]).astype(np.float32),
                  np.concatenate([l.bias_r for l in model.layers]).astype(np.float32), g_off,
                  np.concatenate([np.zeros(l.hidden_size, np.float32) if l.threshold is None
                                  else l.threshold for l in model.layers]).astype(np.float32), h_off,
                  np.ascontiguousarray(table0),
                  np.ascontiguousarray(model.embedding.T, dtype=np.float32),
                  model.decoder_bias.astype(np.float32), np.array(use_csc, np.int64),
                  np.concatenate(ptrs), np.array(ptr_off, np.int64), np.concatenate(rows_),
                  np.concatenate(vals), np.array(nz_off, np.int64))


@njit(cache=True)
def project(acc, G, n, idx, val, use_csc, po, no, csc_ptr, csc_row, csc_val, dense, base):
    """acc[:G] += sum over the n columns idx[e] of column * val[e], in column order: the
    columns of the CSC arrays (pointers from csc_ptr[po], entries from no) when ``use_csc``,
    else of the column-major dense block ``dense[base:]``."""
    if use_csc:
        for e in range(n):
            j = idx[e]
            v = val[e]
            for q in range(no + csc_ptr[po + j], no + csc_ptr[po + j + 1]):
                acc[csc_row[q]] += v * csc_val[q]
    else:
        for e in range(n):
            j = idx[e]
            v = val[e]
            row = base + j * G
            for k in range(G):
                acc[k] += v * dense[row + k]


@njit(cache=True)
def _sigmoid(x):
    return np.float32(1.0) / (np.float32(1.0) + np.exp(-x))


@njit(cache=True)
def egru_run_kernel(tokens, targets, n_in, hidden, wt, wt_off, rt, rt_off, bx, br, g_off, thr,
                    h_off, table0, emb_t, dec_b, use_csc, csc_ptr, ptr_off, csc_row, csc_val,
                    nz_off, c, prev_idx, prev_val, prev_n, record, ev_count, ev_idx, ev_val,
                    nll_out):
    """Run len(tokens) steps from state (c, prev_*), updating it in place.

    Per step and layer writes the event count to ev_count[t, l]; when ``record``, the events'
    unit ids and values go to ev_idx / ev_val at layer-major offsets (caller sizes them T*H per
    layer: layer l's region starts at T * h_off[l]). ``targets[t] >= 0`` adds the decoder's NLL
    of that target to nll_out[t]. Returns nothing; everything is written to the given arrays.
    """
    T = tokens.shape[0]
    L = hidden.shape[0]
    maxg = 0
    for l in range(L):
        if 3 * hidden[l] > maxg:
            maxg = 3 * hidden[l]
    wx = np.empty(maxg, np.float32)
    rh = np.empty(maxg, np.float32)
    V = dec_b.shape[0]
    logits = np.empty(V, np.float32)
    cur_idx = np.empty(prev_idx.shape[0], np.int32)
    cur_val = np.empty(prev_idx.shape[0], np.float32)
    ev_fill = np.zeros(L, np.int64)
    for t in range(T):
        in_n = 0
        for l in range(L):
            H = hidden[l]
            G = 3 * H
            go = g_off[l]
            ho = h_off[l]
            # input projection Wx (kept apart from Rh)
            if l == 0:
                tok = tokens[t]
                for k in range(G):
                    wx[k] = table0[tok, k]
            else:
                for k in range(G):
                    wx[k] = bx[go + k]
                project(wx, G, in_n, cur_idx, cur_val, use_csc[l], ptr_off[l], nz_off[l], csc_ptr,
                        csc_row, csc_val, wt, wt_off[l])
            # recurrent projection Rh from this layer's events of the previous step
            for k in range(G):
                rh[k] = br[go + k]
            # (the recurrent columns follow the input columns in the CSC pointers)
            project(rh, G, prev_n[l], prev_idx[ho:], prev_val[ho:], use_csc[l],
                    ptr_off[l] + n_in[l], nz_off[l], csc_ptr, csc_row, csc_val, rt, rt_off[l])
            # gates, state update, threshold, reset; events replace this layer's prev_*
            n = 0
            for u in range(H):
                z = _sigmoid(wx[u] + rh[u])
                r = _sigmoid(wx[H + u] + rh[H + u])
                g = np.tanh(wx[2 * H + u] + r * rh[2 * H + u])
                ch = np.float32(z * c[ho + u] + (np.float32(1.0) - z) * g)
                th = thr[ho + u]
                if ch - th > np.float32(0.0):
                    prev_idx[ho + n] = u
                    prev_val[ho + n] = ch
                    n += 1
                    c[ho + u] = ch - th
                else:
                    c[ho + u] = ch
            prev_n[l] = n
            ev_count[t, l] = n
            if record:
                off = T * h_off[l] + ev_fill[l]  # layer l's region, after its earlier events
                for e in range(n):
                    ev_idx[off + e] = prev_idx[ho + e]
                    ev_val[off + e] = prev_val[ho + e]
                ev_fill[l] += n
            # this layer's events are the next layer's input
            for e in range(n):
                cur_idx[e] = prev_idx[ho + e]
                cur_val[e] = prev_val[ho + e]
            in_n = n
        if targets[t] >= 0:
            for k in range(V):
                logits[k] = dec_b[k]
            for e in range(in_n):
                j = cur_idx[e]
                v = cur_val[e]
                for k in range(V):
                    logits[k] += v * emb_t[j, k]
            m = logits[0]
            for k in range(V):
                if logits[k] > m:
                    m = logits[k]
            s = 0.0
            for k in range(V):
                s += np.exp(logits[k] - m)  # float32 exp, float64 sum
            nll_out[t] = m + math.log(s) - logits[targets[t]]


def chunks_to_csr(counts: np.ndarray, parts: list[list[tuple[np.ndarray, np.ndarray]]],
                  idx_dtype, val_dtype) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per layer l, (indptr, indices, values) from the per-step counts ``counts[:, l]`` (T x L)
    and the chunks' (indices, values) pieces ``parts[l]``, in order."""
    out = []
    for l in range(counts.shape[1]):
        indptr = np.zeros(counts.shape[0] + 1, np.int64)
        np.cumsum(counts[:, l], out=indptr[1:])
        idx = np.concatenate([p[0] for p in parts[l]]) if parts[l] else np.zeros(0, idx_dtype)
        val = np.concatenate([p[1] for p in parts[l]]) if parts[l] else np.zeros(0, val_dtype)
        out.append((indptr, idx, val))
    return out


@dataclass
class InferenceResult:
    tokens: int
    nll_sum: float
    predictions: int
    event_counts: np.ndarray            # T x L
    events: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None  # per layer (indptr, idx, val)
    wall_s: float

    @property
    def perplexity(self) -> float:
        return math.exp(self.nll_sum / self.predictions) if self.predictions else float("nan")

    def activity_sparsity(self, hidden: list[int]) -> list[float]:
        return [1.0 - float(self.event_counts[:, l].sum()) / (self.tokens * h)
                for l, h in enumerate(hidden)]


def run_inference(model: EGRUModel, ids: np.ndarray, start: int = 0, tokens: int | None = None,
                  record_events: bool = True, chunk: int = 4096, packed: Packed | None = None,
                  warm_tokens: int = 0) -> InferenceResult:
    """Run ids[start : start + tokens] (default: to the end) as one stream from a zero state.

    Step t predicts ids[start + t + 1] whenever that id exists within ``ids``; the perplexity is
    over those predictions. ``warm_tokens`` > 0 first runs that many tokens before ``start`` to
    warm the state (not recorded, not scored).
    """
    P = packed or pack(model)
    ids = np.asarray(ids, dtype=np.int32)
    end = len(ids) if tokens is None else min(len(ids), start + tokens)
    T = end - start
    L = len(model.layers)
    Htot = int(P.hidden.sum())
    c = np.zeros(Htot, np.float32)
    prev_idx = np.zeros(Htot, np.int32)
    prev_val = np.zeros(Htot, np.float32)
    prev_n = np.zeros(L, np.int64)
    t0 = time.perf_counter()

    def run_chunk(a, b, record, score):
        n = b - a
        toks = ids[a:b]
        tg = np.full(n, -1, np.int32)
        if score:
            hi = min(b + 1, len(ids))
            tg[: hi - a - 1] = ids[a + 1:hi]
        cnt = np.zeros((n, L), np.int64)
        size = n * Htot if record else 1
        ev_idx = np.zeros(size, np.int32)
        ev_val = np.zeros(size, np.float32)
        nll = np.zeros(n, np.float64)
        egru_run_kernel(toks, tg, P.n_in, P.hidden, P.wt, P.wt_off, P.rt, P.rt_off, P.bx, P.br,
                        P.g_off, P.thr, P.h_off, P.table0, P.emb_t, P.dec_b, P.use_csc,
                        P.csc_ptr, P.ptr_off, P.csc_row, P.csc_val, P.nz_off, c, prev_idx,
                        prev_val, prev_n, record, cnt, ev_idx, ev_val, nll)
        return cnt, ev_idx, ev_val, nll, tg

    if warm_tokens > 0:
        w0 = max(0, start - warm_tokens)
        for a in range(w0, start, chunk):
            run_chunk(a, min(start, a + chunk), False, False)
    counts, per_layer, nll_sum, preds = [], [[] for _ in range(L)], 0.0, 0
    for a in range(start, end, chunk):
        b = min(end, a + chunk)
        cnt, ev_idx, ev_val, nll, tg = run_chunk(a, b, record_events, True)
        counts.append(cnt)
        nll_sum += float(nll[tg >= 0].sum())
        preds += int((tg >= 0).sum())
        if record_events:
            n = b - a
            for l in range(L):
                s = n * int(P.h_off[l])
                tot = int(cnt[:, l].sum())
                per_layer[l].append((ev_idx[s:s + tot].copy(), ev_val[s:s + tot].copy()))
    event_counts = np.concatenate(counts) if counts else np.zeros((0, L), np.int64)
    events = chunks_to_csr(event_counts, per_layer, np.int32, np.float32) if record_events else None
    return InferenceResult(T, nll_sum, preds, event_counts, events, time.perf_counter() - t0)
