"""Synthetic EGRU traces: paper-scale (and larger) workloads without training.

What is modelled: pruned stacked gate matrices ``[W | R]`` (unstructured, magnitude, Spartus-style
column-balanced, or N:M), heterogeneous per-unit firing rates (log-normal), temporal persistence
(each unit is a two-state Markov chain whose lag-1 autocorrelation is ``persistence``), and event
values that sit above the unit's threshold as EGRU states do. What is not: the values are not the
output of a real recurrence (the events do not follow from the weights), so a synthetic trace
exercises the hardware, not the model; ``--calibrate-from`` copies firing-rate distributions,
persistence and event values from a real trace.

``encoding="delta"`` models a delta network (EdgeDRNN, DeltaRNN, Spartus) instead and writes the
version-2 keys: per layer, the input columns (``x_events``, layer 0's input included) and the
recurrent columns (``h_events``) each fire with their own per-column rates and the same Markov
persistence, and the bias is fetched as a column at step 0 and every ``bias_every`` steps. The
recurrent columns of step 0 are empty (the state before the first step is zero, so it has no
delta). The layer's ``events`` are the recurrent columns of the next step (``events[t] =
h_events[t + 1]``, the last step's empty), so a reader of the version-1 keys sees the same
recurrent columns. Values are signed deltas whose magnitude is at least the threshold of the unit
that produced the column (the layer's own ``threshold`` for recurrent columns, the layer below's
for input columns, ``DELTA_INPUT_THRESHOLD`` for layer 0's input).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from accelsim.config.limits import check_memory
from accelsim.errors import InputError
from accelsim.trace.format import CSC, Events, LayerTrace, Trace, make_meta, next_step_events

PAPER_LAYERS = (750, 1350, 1350, 750)
PRUNINGS = ("unstructured", "magnitude", "column-balanced", "N:M")
ENCODINGS = ("egru", "delta")
DELTA_INPUT_THRESHOLD = 0.1   # delta threshold of layer 0's input columns (delta encoding)
MAX_COLUMN_ACTIVITY = 0.95    # per-column firing rates are capped at 0.95 (lognormal_rates)
_NM = re.compile(r"^(\d+):(\d+)$")


@dataclass(frozen=True)
class LayerActivity:
    """How one layer fires: per-unit rates (mean = 1 - activity sparsity) and persistence."""

    rates: np.ndarray          # per-unit firing probability, H entries
    persistence: float         # lag-1 autocorrelation of a unit's firing, in [0, 1)
    value_excess: np.ndarray | None = None  # pool of (event value - threshold) to draw from


def _per_layer(name: str, v, n: int, hi: float = 1.0, hi_inclusive: bool = False) -> list[float]:
    vals = list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v]
    if len(vals) == 1:
        vals = vals * n
    if len(vals) != n:
        raise InputError(f"--{name}: give one value or one per layer ({n}), got {len(vals)}")
    for x in vals:
        if not (0.0 <= float(x) <= hi if hi_inclusive else 0.0 <= float(x) < hi):
            raise InputError(f"--{name}: each value must be in [0, {hi:g}{']' if hi_inclusive else ')'} (got {x})")
    return [float(x) for x in vals]


def _keep_count(n: int, sparsity: float) -> int:
    return int(round(n * (1.0 - sparsity)))


def prune_mask(w: np.ndarray, sparsity: float, pruning: str, rng: np.random.Generator,
               groups: int = 16) -> np.ndarray:
    """Boolean keep-mask for one matrix (rows = outputs, columns = inputs)."""
    rows, cols = w.shape
    if pruning == "unstructured":  # uniformly random positions, exact count
        keep = _keep_count(w.size, sparsity)
        mask = np.zeros(w.size, dtype=bool)
        mask[rng.permutation(w.size)[:keep]] = True
        return mask.reshape(w.shape)
    if pruning == "magnitude":  # the largest |w| of the whole matrix, exact count
        keep = _keep_count(w.size, sparsity)
        mask = np.zeros(w.size, dtype=bool)
        if keep:
            mask[np.argpartition(-np.abs(w).ravel(), keep - 1)[:keep]] = True
        return mask.reshape(w.shape)
    if pruning == "column-balanced":
        # Spartus: each column is split into `groups` row groups (row i -> group i mod groups, the
        # row-interleaved PE assignment); every group keeps the same count of its largest |w|. That
        # count is whole, so the sparsity met is the nearest multiple of 1 / (rows per group).
        mask = np.zeros(w.shape, dtype=bool)
        a = np.abs(w)
        for g in range(min(groups, rows)):
            idx = np.arange(g, rows, groups)
            k = _keep_count(len(idx), sparsity)
            if k:
                top = np.argpartition(-a[idx], k - 1, axis=0)[:k]  # k x cols
                mask[idx[top], np.arange(cols)[None, :]] = True
        return mask
    m = _NM.match(pruning)
    if m:  # N:M: in every run of M consecutive rows of a column keep the N largest
        n_keep, M = int(m.group(1)), int(m.group(2))
        mask = np.zeros(w.shape, dtype=bool)
        a = np.abs(w)
        for start in range(0, rows, M):
            blk = a[start:start + M]
            k = min(n_keep, blk.shape[0])
            if k:
                top = np.argpartition(-blk, k - 1, axis=0)[:k]
                mask[start + top, np.arange(cols)[None, :]] = True
        return mask
    raise InputError(f"--pruning: unknown pattern {pruning!r}; expected one of unstructured, magnitude, "
                     f"column-balanced, or N:M such as 2:4")


def check_pruning(pruning: str) -> None:
    m = _NM.match(pruning)
    if pruning in PRUNINGS[:3]:
        return
    if m and 0 < int(m.group(1)) <= int(m.group(2)):
        return
    raise InputError(f"--pruning: unknown pattern {pruning!r}; expected unstructured, magnitude, "
                     f"column-balanced, or N:M with 0 < N <= M (e.g. 2:4)")


def _weights(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    # Heterogeneous row and column scales so that magnitude pruning leaves uneven columns, as
    # trained networks do (the source of PE load imbalance).
    scale = 1.0 / np.sqrt(cols)
    w = rng.standard_normal((rows, cols), dtype=np.float32) * scale
    w *= rng.lognormal(0.0, 0.35, size=(rows, 1)).astype(np.float32)
    w *= rng.lognormal(0.0, 0.35, size=(1, cols)).astype(np.float32)
    return w


def lognormal_rates(H: int, mean: float, rng: np.random.Generator, sigma: float = 1.0,
                    cap: float = 0.95) -> np.ndarray:
    """Per-unit firing rates: log-normal shape, clipped to [0, cap], rescaled to the exact mean."""
    if mean <= 0:
        return np.zeros(H)
    r = rng.lognormal(0.0, sigma, size=H)
    r *= mean / r.mean()
    for _ in range(50):  # clipping lowers the mean; push the unclipped units up until it holds
        r = np.minimum(r, cap)
        m = r.mean()
        if abs(m - mean) < 1e-12:
            break
        free = r < cap
        if not free.any():
            break
        r[free] *= (mean * H - cap * (~free).sum()) / r[free].sum()
    return np.minimum(r, cap)


def _spikes(rates: np.ndarray, persistence: float, T: int, rng: np.random.Generator) -> np.ndarray:
    """T x H booleans: per unit a Markov chain with stationary rate p and lag-1 correlation rho."""
    p = rates
    rho = persistence
    p_on = p + rho * (1 - p)   # P(fire | fired last step)
    p_off = p * (1 - rho)      # P(fire | silent last step)
    u = rng.random((T, len(p)), dtype=np.float32)
    out = np.empty((T, len(p)), dtype=bool)
    state = rng.random(len(p)) < p
    for t in range(T):
        state = u[t] < np.where(state, p_on, p_off)
        out[t] = state
    return out


def _measured_activity(layer: LayerTrace, T: int) -> LayerActivity:
    H = layer.hidden_size
    ev = layer.events
    fired = np.zeros((T, H), dtype=bool)
    steps = np.repeat(np.arange(T), ev.counts())
    fired[steps, ev.indices] = True
    rates = fired.mean(axis=0)
    # Lag-1 autocorrelation of the firing indicator, pooled over units.
    x = fired.astype(np.float64) - rates
    num = (x[1:] * x[:-1]).sum()
    den = (x * x).sum()
    rho = float(np.clip(num / den, 0.0, 0.99)) if den > 0 else 0.0
    excess = ev.values.astype(np.float64) - layer.threshold.astype(np.float64)[ev.indices]
    return LayerActivity(rates, rho, excess if excess.size else None)


def calibration_from(trace: Trace) -> list[LayerActivity]:
    """Per-layer firing-rate distributions, persistence and event values of a real trace."""
    if trace.steps < 2:
        raise InputError(f"{trace.path}: needs at least 2 steps to calibrate from (has {trace.steps})")
    return [_measured_activity(l, trace.steps) for l in trace.layers]


def _resample(values: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws that follow the empirical distribution of values (sorted quantiles, shuffled)."""
    q = np.quantile(values, (np.arange(n) + 0.5) / n)
    return rng.permutation(q)


