"""The whole result document (docs/results.md) and its energy, re-derived for the reference check.

Every key `accelsim run` writes is built here from the cycle-stepped reference model's own
figures (``Reference(cfg, trace).run()``), from the trace and config directly (plain loops over
the dense matrices and event lists) and from the energy table's per-action prices, priced by
the rules of docs/results.md and the table's field meanings (accelsim/config/energy.py). Nothing
here calls ``accelsim.result`` or ``accelsim.energy``: a figure the engine gets wrong there (a
sum that forgets a term, a wrong percentile, leakage per token) differs from this one.

``assert_result_agrees`` compares the engine's ``simulate`` document with it key by key: the
same keys (no more, no fewer), ints exactly and as ints, floats to a relative 1e-9 and as floats.
The keys that only echo the inputs (``config``, ``config_source``, ``energy_table``, ``trace``)
are checked for presence and identity only.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

from accelsim.config import config_from_dict, load_energy_table
from accelsim.config.energy import EnergyTable
from accelsim.engine.simulate import simulate
from tests.reference.model import Reference, ref_column

REPO = Path(__file__).resolve().parents[2]
TABLE_45NM = load_energy_table(REPO / "configs" / "energy" / "45nm.yaml")

# A second table with a distinct price for every action (none equal to another, none 1.0), widths
# the configs never use exactly (so every look-up scales) and SRAM points the bank sizes fall
# between or beyond: a price used for the wrong action, or a scaling rule applied to the wrong
# width, changes some figure.
TABLE_ALT = EnergyTable(
    name="alt-test",
    source="test table: arbitrary distinct prices",
    arithmetic={"int4": {"add_pj": 0.0173, "mult_pj": 0.0911},
                "int16": {"add_pj": 0.0577, "mult_pj": 0.613},
                "int64": {"add_pj": 0.251, "mult_pj": 9.71},
                "fp8": {"add_pj": 0.137, "mult_pj": 0.419},
                "fp32": {"add_pj": 0.883, "mult_pj": 3.37}},
    sram_read=[{"size_bytes": 3000, "read_64b_pj": 4.3},
               {"size_bytes": 300_000, "read_64b_pj": 27.1},
               {"size_bytes": 700_000, "read_64b_pj": 61.7}],
    register_access_64b_pj=0.731,
    dram_read_64b_pj=1733.0,
    nonlinearity_pj=1.39,
    compare_pj=0.0419,
    leakage_pj_per_cycle=3.07,
    area={"source": "test table: arbitrary distinct areas",
          "arithmetic": {"int4": {"add_um2": 11.3, "mult_um2": 71.9},
                         "int16": {"add_um2": 57.7, "mult_um2": 613.0},
                         "int64": {"add_um2": 251.0, "mult_um2": 9710.0},
                         "fp8": {"add_um2": 313.0, "mult_um2": 419.0},
                         "fp32": {"add_um2": 3883.0, "mult_um2": 6737.0}},
          "sram_cell_um2": 0.293,
          "sram_array_efficiency": [{"size_bytes": 5, "efficiency": 0.17},
                                    {"size_bytes": 300, "efficiency": 0.41},
                                    {"size_bytes": 700_000, "efficiency": 0.77}],
          "register_bit_um2": 3.71, "nonlinearity_um2": 2111.0, "compare_um2": 29.3,
          "dram_interface_mm2": 1.37, "leakage_mw_per_mm2": {"sram": 1.93, "logic": 23.9}},
)

STALL_KEYS = ("dependency", "dram_contention", "queue_full", "cluster_wait", "fifo_full",
              "dram_data")
LOST_KEYS = ("bank_conflict", "load_imbalance")
COMPONENTS = ("mac", "accumulator", "sram_weights", "sram_metadata", "dram", "update",
              "event_queue")          # per layer; the run adds "leakage"
ECHO_KEYS = ("config", "config_source", "energy_table", "trace")
BASELINE_KEYS = ("cycles", "macs", "latency_cycles", "sram_read_bits", "dram_read_bytes",
                 "energy_pj", "stalls_cycles",
                 "lost_work_cycles", "area_mm2")
AREA_KEYS = ("weight_sram", "pointer_table", "event_queue", "mac", "accumulator", "pe_fifo",
             "update", "dram_interface")
SRAM_AREA_KEYS = ("weight_sram", "pointer_table", "event_queue")   # leak at the SRAM density

# update unit work per unit and step (docs/architecture.md, docs/results.md)
UPDATE_NONLIN, UPDATE_MULTS, UPDATE_ADDS, UPDATE_COMPARES = 3, 3, 12, 1


from tests.reference.model import _cdiv, _owner  # noqa: E402  (the reference's own helpers)


# ------------------------------------------------------------------------------------ pricing
def _widths(arithmetic, fmt, where):
    """{width: entry} of the ``fmt`` entries (keys like int8, int32) of an arithmetic section."""
    out = {}
    for key, e in arithmetic.items():
        rest = key[len(fmt):]
        if key.startswith(fmt) and rest.isdigit():
            out[int(rest)] = e
    assert out, f"no {fmt} arithmetic in {where}"
    return out


def _add(widths, field, bits):
    """One add at ``bits``: the nearest width's ``field``, scaled linearly in the width."""
    n = _nearest(widths, lambda n: n, bits)
    return getattr(widths[n], field) * bits / n


