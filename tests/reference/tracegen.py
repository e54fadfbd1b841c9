"""Small random EGRU traces for tests (no synthesiser needed)."""

from __future__ import annotations

import dataclasses

import numpy as np

from accelsim.trace.format import CSC, Events, LayerTrace, Trace, make_meta

V2_KEYS = ("x_events", "h_events", "bias_fires")


def _index_events(mask: np.ndarray) -> Events:
    """v2 column sets from a T x n boolean mask: int64 indices, sorted and unique per step, no
    values."""
    indptr = np.zeros(mask.shape[0] + 1, dtype=np.int64)
    idx = []
    for t in range(mask.shape[0]):
        units = np.nonzero(mask[t])[0]
        idx.extend(int(u) for u in units)
        indptr[t + 1] = indptr[t] + len(units)
    return Events(indptr, np.array(idx, dtype=np.int64), None)


def nm_prune(a: np.ndarray, n: int, m: int) -> np.ndarray:
    """``a`` with, in every group of ``m`` consecutive rows of every column (the last group may be
    shorter), only the ``n`` largest |values| kept (ties: the lower row)."""
    out = np.array(a, dtype=np.float64, copy=True)
    for start in range(0, out.shape[0], m):
        blk = out[start:start + m]
        order = np.argsort(-np.abs(blk), axis=0, kind="stable")
        drop = order[n:]
        blk[drop, np.arange(blk.shape[1])[None, :]] = 0.0
    return out


def random_trace(sizes=(6, 5, 4), tokens=5, weight_density=0.4, activity=0.4, vocab=7,
                 decoder=False, seed=0, v2=False, nm=None) -> Trace:
    """``sizes`` = (embedding, H1, H2, ...); values in (-1, 1), events carry positive states.

    ``v2``: False (a v1 trace), True (every layer carries all v2 keys) or a collection of keys
    from ``V2_KEYS`` that every layer carries: ``x_events`` (input columns, int64 in
    [0, n_in)), ``h_events`` (recurrent columns, int64 in [0, H)), ``bias_fires`` (uint8 0/1
    per step). With any v2 key some gate rows get zero biases (a sparse bias column). Drawn after
    everything else, so a v1 trace of a seed is unchanged.

    ``nm``: (N, M) makes the weights N:M structured (:func:`nm_prune`: the gate matrices, the
    decoder and the bias column, i.e. the rows with a nonzero bias_x or bias_r); no random draw,
    so the rest of the trace is that of the seed."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, H in zip(sizes[:-1], sizes[1:]):
        w = rng.uniform(-1, 1, (3 * H, n_in + H)) * (rng.random((3 * H, n_in + H)) < weight_density)
        y = rng.uniform(0.1, 1.0, (tokens, H)) * (rng.random((tokens, H)) < activity)
        layers.append(LayerTrace(n_in, H, CSC.from_dense(w), rng.normal(size=3 * H).astype(np.float32),
                                 rng.normal(size=3 * H).astype(np.float32),
                                 rng.uniform(0.2, 0.6, H).astype(np.float32), Events.from_dense(y)))
    meta = make_meta([(l.input_size, l.hidden_size) for l in layers], vocab, tokens,
                     {"kind": "test", "seed": seed})
    emb = rng.normal(size=(vocab, sizes[0])).astype(np.float32)
    tok = rng.integers(0, vocab, tokens).astype(np.int64)
    dec = None
    if decoder:
        d = rng.uniform(-1, 1, (vocab, sizes[-1])) * (rng.random((vocab, sizes[-1])) < weight_density)
        dec = CSC.from_dense(d)
    keys = set(V2_KEYS) if v2 is True else set(v2 or ())
    unknown = keys - set(V2_KEYS)
    if unknown:
        raise ValueError(f"unknown v2 keys {sorted(unknown)}; choose from {V2_KEYS}")
    if keys:
        out = []
        for l in layers:
            extra = {}
            if "x_events" in keys:
                extra["x_events"] = _index_events(rng.random((tokens, l.input_size)) < activity)
            if "h_events" in keys:
                extra["h_events"] = _index_events(rng.random((tokens, l.hidden_size)) < activity)
            if "bias_fires" in keys:
                extra["bias_fires"] = (rng.random(tokens) < 0.5).astype(np.uint8)
            # a sparse bias column: gate rows with both biases zero have no entry in it
            keep = rng.random(3 * l.hidden_size) < max(weight_density, 0.2)
            bx = np.where(keep, l.bias_x, 0).astype(np.float32)
            br = np.where(keep & (rng.random(3 * l.hidden_size) < 0.5), l.bias_r, 0).astype(np.float32)
            out.append(LayerTrace(l.input_size, l.hidden_size, l.weight, bx, br, l.threshold,
                                  l.events, **extra))
        layers = out
    if nm is not None:
        n, m = nm
        out = []
        for l in layers:
            w = nm_prune(l.weight.to_dense(), n, m)
            bias_on = nm_prune(((l.bias_x != 0) | (l.bias_r != 0)).astype(np.float64)[:, None], n, m)[:, 0] != 0
            out.append(LayerTrace(l.input_size, l.hidden_size, CSC.from_dense(w),
                                  np.where(bias_on, l.bias_x, 0).astype(np.float32),
                                  np.where(bias_on, l.bias_r, 0).astype(np.float32), l.threshold,
                                  l.events, l.x_events, l.h_events, l.bias_fires))
        layers = out
        if dec is not None:
            dec = CSC.from_dense(nm_prune(dec.to_dense(), n, m))
    return Trace(meta, tuple(layers), emb, tok, dec, None, path="<random>", sha256="0" * 64)


def delta_like(trace):
    """Layer i >= 1 reads x_events: layer i-1's events, plus the last step's columns, which
    layer i-1's events leave empty (as a v2 delta trace's do)."""
    layers = list(trace.layers)
    for i in range(1, len(layers)):
        below = layers[i - 1].events
        T = below.steps
        last = np.arange(0, layers[i].input_size, 2, dtype=np.int64)   # columns 0, 2, ...
        x = Events(np.concatenate((below.indptr[:T], [below.indptr[T - 1] + last.size])).astype(np.int64),
                   np.concatenate((below.indices[:below.indptr[T - 1]].astype(np.int64), last)), None)
        layers[i] = dataclasses.replace(layers[i], x_events=x)
        kept = int(below.indptr[T - 1])
        layers[i - 1] = dataclasses.replace(layers[i - 1], events=Events(
            np.concatenate((below.indptr[:T], [kept])).astype(np.int64), below.indices[:kept],
            None if below.values is None else below.values[:kept]))
    return dataclasses.replace(trace, layers=tuple(layers))