def synthesize(layers=PAPER_LAYERS, tokens: int = 10000, weight_sparsity=0.8, activity_sparsity=0.85,
               pruning: str = "unstructured", seed: int = 0, vocab_size: int = 10000,
               rate_sigma: float = 1.0, persistence: float = 0.3, balance_groups: int = 16,
               embedding: bool = True, decoder: bool = False, calibrate_from: Trace | None = None,
               value_dtype=np.float16, encoding: str = "egru", x_activity=0.15, h_activity=0.15,
               bias_every: int = 0) -> Trace:
    """A synthetic trace. ``layers`` = [embedding, hidden_1, ..., hidden_L].

    ``encoding="egru"``: EGRU events (version-1 keys only), ``activity_sparsity`` per layer.
    ``encoding="delta"``: a delta network (version-2 keys); ``x_activity`` / ``h_activity`` are the
    fractions of input / recurrent columns fired per step (one value or one per layer), the bias
    fires at step 0 and every ``bias_every`` steps (0: only at step 0); ``activity_sparsity`` is
    not used and ``calibrate_from`` is refused.
    """
    sizes = [int(x) for x in layers]
    if len(sizes) < 2 or min(sizes) <= 0:
        raise InputError(f"--layers: need the embedding size and at least one hidden size, all > 0 (got {sizes})")
    if tokens < 0:
        raise InputError(f"--tokens: must be >= 0 (got {tokens})")
    if vocab_size <= 0:
        raise InputError(f"--vocab: must be > 0 (got {vocab_size})")
    if not 0.0 <= persistence < 1.0:
        raise InputError(f"--persistence: must be in [0, 1) (got {persistence})")
    check_pruning(pruning)
    L = len(sizes) - 1
    ws = _per_layer("weight-sparsity", weight_sparsity, L)
    if encoding not in ENCODINGS:
        raise InputError(f"--encoding: unknown encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    delta = encoding == "delta"
    if delta:
        if calibrate_from is not None:
            raise InputError("--calibrate-from: only with --encoding egru")
        if isinstance(bias_every, bool) or not isinstance(bias_every, (int, np.integer)) or bias_every < 0:
            raise InputError(f"--bias-every: must be an integer >= 0 (got {bias_every!r})")
        xa = _per_layer("x-activity", x_activity, L, hi=MAX_COLUMN_ACTIVITY, hi_inclusive=True)
        ha = _per_layer("h-activity", h_activity, L, hi=MAX_COLUMN_ACTIVITY, hi_inclusive=True)
        calib = as_ = None
    else:
        calib = calibration_from(calibrate_from) if calibrate_from is not None else None
        if activity_sparsity is None:
            if calib is None:
                raise InputError("--activity-sparsity: required unless --calibrate-from is given")
            as_ = None
        else:
            as_ = _per_layer("activity-sparsity", activity_sparsity, L)
    T = int(tokens)
    if delta:
        fired = list(zip(xa, ha))
    else:  # calibrated rates without a target sparsity: count every unit as firing
        fired = [(0.0, 1.0)] * L if as_ is None else [(0.0, 1.0 - a) for a in as_]
    need = synth_memory_bytes(sizes, T, ws, fired, vocab_size, embedding, decoder, delta,
                              np.dtype(value_dtype).itemsize)
    check_memory(need, f"synthesising a trace of layers {','.join(map(str, sizes))} over {T:,} tokens",
                 "use smaller layers, fewer tokens or a smaller vocabulary")
    rng = np.random.default_rng(seed)
    out_layers = []
    achieved_as, achieved_ws, persist = [], [], []
    achieved_x, achieved_h = [], []
    below_threshold = None
    for l in range(L):
        n_in, H = sizes[l], sizes[l + 1]
        w = _weights(3 * H, n_in + H, rng)
        # W and R are pruned apart, each to the requested sparsity (per-matrix pruning).
        keep = np.concatenate([prune_mask(w[:, :n_in], ws[l], pruning, rng, balance_groups),
                               prune_mask(w[:, n_in:], ws[l], pruning, rng, balance_groups)], axis=1)
        weight = CSC.from_dense(np.where(keep, w, 0.0), dtype=value_dtype)
        bias_x = (0.1 * rng.standard_normal(3 * H)).astype(value_dtype)
        bias_r = (0.1 * rng.standard_normal(3 * H)).astype(value_dtype)
        threshold = np.clip(rng.beta(2.0, 18.0, size=H) + 0.02, 0.0, 1.0).astype(value_dtype)
        if delta:
            x_theta = (np.full(n_in, DELTA_INPUT_THRESHOLD) if below_threshold is None
                       else below_threshold.astype(np.float64))
            layer = _delta_layer(n_in, H, weight, bias_x, bias_r, threshold, x_theta, xa[l], ha[l],
                                 rate_sigma, persistence, bias_every, T, rng, value_dtype)
            rho = persistence
            achieved_x.append(int(layer.x_events.indptr[-1]) / max(T * n_in, 1))
            achieved_h.append(int(layer.h_events.indptr[-1]) / max(T * H, 1))
        else:
            layer, rho = _egru_layer(n_in, H, weight, bias_x, bias_r, threshold,
                                     None if as_ is None else as_[l], calib, l, L, rate_sigma, persistence,
                                     T, rng, value_dtype)
        out_layers.append(layer)
        achieved_as.append(1.0 - int(layer.events.indptr[-1]) / max(T * H, 1))
        achieved_ws.append(1.0 - weight.nnz / (3 * H * (n_in + H)))
        persist.append(rho)
        below_threshold = threshold
    emb = tok = dec = None
    if embedding or decoder:
        table = (0.1 * rng.standard_normal((vocab_size, sizes[0]))).astype(value_dtype)
        emb = table if embedding else None
        tok = rng.integers(0, vocab_size, size=T, dtype=np.int32) if embedding else None
        if decoder:
            if sizes[-1] != sizes[0]:
                raise InputError(f"--decoder: a tied decoder needs the last hidden size ({sizes[-1]}) "
                                 f"to equal the embedding size ({sizes[0]})")
            dec = CSC.from_dense(table, dtype=value_dtype)  # V x E: column j read when unit j fires
    synthetic = {
        "layers": sizes, "tokens": T, "weight_sparsity": ws,
        "activity_sparsity": as_, "pruning": pruning, "seed": int(seed),
        "vocab_size": int(vocab_size), "rate_sigma": rate_sigma, "persistence": persist,
        "balance_groups": balance_groups,
        "calibrated_from": (calibrate_from.sha256 if calibrate_from is not None else None),
    }
    extra = {}
    if delta:  # the egru source stays exactly as it always was
        synthetic.update(encoding="delta", x_activity=xa, h_activity=ha, bias_every=int(bias_every))
        extra = {"achieved_x_activity": achieved_x, "achieved_h_activity": achieved_h}
    meta = make_meta([(sizes[l], sizes[l + 1]) for l in range(L)], vocab_size, T, {"synthetic": synthetic},
                     achieved_activity_sparsity=achieved_as, achieved_weight_sparsity=achieved_ws, **extra)
    return Trace(meta, tuple(out_layers), emb, tok, dec, None)


def synth_memory_bytes(sizes: list[int], tokens: int, weight_sparsity: list[float],
                       fired: list[tuple[float, float]], vocab_size: int, embedding: bool,
                       decoder: bool, delta: bool, value_bytes: int) -> int:
    """Bytes :func:`synthesize` (and writing its result) needs at its peak, from the sizes alone.

    Per layer, while it is made: the dense 3H x (n_in + H) gate matrix with its pruning masks and
    copies (about 26 bytes per entry, plus 32 per kept weight), or the T x units firing grid (6
    bytes per cell, plus 40 per event); freed before the next layer. Kept: the CSC weights and
    the events (and, to write the file, as much again). ``fired``: per layer the fraction of
    (input, recurrent) columns that fire per step (EGRU: (0, activity))."""
    T = int(tokens)
    kept = 0
    transient = 0
    for l in range(len(sizes) - 1):
        n_in, H = sizes[l], sizes[l + 1]
        cells = 3 * H * (n_in + H)
        nnz = int(cells * (1.0 - weight_sparsity[l])) + 1
        x, h = fired[l]
        if delta:
            events = int(T * (n_in * x + 2 * H * h)) + 1
            grid = T * (n_in + 2 * H)
        else:
            events = int(T * H * h) + 1
            grid = T * H
        kept += nnz * (4 + value_bytes) + (n_in + H + 1) * 8 + 7 * H * value_bytes \
            + events * (8 + value_bytes) + 3 * (T + 1) * 8
        transient = max(transient, cells * 26 + nnz * 32, grid * 6 + events * 40)
    if embedding or decoder:
        ve = vocab_size * sizes[0]
        kept += ve * value_bytes + T * 4
        transient = max(transient, ve * 10)
        if decoder:
            kept += ve * (4 + value_bytes)
            transient = max(transient, ve * 34)
    return 2 * kept + transient


def _egru_layer(n_in, H, weight, bias_x, bias_r, threshold, act_sparsity, calib, l, L, rate_sigma,
                persistence, T, rng, value_dtype) -> tuple[LayerTrace, float]:
    """An EGRU layer: events with per-unit rates and persistence, values above the threshold."""
    if calib is not None:
        c = calib[round(l * (len(calib) - 1) / max(L - 1, 1))]  # by relative depth
        rates = _resample(c.rates, H, rng) if len(c.rates) != H else rng.permutation(c.rates)
        if act_sparsity is not None:
            rates = np.clip(rates * (1 - act_sparsity) / max(rates.mean(), 1e-12), 0, 0.95)
        rho, pool = c.persistence, c.value_excess
    else:
        rates = lognormal_rates(H, 1.0 - act_sparsity, rng, sigma=rate_sigma)
        rho, pool = persistence, None
    fired = _spikes(rates, rho, T, rng)
    n_ev = int(fired.sum())
    if pool is not None and pool.size:
        excess = rng.choice(pool, size=n_ev)
    else:
        excess = rng.exponential(0.15, size=n_ev)
    t_idx, unit = np.nonzero(fired)
    vals = threshold.astype(np.float64)[unit] + np.abs(excess)
    indptr = np.zeros(T + 1, dtype=np.int64)
    np.cumsum(fired.sum(axis=1), out=indptr[1:])
    events = Events(indptr, unit.astype(np.int32), vals.astype(value_dtype))
    return LayerTrace(n_in, H, weight, bias_x, bias_r, threshold, events), rho


def _delta_columns(fired: np.ndarray, theta: np.ndarray, rng: np.random.Generator, value_dtype) -> Events:
    """Events (int64 indices) of a T x N fired mask; values are signed deltas of magnitude >= theta."""
    t_idx, col = np.nonzero(fired)
    magnitude = theta[col] + rng.exponential(0.15, size=col.size)
    sign = np.where(rng.random(col.size) < 0.5, -1.0, 1.0)
    indptr = np.zeros(fired.shape[0] + 1, dtype=np.int64)
    np.cumsum(fired.sum(axis=1), out=indptr[1:])
    return Events(indptr, col.astype(np.int64), (sign * magnitude).astype(value_dtype))


def _delta_layer(n_in, H, weight, bias_x, bias_r, threshold, x_theta, x_act, h_act, rate_sigma, persistence,
                 bias_every, T, rng, value_dtype) -> LayerTrace:
    """A delta-network layer: input and recurrent columns fire apart (version-2 keys)."""
    x_fired = _spikes(lognormal_rates(n_in, x_act, rng, sigma=rate_sigma), persistence, T, rng)
    h_fired = np.zeros((T, H), dtype=bool)  # step 0 reads no recurrent column: the state before it is 0
    h_fired[1:] = _spikes(lognormal_rates(H, h_act, rng, sigma=rate_sigma), persistence, max(T - 1, 0), rng)
    x_events = _delta_columns(x_fired, x_theta, rng, value_dtype)
    h_events = _delta_columns(h_fired, threshold.astype(np.float64), rng, value_dtype)
    bias_fires = np.zeros(T, dtype=np.uint8)
    if bias_every:
        bias_fires[::bias_every] = 1
    else:
        bias_fires[:1] = 1
    return LayerTrace(n_in, H, weight, bias_x, bias_r, threshold, next_step_events(h_events, T),
                      x_events, h_events, bias_fires)
