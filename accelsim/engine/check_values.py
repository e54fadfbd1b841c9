"""Functional check: push real weight and event values through the modelled sparse datapath.

For every phase the dispatcher's column list is the timing model's own (the list each phase was
costed with, activity skipping on or off), each fetched column is encoded by the configured weight format
bank by bank (as it would sit in SRAM, with the zeros the format stores: csc_relative's padding
entries, nm's fill) and decoded again, and each PE accumulates the products
for the rows it owns; input and recurrent sums stay apart (Wx[g] and Rh[g] are never mixed). The
result is compared with a dense NumPy computation of ``W x_t + b_x`` and ``R y_{t-1} + b_r``.

What the trace makes checkable: layer 0's input is the embedding of the token, known only for
traces that carry ``input.tokens`` and ``input.embedding`` (synthetic ones). PTB traces carry no
token ids, so layer 0's input projection is skipped there and the report says so.
"""

from __future__ import annotations

import numpy as np

from accelsim.config.schema import ArchConfig
from accelsim.errors import InputError
from accelsim.trace.format import CSC, Trace
from accelsim.units.weight_sram import row_owners


def relative_encode(col, local, values, index_bits: int):
    """csc_relative, as stored: per fetched column (slot) the bank's entries in row order, each a
    value and the run of zero rows skipped before it, in ``index_bits`` bits; a run that does not
    fit is split by padding entries (value 0, run ``2^index_bits - 1``). Returns (slot, value,
    run) per stored entry, paddings included."""
    if col.size == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
    order = np.lexsort((local, col))
    c, l, v = col[order], local[order], values[order].astype(np.float64)
    first = np.concatenate(([True], c[1:] != c[:-1]))
    prev = np.concatenate(([-1], l[:-1]))
    prev[first] = -1
    span = 1 << min(int(index_bits), 62)
    z = l - prev - 1                               # zero rows before each nonzero
    pads = z // span
    reps = pads + 1                                # its padding entries, then itself
    k = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
    e = np.repeat(np.arange(c.size), reps)
    real = k == pads[e]
    run = np.where(real, z[e] - pads[e] * span, span - 1) & (span - 1)
    return c[e], np.where(real, v[e], 0.0), run


def relative_decode(slot, value, run, bank_rows):
    """Read csc_relative entries back: an entry sits ``run + 1`` bank positions after the previous
    entry of its column (the first: ``run`` positions after the bank's first row)."""
    if slot.size == 0:
        return slot, np.zeros(0, np.int64), value
    step = run + 1
    csum = np.cumsum(step)
    starts = np.concatenate(([True], slot[1:] != slot[:-1]))
    head = np.maximum.accumulate(np.where(starts, np.arange(slot.size), 0))
    before = np.where(head > 0, csum[np.maximum(head - 1, 0)], 0)
    return slot, bank_rows[csum - before - 1], value


