"""What a trace asks of the hardware, before any hardware: sparsities and MAC counts.

Two MAC counts are given. ``macs_formula`` is the usual op accounting,
``MAC_l = (1 - s_w) [a_{l-1} n_in 3H + a_l H 3H]`` per step, with W and R priced by their own
weight sparsity and ``a`` the mean fraction of active units (layer 0's input, the dense
embedding, has a = 1). ``macs_sparse`` is the exact count: for every event, the nonzeros of the
column it selects (input events of step t select W columns at step t; a layer's own events of
step t select R columns at step t + 1, so the last step's events select nothing).

A version-2 layer that carries ``x_events`` / ``h_events`` reads exactly those columns instead
(input columns of step t, recurrent columns of step t), in both counts: ``a`` is then the mean
fraction of fired input / recurrent columns. The bias column (``bias_fires``) is not a MAC and is
counted apart.
"""

from __future__ import annotations

import numpy as np

from accelsim.trace.format import Events, LayerTrace, Trace


def weight_sparsity(layer: LayerTrace) -> dict[str, float]:
    nnz = layer.weight.col_nnz()
    n_in, H = layer.input_size, layer.hidden_size
    w, r = int(nnz[:n_in].sum()), int(nnz[n_in:].sum())
    return {
        "W": 1.0 - w / (3 * H * n_in),
        "R": 1.0 - r / (3 * H * H),
        "total": 1.0 - (w + r) / (3 * H * (n_in + H)),
    }


def activity_sparsity(layer: LayerTrace) -> float:
    T = layer.events.steps
    if T == 0:
        return 0.0
    return 1.0 - int(layer.events.indptr[-1]) / (T * layer.hidden_size)


def fired_per_step(events: Events | None) -> float | None:
    """Mean columns read per step of a v2 ``x_events`` / ``h_events`` group (None when absent)."""
    if events is None:
        return None
    return int(events.indptr[-1]) / events.steps if events.steps else 0.0


def layer_macs_exact(trace: Trace, l: int) -> int:
    layer = trace.layers[l]
    nnz = layer.weight.col_nnz()
    n_in, T = layer.input_size, trace.steps
    if layer.x_events is not None:  # v2: the input columns the layer reads
        inp = int(nnz[:n_in][layer.x_events.indices].sum())
    elif l == 0:
        inp = int(nnz[:n_in].sum()) * T  # dense embedding: every input column, every step
    else:
        inp = int(nnz[:n_in][trace.layers[l - 1].events.indices].sum())
    if layer.h_events is not None:  # v2: the recurrent columns the layer reads
        used = layer.h_events.indices
    else:
        ev = layer.events
        used = ev.indices[: int(ev.indptr[max(T - 1, 0)])]  # events of steps 0..T-2 feed steps 1..T-1
    rec = int(nnz[n_in:][used].sum())
    return inp + rec


def formula_macs(input_size: int, hidden_size: int, sparsity_w: float, sparsity_r: float,
                 active_in: float, active_rec: float) -> float:
    """The op accounting of one layer-step, the one place it is written:
    ``(1 - s_W) a_in n_in 3H + (1 - s_R) a_rec H 3H``."""
    G = 3 * hidden_size
    return (1 - sparsity_w) * active_in * input_size * G + (1 - sparsity_r) * active_rec * hidden_size * G


def layer_macs_formula(trace: Trace, l: int) -> float:
    layer = trace.layers[l]
    ws = weight_sparsity(layer)
    n_in, H, T = layer.input_size, layer.hidden_size, trace.steps
    if layer.x_events is not None:
        a_in = fired_per_step(layer.x_events) / n_in
    else:
        a_in = 1.0 if l == 0 else 1.0 - activity_sparsity(trace.layers[l - 1])
    if layer.h_events is not None:
        a_rec = fired_per_step(layer.h_events) / H
    else:
        a_rec = 1.0 - activity_sparsity(layer)
    return T * formula_macs(n_in, H, ws["W"], ws["R"], a_in, a_rec)


def layer_macs_dense(layer: LayerTrace, steps: int) -> int:
    return 3 * layer.hidden_size * (layer.input_size + layer.hidden_size) * steps


def trace_summary(trace: Trace) -> dict:
    """Everything `accelsim trace info --json` prints."""
    T = trace.steps
    layers = []
    for l, layer in enumerate(trace.layers):
        ws = weight_sparsity(layer)
        layers.append({
            "input_size": layer.input_size,
            "hidden_size": layer.hidden_size,
            "activity_sparsity": activity_sparsity(layer),
            "weight_sparsity": ws["total"],
            "weight_sparsity_W": ws["W"],
            "weight_sparsity_R": ws["R"],
            "events": int(layer.events.indptr[-1]),
            "macs_dense": layer_macs_dense(layer, T),
            "macs_sparse": layer_macs_exact(trace, l),
            "macs_formula": layer_macs_formula(trace, l),
            # version 2, None when the layer does not carry them
            "x_fired_per_step": fired_per_step(layer.x_events),
            "h_fired_per_step": fired_per_step(layer.h_events),
            "bias_fires": None if layer.bias_fires is None else int(layer.bias_fires.sum()),
        })
    out = {
        "version": trace.meta.get("version"),
        "tokens": T,
        "vocab_size": trace.vocab_size,
        "layers": layers,
        "macs_dense": sum(x["macs_dense"] for x in layers),
        "macs_sparse": sum(x["macs_sparse"] for x in layers),
        "macs_formula": sum(x["macs_formula"] for x in layers),
        "has_embedding": trace.embedding is not None,
        "has_tokens": trace.token_ids is not None,
        "has_decoder": trace.decoder_weight is not None,
        "source": trace.meta.get("source"),
        "perplexity": trace.meta.get("perplexity"),
        "sha256": trace.sha256,
    }
    out["mac_reduction"] = out["macs_dense"] / out["macs_sparse"] if out["macs_sparse"] else float("inf")
    if trace.decoder_weight is not None:
        out["decoder_weight_sparsity"] = 1.0 - trace.decoder_weight.nnz / (
            trace.decoder_weight.shape[0] * trace.decoder_weight.shape[1])
    return out