def _mult(widths, field, a, b):
    """One a x b multiply: the nearest square width's ``field``, scaled with the product a x b."""
    n = _nearest(widths, lambda n: n * n, a * b)
    return getattr(widths[n], field) * (a * b) / (n * n)


def _nearest(widths, size_of, target):
    """The width whose size (``size_of(n)``) is nearest ``target`` by ratio, exactly; a tie goes
    to the narrower width."""
    best = None
    for n in sorted(widths):
        s = size_of(n)
        ratio = Fraction(max(s, target), min(s, target))
        if best is None or ratio < best[0]:
            best = (ratio, n)
    return best[1]


def add_pj(table, fmt, bits):
    return _add(_widths(table.arithmetic, fmt, table.name), "add_pj", bits)


def mult_pj(table, fmt, a, b):
    return _mult(_widths(table.arithmetic, fmt, table.name), "mult_pj", a, b)


def _between(pts, size):
    """((xa, ya), (xb, yb), f) of the sorted (size, value) points around ``size``, f its place
    between them in log(size); clamped beyond the ends (the end point twice, f = 0)."""
    pts = sorted(pts)
    if size <= pts[0][0]:
        return pts[0], pts[0], 0.0
    if size >= pts[-1][0]:
        return pts[-1], pts[-1], 0.0
    for (xa, ya), (xb, yb) in zip(pts, pts[1:]):
        if xa <= size <= xb:
            return (xa, ya), (xb, yb), math.log(size / xa) / math.log(xb / xa)
    raise AssertionError("unreachable")


def sram_64b_pj(table, size):
    """64-bit read of an SRAM of ``size`` bytes: log-log between the table's points, clamped."""
    (_, ya), (_, yb), f = _between([(p.size_bytes, p.read_64b_pj) for p in table.sram_read], size)
    return ya * (yb / ya) ** f


# ------------------------------------------------------------------------------------ area
def add_um2(table, fmt, bits):
    """One adder of ``bits`` (as the energy rule)."""
    return _add(_widths(table.area.arithmetic, fmt, table.name), "add_um2", bits)


def mult_um2(table, fmt, a, b):
    return _mult(_widths(table.area.arithmetic, fmt, table.name), "mult_um2", a, b)


def sram_efficiency(table, size):
    """Cell area / array area of an array of ``size`` bytes: linear in log(size) between the
    table's points, clamped at its ends."""
    (_, ya), (_, yb), f = _between([(p.size_bytes, p.efficiency)
                                    for p in table.area.sram_array_efficiency], size)
    return ya + (yb - ya) * f


def sram_array_um2(table, bits, bank_bytes=None):
    """``bits`` of SRAM in banks of ``bank_bytes`` (default: one array of all of them)."""
    if bits == 0:
        return 0.0
    eff = sram_efficiency(table, bits / 8 if bank_bytes is None else bank_bytes)
    return bits * table.area.sram_cell_um2 / eff