def _nm(col, rows, values, bank_rows, n_cols: int, n: int, m: int):
    """nm: per fetched column and group of ``m`` rows held by the bank, exactly ``min(n, rows in
    the group)`` (position, value) pairs, the nonzeros and zeros to fill (at the group's first
    free positions); positions in log2(m) bits. Decoding: row = group x m + position."""
    groups, size = np.unique(bank_rows // m, return_counts=True)
    keep = np.minimum(n, size)
    gi = np.searchsorted(groups, rows // m)
    pos = rows % m
    count = np.zeros((n_cols, groups.size), np.int64)
    np.add.at(count, (col, gi), 1)
    if (count > keep).any():
        j, g = (int(x[0]) for x in np.nonzero(count > keep))
        raise InputError(f"weight column {j} is not {n}:{m} structured: group {int(groups[g])} holds "
                         f"{int(count[j, g])} nonzeros, at most {n} fit")
    occupied = np.zeros((n_cols, groups.size, m), bool)
    occupied[col, gi, pos] = True
    stored_value = np.zeros((n_cols, groups.size, m))
    stored_value[col, gi, pos] = values
    free = ~occupied & (np.arange(m) < size[:, None])[None]
    fill = free & (np.cumsum(free, axis=2) <= (keep[None, :] - count)[..., None])
    c, g, p = np.nonzero(occupied | fill)          # the stored pairs, group by group
    p = p & (m - 1)                                # a position in log2(m) bits
    return c, groups[g] * m + p, stored_value[c, g, p]


def _encode_decode(config: ArchConfig, col: np.ndarray, rows: np.ndarray, values: np.ndarray,
                   bank_rows: np.ndarray, n_cols: int):
    """Store the fetched columns' nonzeros that live in one bank as the configured format stores
    them (the zeros it stores included), and read them back: (column slot, row, value) of every
    product the PEs will compute."""
    fmt = config.weight_format
    local = np.searchsorted(bank_rows, rows)          # the row's position inside the bank
    if fmt == "dense":                                # every row stored, zeros included
        stored = np.zeros((n_cols, len(bank_rows)))
        stored[col, local] = values
        c, l = np.nonzero(np.ones_like(stored, dtype=bool))
        return c, bank_rows[l], stored[c, l]
    if fmt == "csc":                                  # (row index, value) pairs
        return col, bank_rows[local], values.astype(np.float64)
    if fmt == "csc_relative":                         # (run of zero rows, value), paddings
        return relative_decode(*relative_encode(col, local, values, config.precision.index_bits),
                               bank_rows)
    if fmt == "nm":                                   # N (position, value) pairs per group
        return _nm(col, rows, values, bank_rows, n_cols, config.nm_n, config.nm_m)
    bitmap = np.zeros((n_cols, len(bank_rows)), dtype=bool)   # bitmap + packed values
    bitmap[col, local] = True
    c, l = np.nonzero(bitmap)                         # row order within each column
    order = np.lexsort((local, col))                  # the packed values are in that order
    return c, bank_rows[l], values[order].astype(np.float64)


def datapath_matvec(config: ArchConfig, weight: CSC, cols: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Accumulate ``sum_j W[:, j] x_j`` over the fetched columns the way the hardware does: each
    bank's stored entries decoded by the format, each product added by the PE owning its row
    (nm: the PE owning its group)."""
    n_rows = weight.shape[0]
    P, B = config.pe.count, config.weight_sram.banks
    bank_of_row = row_owners(config, n_rows, B)
    pe_of_row = row_owners(config, n_rows, P)
    cols = np.asarray(cols, dtype=np.int64)
    x = np.asarray(x, dtype=np.float64)
    counts = weight.indptr[cols + 1] - weight.indptr[cols]
    slot = np.repeat(np.arange(len(cols)), counts)    # which fetched column an entry belongs to
    idx = np.concatenate([np.arange(weight.indptr[j], weight.indptr[j + 1]) for j in cols]) \
        if len(cols) else np.zeros(0, dtype=np.int64)
    rows = weight.indices[idx].astype(np.int64)
    vals = weight.values[idx].astype(np.float64)
    acc = np.zeros((P, n_rows), dtype=np.float64)     # each PE's accumulators (its rows only)
    for b in range(B):
        sel = bank_of_row[rows] == b
        bank_rows = np.flatnonzero(bank_of_row == b)
        c, r, v = _encode_decode(config, slot[sel], rows[sel], vals[sel],
                                 bank_rows, len(cols))
        np.add.at(acc, (pe_of_row[r], r), v * x[c])
    return acc.sum(axis=0)


def _dense_vector(events, t: int, size: int) -> np.ndarray | None:
    """The values of step ``t`` of an event list as a dense vector (None: values not stored)."""
    if events.values is None:
        return None
    lo, hi = int(events.indptr[t]), int(events.indptr[t + 1])
    v = np.zeros(size)
    v[np.asarray(events.indices[lo:hi], dtype=np.int64)] = events.values[lo:hi]
    return v


def _layer_inputs(trace: Trace, i: int, t: int):
    """(x_t, y_prev) of layer ``i`` at step ``t`` from the trace's values; None where the trace
    does not carry them (PTB traces: no token ids for the embedding; v2 columns without values)."""
    layer = trace.layers[i]
    n_in, H = layer.input_size, layer.hidden_size
    if layer.x_events is not None:
        x = _dense_vector(layer.x_events, t, n_in)
    elif i == 0:
        have_tokens = trace.token_ids is not None and trace.embedding is not None
        x = trace.embedding[trace.token_ids[t]].astype(np.float64) if have_tokens else None
    else:
        x = _dense_vector(trace.layers[i - 1].events, t, n_in)
    if layer.h_events is not None:
        y_prev = _dense_vector(layer.h_events, t, H)
    else:
        y_prev = np.zeros(H) if t == 0 else _dense_vector(layer.events, t - 1, H)
    return x, y_prev


def check_values(config: ArchConfig, trace: Trace, steps: int = 16, rtol: float = 1e-4) -> list[str]:
    """Compare datapath and dense pre-activations on the first ``steps`` steps. Returns report
    lines; a mismatch is a line starting with ``FAIL``.

    The fetched columns are the timing model's own: the column list every phase of
    :func:`accelsim.engine.prepare.prepare` was costed with, so a column the timing model
    forgets (or fetches instead of another) makes the sums differ from the dense ones. (With
    ``skip_weights`` off the PEs also multiply the zero weights: the same sums, counted as MACs
    by the timing model.)"""
    from accelsim.engine.prepare import prepare

    T = min(steps, trace.steps)
    head = trace.head(T) if T != trace.steps else trace
    work = prepare(config, head)
    lines = []
    for i, layer in enumerate(head.layers):
        n_in, H = layer.input_size, layer.hidden_size
        dense = layer.weight.to_dense().astype(np.float64)
        W, R = dense[:, :n_in], dense[:, n_in:]
        worst = {"Wx": 0.0, "Rh": 0.0}
        checkable = {"Wx": True, "Rh": True}
        for t in range(T):
            fetched = np.concatenate([p.columns(t) for p in work[i].phases])
            xcols = fetched[fetched < n_in]
            rcols = fetched[(fetched >= n_in) & (fetched < n_in + H)] - n_in
            x, y_prev = _layer_inputs(head, i, t)
            if y_prev is None:
                checkable["Rh"] = False
            else:
                rh_hw = datapath_matvec(config, layer.weight, n_in + rcols, y_prev[rcols]) + layer.bias_r
                worst["Rh"] = max(worst["Rh"], _rel_err(rh_hw, R @ y_prev + layer.bias_r))
            if x is None:
                checkable["Wx"] = False
            else:
                wx_hw = datapath_matvec(config, layer.weight, xcols, x[xcols]) + layer.bias_x
                worst["Wx"] = max(worst["Wx"], _rel_err(wx_hw, W @ x + layer.bias_x))
        for k, v in worst.items():
            if not checkable[k]:
                why = ("the trace carries no token ids for the embedding input" if k == "Wx"
                       and i == 0 and layer.x_events is None else "the trace carries no values for these columns")
                lines.append(f"layer{i} {k}: not checkable ({why})")
                continue
            ok = v <= rtol
            lines.append(f"{'ok  ' if ok else 'FAIL'} layer{i} {k} (z, r, g rows) over {T} steps: "
                         f"max relative error {v:.2e} (tolerance {rtol:g})")
    if config.include_decoder and head.decoder_weight is not None:
        last = head.layers[-1].events
        dec = head.decoder_weight
        dd = dec.to_dense().astype(np.float64)
        worst = 0.0
        for t in range(T):
            y = _dense_vector(last, t, dec.shape[1])
            cols = work[-1].phases[0].columns(t)
            worst = max(worst, _rel_err(datapath_matvec(config, dec, cols, y[cols]), dd @ y))
        ok = worst <= rtol
        lines.append(f"{'ok  ' if ok else 'FAIL'} decoder logits over {T} steps: max relative error "
                     f"{worst:.2e} (tolerance {rtol:g})")
    return lines


def _rel_err(a: np.ndarray, b: np.ndarray) -> float:
    scale = max(1.0, float(np.abs(b).max(initial=0.0)))
    return float(np.abs(a - b).max(initial=0.0)) / scale
