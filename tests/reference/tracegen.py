"""Small random EGRU traces for tests (no synthesiser needed)."""

from __future__ import annotations

import numpy as np

from accelsim.trace.format import CSC, Events, LayerTrace, Trace, make_meta


def random_trace(sizes=(6, 5, 4), tokens=5, weight_density=0.4, activity=0.4, vocab=7,
                 decoder=False, seed=0) -> Trace:
    """``sizes`` = (embedding, H1, H2, ...); values in (-1, 1), events carry positive states."""
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
    return Trace(meta, tuple(layers), emb, tok, dec, None, path="<random>", sha256="0" * 64)