def ref_area(cfg, trace, table):
    """The chip's area in mm^2 (docs/architecture.md, Area): ``total`` and every component; None
    for a table without an area section."""
    if table.area is None:
        return None
    from tests.reference.model import REF_POINTER_BITS
    p = cfg.precision
    fmt = p.number_format
    layers = trace.layers
    # clusters: (rows, stored columns, partial sums per row, hidden units)
    clusters = [(3 * l.hidden_size, l.input_size + l.hidden_size + int(cfg.bias_column), 2,
                 l.hidden_size) for l in layers]
    if cfg.include_decoder:
        V, H_last = trace.decoder_weight.shape
        clusters.append((V, H_last, 1, 0))
    n_arrays = len(clusters) if cfg.mapping == "spatial" else 1   # PE arrays, weight SRAMs
    a = table.area
    um2 = {k: 0.0 for k in AREA_KEYS}
    if cfg.weight_storage == "sram":
        bank = cfg.weight_sram.capacity_bytes / cfg.weight_sram.banks
        um2["weight_sram"] = n_arrays * sram_array_um2(table, 8 * cfg.weight_sram.capacity_bytes, bank)
    ptr = [c[1] * REF_POINTER_BITS[cfg.weight_format] * p.index_bits for c in clusters]
    if cfg.mapping == "temporal":
        ptr = [sum(ptr)]                      # one cluster, one pointer table
    for bits in ptr:
        um2["pointer_table"] += sram_array_um2(table, bits)
    eb = cfg.event_queue.event_bits
    for i, c in enumerate(clusters):
        if i > 0:                             # the queue into layer i (or the decoder)
            um2["event_queue"] += sram_array_um2(table, cfg.event_queue.depth * eb)
        if c[3]:                              # a layer's recurrent queue: one step's events
            um2["event_queue"] += sram_array_um2(table, c[3] * eb)
    one_mac = mult_um2(table, fmt, p.weight_bits, p.value_bits) + add_um2(table, fmt, p.accumulator_bits)
    um2["mac"] = n_arrays * cfg.pe.count * cfg.pe.mac_lanes * one_mac
    acc_bits = [rows * sums * 2 * p.accumulator_bits for rows, _, sums, _ in clusters]
    um2["accumulator"] = a.register_bit_um2 * (sum(acc_bits) if cfg.mapping == "spatial" else max(acc_bits))
    um2["pe_fifo"] = a.register_bit_um2 * n_arrays * cfg.pe.count * cfg.pe.fifo_depth * eb
    acc = p.accumulator_bits
    if cfg.update_unit.nonlinearity == "lut":
        nl = a.nonlinearity_um2
    else:
        nl = a.compare_um2 + mult_um2(table, fmt, acc, acc) + add_um2(table, fmt, acc)
    lane = (UPDATE_NONLIN * nl + UPDATE_MULTS * mult_um2(table, fmt, acc, acc)
            + UPDATE_ADDS * add_um2(table, fmt, acc) + UPDATE_COMPARES * a.compare_um2)
    update_units = len(layers) if cfg.mapping == "spatial" else 1
    state_bits = sum(l.hidden_size for l in layers) * acc
    um2["update"] = update_units * cfg.update_unit.lanes * lane + state_bits * a.register_bit_um2
    out = {k: v / 1e6 for k, v in um2.items()}
    out["dram_interface"] = a.dram_interface_mm2 if cfg.weight_storage == "dram" else 0.0
    return {"total": math.fsum(out.values()), **out}


def ref_leakage_pj(cfg, table, area, cycles):
    """``energy.leakage``: flat (the table's pJ per cycle) or area (mW per mm^2 of SRAM and of
    logic x the run's seconds)."""
    if cfg.energy.leakage == "flat":
        return cycles * table.leakage_pj_per_cycle
    d = table.area.leakage_mw_per_mm2
    mw = math.fsum(area[k] * (d.sram if k in SRAM_AREA_KEYS else d.logic) for k in AREA_KEYS)
    seconds = cycles / (cfg.clock_mhz * 1e6)
    return mw * 1e-3 * seconds * 1e12


