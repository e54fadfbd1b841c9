"""Build a v1 trace from an exported EGRU model and a PTB token range (torch-free)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from accelsim.trace.format import CSC, Events, LayerTrace, Trace, make_meta
from accelsim.workloads.infer import InferenceResult, run_inference
from accelsim.workloads.model_file import EGRUModel


def stacked_weight(layer) -> np.ndarray:
    """[W | R]: 3H x (n_in + H), rows z, r, g; columns inputs then recurrent units."""
    return np.concatenate([layer.W, layer.R], axis=1)


def make_trace(model: EGRUModel, ids: np.ndarray, source: dict, start: int = 0,
               tokens: int | None = None, include_embedding: bool = True,
               include_decoder: bool = True, value_dtype=np.float16) -> tuple[Trace, InferenceResult]:
    """Run the inference on ids[start:start+tokens] and package weights + events as a Trace.

    Token ids are never stored (PTB is licensed). ``meta.perplexity`` is the perplexity the
    inference measured over the traced range (each step predicts the next id of the split).
    """
    res = run_inference(model, ids, start=start, tokens=tokens, record_events=True)
    layers = []
    for l, (indptr, idx, val) in zip(model.layers, res.events):
        layers.append(LayerTrace(
            l.input_size, l.hidden_size, CSC.from_dense(stacked_weight(l), value_dtype),
            l.bias_x.astype(value_dtype), l.bias_r.astype(value_dtype),
            l.threshold.astype(np.float32), Events(indptr, idx.astype(np.int32), val.astype(value_dtype))))
    sizes = [(l.input_size, l.hidden_size) for l in model.layers]
    hidden = [l.hidden_size for l in model.layers]
    src = dict(source, start=int(start), inference="accelsim.workloads.infer (numba, float32)",
               predictions=int(res.predictions))
    extra = {"activity_sparsity": [round(a, 6) for a in res.activity_sparsity(hidden)]}
    meta = make_meta(sizes, model.vocab_size, res.tokens, src,
                     perplexity=round(res.perplexity, 4) if res.predictions else None, **extra)
    trace = Trace(
        meta, tuple(layers),
        embedding=model.embedding.astype(value_dtype) if include_embedding else None,
        decoder_weight=CSC.from_dense(model.embedding, value_dtype) if include_decoder else None,
        decoder_bias=model.decoder_bias.astype(value_dtype) if include_decoder else None)
    return trace, res



def make_delta_trace(model: EGRUModel, ids: np.ndarray, source: dict, theta_x: float,
                     theta_h: float, start: int = 0, tokens: int | None = None,
                     include_embedding: bool = True, value_dtype=np.float16):
    """Run the delta-network inference of a GRU on ids[start:start+tokens] and package weights
    and transmitted columns as a version-2 Trace: per layer ``x_events`` (input columns with
    their deltas), ``h_events`` (recurrent columns with their deltas), ``bias_fires`` (the bias
    is the accumulators' start value: fetched at step 0 only) and ``events`` (the recurrent
    columns sent to the next step). The layer's ``threshold`` holds ``theta_h`` for every unit.
    The decoder is not traced (it reads the last layer's state densely)."""
    from accelsim.trace.format import next_step_events
    from accelsim.workloads.delta_infer import run_delta

    res = run_delta(model, ids, theta_x, theta_h, start=start, tokens=tokens, record_events=True)
    T = res.tokens
    layers = []
    for l, (xi, xx, xv), (hi, hx, hv) in zip(model.layers, res.x_events, res.h_events):
        x_ev = Events(xi, xx.astype(np.int64), xv.astype(value_dtype))
        h_ev = Events(hi, hx.astype(np.int64), hv.astype(value_dtype))
        bias_fires = np.zeros(T, np.uint8)
        bias_fires[:1] = 1
        layers.append(LayerTrace(
            l.input_size, l.hidden_size, CSC.from_dense(stacked_weight(l), value_dtype),
            l.bias_x.astype(value_dtype), l.bias_r.astype(value_dtype),
            np.full(l.hidden_size, theta_h, np.float32), next_step_events(h_ev, T), x_ev, h_ev,
            bias_fires))
    sizes = [(l.input_size, l.hidden_size) for l in model.layers]
    src = dict(source, start=int(start), theta_x=float(theta_x), theta_h=float(theta_h),
               inference="accelsim.workloads.delta_infer (numba, float32)",
               predictions=int(res.predictions))
    extra = {"x_activity": [round(a, 6) for a in res.x_activity([n for n, _ in sizes])],
             "h_activity": [round(a, 6) for a in res.h_activity([h for _, h in sizes])]}
    meta = make_meta(sizes, model.vocab_size, T, src,
                     perplexity=round(res.perplexity, 4) if res.predictions else None, **extra)
    trace = Trace(meta, tuple(layers),
                  embedding=model.embedding.astype(value_dtype) if include_embedding else None)
    return trace, res