def ref_price(counts, cfg, table, cycles=None, area=None):
    """pJ per component from action counts (docs/results.md ``energy_pj``); leakage only with
    ``cycles`` (``area``: the chip's, for ``energy.leakage: area``); ``total`` = their sum."""
    p = cfg.precision
    fmt = p.number_format
    per_bit_reg = table.register_access_64b_pj / 64      # a small register file / FIFO, per bit
    bank = sram_64b_pj(table, cfg.weight_sram.capacity_bytes / cfg.weight_sram.banks)
    e = {
        "mac": counts["macs"] * (mult_pj(table, fmt, p.weight_bits, p.value_bits)
                                 + add_pj(table, fmt, p.accumulator_bits)),
        "accumulator": counts["macs"] * (p.accumulator_bits * per_bit_reg      # read
                                         + p.accumulator_bits * per_bit_reg),  # write
        "sram_weights": counts["sram_weights"] / 64 * bank,
        "sram_metadata": counts["sram_metadata"] / 64 * bank,
        "dram": counts["dram_read_bytes"] * 8 / 64 * table.dram_read_64b_pj,
        "update": counts["unit_updates"] * (
            UPDATE_NONLIN * (table.nonlinearity_pj if cfg.update_unit.nonlinearity == "lut" else
                             # piecewise-linear: pick the segment (a compare), then slope x + offset
                             table.compare_pj
                             + mult_pj(table, fmt, p.accumulator_bits, p.accumulator_bits)
                             + add_pj(table, fmt, p.accumulator_bits))
            + UPDATE_MULTS * mult_pj(table, fmt, p.accumulator_bits, p.accumulator_bits)
            + UPDATE_ADDS * add_pj(table, fmt, p.accumulator_bits)
            + UPDATE_COMPARES * table.compare_pj),
        "event_queue": counts["queue_events"] * 2 * cfg.event_queue.event_bits * per_bit_reg,
    }
    if cycles is not None:
        e["leakage"] = ref_leakage_pj(cfg, table, area, cycles)
    e["total"] = math.fsum(e.values())
    return e


# ----------------------------------------------------------------------------- trace figures
def _dense(csc):
    return csc.to_dense()


def _bias_rows(layer):
    return [r for r in range(3 * layer.hidden_size)
            if layer.bias_x[r] != 0 or layer.bias_r[r] != 0]


def stored_bytes(cfg, dense, extra_col_rows=None):
    """On-chip footprint of a weight matrix (plus, with ``extra_col_rows``, the bias column with
    an entry in those rows) in the configured format: every column's words in every bank x width
    plus its pointer(s), in whole bytes (docs/architecture.md, the format table)."""
    n_rows, n_cols = dense.shape
    B, width = cfg.weight_sram.banks, cfg.weight_sram.bank_width_bits
    wb, ib = cfg.precision.weight_bits, cfg.precision.index_bits
    fmt = cfg.weight_format
    rows_b = [0] * B
    for r in range(n_rows):
        rows_b[_owner(cfg.layout, r, n_rows, B)] += 1
    columns = [[r for r in range(n_rows) if dense[r, j] != 0] for j in range(n_cols)]
    if extra_col_rows is not None:
        columns.append(list(extra_col_rows))
    words = 0
    for nz_rows in columns:
        if fmt in ("csc_relative", "nm"):      # padding entries / fixed-size groups
            nz = set(nz_rows)
            val, meta, _, _ = ref_column(cfg, [1 if r in nz else 0 for r in range(n_rows)])
            words += sum(val) + sum(meta)
            continue
        nz_b = [0] * B
        for r in nz_rows:
            nz_b[_owner(cfg.layout, r, n_rows, B)] += 1
        for b in range(B):
            if fmt == "dense":
                words += _cdiv(rows_b[b], width // wb)
            elif fmt == "csc":
                words += _cdiv(nz_b[b], width // wb) + _cdiv(nz_b[b], width // ib)
            else:
                words += _cdiv(nz_b[b], width // wb) + _cdiv(rows_b[b], width)
    ptr = {"dense": 0, "csc": 2 * ib, "bitmap": ib, "csc_relative": 2 * ib, "nm": 0}[fmt]
    return _cdiv(words * width + len(columns) * ptr, 8)


def _plain(x):
    """numpy scalars (the reference model's tallies) as Python ints / floats, recursively."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "dtype"):
        return x.item()
    return x


def _events_in(ev, T):
    n = 0
    for t in range(T):
        n += int(ev.indptr[t + 1] - ev.indptr[t])
    return n


def _percentile(xs, q):
    """Linear interpolation between the closest ranks (rank q/100 x (n-1))."""
    s = sorted(xs)
    pos = Fraction(q, 100) * (len(s) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return float(s[lo] + (s[hi] - s[lo]) * (pos - lo))


def _summary(xs):
    return {"mean": math.fsum(xs) / len(xs), "p50": _percentile(xs, 50),
            "p99": _percentile(xs, 99)}


def _ideal_reduction(trace, T):
    """From the trace: weight nonzeros / entries over all layers (the decoder is no layer),
    events / (T x hidden units) over the simulated tokens."""
    nnz = entries = events = units = 0
    for l in trace.layers:
        d = _dense(l.weight)
        for r in range(d.shape[0]):
            for c in range(d.shape[1]):
                entries += 1
                nnz += d[r, c] != 0
        events += _events_in(l.events, T)
        units += l.hidden_size
    if nnz == 0 or events == 0:
        return None
    # 1 / ((1 - s_w)(1 - s_a)) = 1 / (nnz / entries x events / (T x units))
    return float(Fraction(entries * T * units, int(nnz) * events))


# ------------------------------------------------------------------------------ the document
def reference_result(cfg, trace, table, ref=None, tokens=None):
    """The result document of ``cfg`` on the first ``tokens`` tokens of ``trace`` (all by
    default) priced with ``table``, without the echo keys and the baseline. ``ref``: a
    ``Reference(cfg, trace, tokens).run()`` to reuse."""
    T = trace.steps if tokens is None else tokens
    if ref is None:
        ref = Reference(cfg, trace, T).run()
    names = [f"layer{i}" for i in range(len(trace.layers))]
    hidden = [l.hidden_size for l in trace.layers]
    dense = [_dense(l.weight) for l in trace.layers]
    macs_dense = [T * (l.input_size + l.hidden_size) * 3 * l.hidden_size for l in trace.layers]
    stored = [stored_bytes(cfg, d, _bias_rows(l) if cfg.bias_column else None)
              for d, l in zip(dense, trace.layers)]
    events = [_events_in(l.events, T) for l in trace.layers]
    if cfg.include_decoder:
        dec = _dense(trace.decoder_weight)
        V, H_last = dec.shape
        names.append("decoder")
        hidden.append(0)                       # no update unit
        macs_dense.append(T * H_last * V)
        stored.append(stored_bytes(cfg, dec))
        events.append(0)
    assert [r["name"] for r in ref["per_layer"]] == names
    ref_pe = _plain(ref["pe_macs"])
    event_bits = cfg.event_queue.event_bits

    per_layer = []
    tot = dict(macs=0, sram_weights=0, sram_metadata=0, dram_read_bytes=0, unit_updates=0,
               queue_events=0)
    stalls_tot = dict.fromkeys(STALL_KEYS, 0)
    lost_tot = dict.fromkeys(LOST_KEYS, 0)
    busy_tot = {"pe_array": 0, "update_unit": 0, "dram": 0}
    for i, r in enumerate(ref["per_layer"]):
        r = _plain(r)
        counts = dict(macs=r["macs"], sram_weights=r["sram_weights"],
                      sram_metadata=r["sram_metadata"], dram_read_bytes=r["dram_read_bytes"],
                      unit_updates=T * hidden[i], queue_events=r["queue_events"])
        for k in tot:
            tot[k] += counts[k]
        for k in STALL_KEYS:
            stalls_tot[k] += r["stalls"][k]
        for k in LOST_KEYS:
            lost_tot[k] += r["stalls"][k]
        for k in busy_tot:
            busy_tot[k] += r["busy"][k]
        pe = _plain(ref["pe_macs"][i])
        per_layer.append({
            "name": names[i],
            "events": events[i],
            "column_events": r["column_events"],
            "macs": r["macs"],
            "macs_dense": macs_dense[i],
            "sram_read_bits": {"weights": r["sram_weights"], "metadata": r["sram_metadata"]},
            "dram_read_bytes": r["dram_read_bytes"],
            "sram_words_per_bank": list(r["bank_words"]),
            "weight_bytes_stored": stored[i],
            "stalls_cycles": {k: r["stalls"][k] for k in STALL_KEYS},
            "lost_work_cycles": {k: r["stalls"][k] for k in LOST_KEYS},
            "busy_cycles": dict(r["busy"]),
            "pe_work": {"mean": sum(pe) / len(pe), "max": max(pe)},
            "queue_peak": dict(r["queue_peak"]),
            "queue_events": r["queue_events"],
            "queue_bits": r["queue_events"] * event_bits,
            "energy_pj": ref_price(counts, cfg, table),
        })

    # pe_work: spatial, every PE of every cluster; temporal, the one shared array whose PE p did
    # the work of PE p of every layer
    if cfg.mapping == "spatial":
        pes = [m for pe in ref_pe for m in pe]
    else:
        pes = [0] * cfg.pe.count
        for pe in ref_pe:
            for p, m in enumerate(pe):
                pes[p] += m
    cycles = int(ref["cycles"])
    lat = [int(x) for x in ref["latency"]]
    assert len(lat) == T
    area = ref_area(cfg, trace, table)
    energy = ref_price(tot, cfg, table, cycles=cycles, area=area)
    clock = cfg.clock_mhz
    lat_sum = _summary(lat)
    return {
        "cycles": cycles,
        "tokens": T,
        "latency_cycles": lat_sum,
        "latency_us": {k: v / clock for k, v in lat_sum.items()},
        "tokens_per_s": T * clock * 1e6 / cycles if cycles else math.inf,
        "macs": tot["macs"],
        "macs_dense": sum(macs_dense),
        "sram_read_bits": {"weights": tot["sram_weights"], "metadata": tot["sram_metadata"]},
        "dram_read_bytes": tot["dram_read_bytes"],
        "events": {names[i]: events[i] for i in range(len(trace.layers))},
        "stalls_cycles": stalls_tot,
        "lost_work_cycles": lost_tot,
        "busy_cycles": busy_tot,
        "pe_work": {"mean": sum(pes) / len(pes), "max": max(pes)},
        "queue_peak": max(max(r["queue_peak"]["input"], r["queue_peak"]["recurrent"])
                          for r in per_layer),
        "queue_bits": tot["queue_events"] * event_bits,
        "energy_pj": energy,
        "energy_pj_per_token": energy["total"] / T,
        "ideal_reduction": _ideal_reduction(trace, T),
        "area_mm2": area,
        "per_layer": per_layer,
    }


def no_skip_config(cfg):
    """The same hardware with both skips off (``--baseline-kind no-skip``)."""
    return cfg.model_copy(update={"skip_activity": False, "skip_weights": False})


def dense_config(cfg, trace):
    """The dense design (``--baseline``, kind dense): dense format, both skips off, the rest of
    the hardware as ``cfg``; weights in SRAM when every cluster's dense weights (spatial: each
    layer and the decoder; temporal: all of them together) fit ``capacity_bytes``, else DRAM."""
    d = cfg.model_copy(update={"weight_format": "dense", "skip_activity": False,
                               "skip_weights": False, "weight_storage": "sram"})
    need = [stored_bytes(d, _dense(l.weight), _bias_rows(l) if cfg.bias_column else None)
            for l in trace.layers]
    if cfg.include_decoder:
        need.append(stored_bytes(d, _dense(trace.decoder_weight)))
    cap = cfg.weight_sram.capacity_bytes
    fits = sum(need) <= cap if cfg.mapping == "temporal" else max(need) <= cap
    if fits:
        return d
    d = d.model_copy(update={"weight_storage": "dram"})
    staging = cfg.dram.staging_buffer_bytes
    if staging is not None:  # grown, if it must, to one dense column (3H rows, V for the decoder)
        rows = [3 * l.hidden_size for l in trace.layers]
        if cfg.include_decoder and trace.decoder_weight is not None:
            rows.append(trace.vocab_size)
        burst = cfg.dram.burst_bytes
        col = max(_cdiv(_cdiv(r * cfg.precision.weight_bits, 8), burst) * burst for r in rows)
        if col > staging:
            d = d.model_copy(update={"dram": d.dram.model_copy(update={"staging_buffer_bytes": col})})
    return d


def reference_baseline(cfg, trace, table, expected, tokens=None, kind="dense"):
    """The ``--baseline`` keys (baseline of ``kind``) for a run whose own document is
    ``expected``."""
    base_cfg = dense_config(cfg, trace) if kind == "dense" else no_skip_config(cfg)
    base = reference_result(base_cfg, trace, table, tokens=tokens)
    return {"speedup_vs_dense": base["cycles"] / expected["cycles"],
            "energy_reduction_vs_dense": base["energy_pj"]["total"] / expected["energy_pj"]["total"],
            "baseline": {"kind": kind, "weight_format": base_cfg.weight_format,
                         "weight_storage": base_cfg.weight_storage,
                         **{k: base[k] for k in BASELINE_KEYS}}}


# ----------------------------------------------------------------------------- comparison
def _close(a, b, rel):
    if math.isinf(b) or math.isnan(b):
        return a == b or (math.isnan(a) and math.isnan(b))
    return abs(a - b) <= rel * max(abs(a), abs(b)) or a == b


def compare_doc(got, want, path="result", rel=1e-9):
    """Differences between ``got`` (the engine's) and ``want`` (the reference's), as strings."""
    out = []
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path}: {type(got).__name__}, expected a dict"]
        if set(got) != set(want):
            out.append(f"{path}: keys missing {sorted(set(want) - set(got))}, "
                       f"unexpected {sorted(set(got) - set(want))}")
        for k in want:
            if k in got:
                out += compare_doc(got[k], want[k], f"{path}.{k}", rel)
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{path}: {got!r} != {want!r}"]
        for i, (g, w) in enumerate(zip(got, want)):
            out += compare_doc(g, w, f"{path}[{i}]", rel)
    elif isinstance(want, str):
        if got != want:
            out.append(f"{path}: {got!r} != {want!r}")
    elif want is None:
        if got is not None:
            out.append(f"{path}: {got!r}, expected null")
    elif isinstance(want, bool) or isinstance(got, bool):
        out.append(f"{path}: booleans are not figures ({got!r}, {want!r})")
    elif isinstance(want, int):
        if type(got) is not int or got != want:
            out.append(f"{path}: {got!r} ({type(got).__name__}), expected the int {want}")
    elif isinstance(want, float):
        if type(got) is not float or not _close(got, want, rel):
            out.append(f"{path}: {got!r} ({type(got).__name__}), expected the float {want!r}")
    else:  # pragma: no cover
        raise TypeError(f"{path}: unexpected reference type {type(want)}")
    return out


# pricing-only fields (no effect on timing or counts): a second, differently priced look at the
# same run. Each: (number_format, value_bits, accumulator_bits, event_bits, clock_mhz, leakage)
PRICING_VARIANTS = (("fp", 16, 32, 32, 333.3, "area"), ("int", 12, 24, 40, 1000.0, "flat"),
                    ("fp", 8, 48, 16, 125.0, "flat"), ("int", 16, 64, 64, 7.7, "area"))


def pricing_variant(cfg, k):
    fmt, vb, ab, eb, clock, leakage = PRICING_VARIANTS[k % len(PRICING_VARIANTS)]
    d = cfg.model_dump(mode="json")
    d["precision"].update(number_format=fmt, value_bits=vb, accumulator_bits=ab)
    d["event_queue"]["event_bits"] = eb
    d["clock_mhz"] = clock
    d["energy"]["leakage"] = leakage
    return config_from_dict(d, "<pricing variant>")


def assert_result_agrees(cfg, trace, ref=None, table=TABLE_45NM, baseline=False, variant=True,
                         tokens=None, baseline_kind="dense"):
    """The engine's result document (``simulate``, first ``tokens`` tokens) equals the
    re-derived one, key by key. ``variant``: also price the same run on TABLE_ALT with other
    pricing-only fields (number format, widths, clock, leakage by area), reusing the
    reference's counts (they do not depend on those fields). ``baseline``: with the baseline of
    ``baseline_kind``. Returns the engine's document of the first run."""
    if ref is None:
        ref = Reference(cfg, trace, tokens).run()
    first = None
    runs = [(cfg, table)]
    if variant:
        runs.append((pricing_variant(cfg, ref["cycles"] + trace.steps), TABLE_ALT))
    for c, tab in runs:
        got = simulate(c, trace, tab, baseline=baseline, tokens=tokens, baseline_kind=baseline_kind)
        first = first or got
        want = reference_result(c, trace, tab, ref, tokens)
        if baseline:
            want.update(reference_baseline(c, trace, tab, want, tokens, baseline_kind))
        for k in ECHO_KEYS:
            assert k in got, f"result lacks the key {k}"
        assert got["energy_table"] == tab.name
        assert got["trace"] == {"path": trace.path, "sha256": trace.sha256}
        assert got["config"] == c.model_dump(mode="json")
        diffs = compare_doc({k: v for k, v in got.items() if k not in ECHO_KEYS}, want)
        assert not diffs, f"result document ({tab.name}, {c.precision.number_format}):\n  " + \
            "\n  ".join(diffs[:20])
    return first
