"""The numbers behind every figure, as DataFrames computed from stored sweep results.

Each function takes the results DataFrame (``accelsim.sweep.load_results``, one or more sweeps
concatenated) and returns the table its figure plots, or an empty frame when the results do not
hold what the figure needs (e.g. no run with both skips off). Figures draw exactly these tables;
the markdown report prints them; tests compare them with the store.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# (design, skip_weights, skip_activity). "no-skip" is the paper's "dense" corner run on the design's
# own hardware (both skips off): the no-skip baseline's design, not the dense design.
ABLATION = (
    ("no-skip", False, False),
    ("weight-only", True, False),
    ("activity-only", False, True),
    ("both", True, True),
)
DENSE_DESIGN = "dense design"  # the dense baseline's own run (baseline.* of a point run against it)
SKIP_W, SKIP_A = "config.skip_weights", "config.skip_activity"
BASELINE_KINDS = ("dense", "no-skip")
# what a baseline of each kind is, for the report's words and tables
BASELINE_WORDS = {
    "dense": "the dense design (dense weights, no metadata, no skipping; same PE array and clock)",
    "no-skip": "the no-skip baseline (the same hardware and weight format with both skips off)",
}
# config fields that choose the weight format; a formats study varies only these (and the workload)
FORMAT_CONFIG = ("config.weight_format", "config.precision.index_bits", "config.nm_n", "config.nm_m")
FORMAT_AXES = tuple("axis." + c.removeprefix("config.") for c in FORMAT_CONFIG)


def ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty or "status" not in df:
        return df.iloc[0:0]
    return df[df["status"] == "ok"].copy()


def _per_token(df: pd.DataFrame, col: str) -> pd.Series:
    return df[col].astype(float) / df["tokens"].astype(float)


def _axis_cols(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith("axis.")]


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return ",".join(_fmt(x) for x in v)
    return str(v)


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v


def varying(df: pd.DataFrame, cols: list[str]) -> list[str]:
    return [c for c in cols if c in df and df[c].map(lambda v: repr(_hashable(v))).nunique() > 1]


def design_labels(df: pd.DataFrame, exclude: tuple[str, ...] = ()) -> pd.Series:
    """A short name per row: the axis values (and arch / workload) that differ between rows."""
    # base: the arch name says it; workload.model: the workload name says it
    axis = [c for c in _axis_cols(df) if c not in ("axis.base", "axis.workload.model") and df[c].notna().any()]
    cols = varying(df, ["arch", "workload"] + axis)
    cols = [c for c in cols if c not in exclude]
    if not cols:
        return df["arch"].astype(str) + " " + df["workload"].astype(str)
    if set(cols) <= {"axis.skip_weights", "axis.skip_activity"} and SKIP_W in df:  # the ablation's names
        names = {(sw, sa): d for d, sw, sa in ABLATION}
        return df.apply(lambda r: names[(bool(r[SKIP_W]), bool(r[SKIP_A]))], axis=1)
    if "arch" in cols:  # axes locked to the architecture (zipped with `base`): the arch name says them
        per_arch = lambda c: df.groupby("arch")[c].agg(lambda v: v.map(lambda x: repr(_hashable(x))).nunique())  # noqa: E731
        cols = [c for c in cols if not c.startswith("axis.") or per_arch(c).max() > 1]
    # the weight format and its parameters as one name (csc 16-bit, nm 2:4)
    as_format = [c for c in cols if c in FORMAT_AXES] if all(c in df for c in FORMAT_CONFIG) else []

    def one(r):
        parts = []
        for c in cols:
            if c in as_format:
                if c == as_format[0]:
                    parts.append(format_label(r))
                continue
            if not isinstance(r[c], list) and pd.isna(r[c]):
                continue
            name = c.removeprefix("axis.").removeprefix("workload.") if c.startswith("axis.") else None
            parts.append(_fmt(r[c]) if name is None else f"{name}={_fmt(r[c])}")
        return " ".join(parts)

    return df.apply(one, axis=1)


def baseline_kinds(df: pd.DataFrame) -> pd.Series:
    """The kind of baseline each row's ``speedup_vs_dense`` / ``energy_reduction_vs_dense`` are
    against: ``baseline.kind`` (``dense`` / ``no-skip``); ``no-skip`` for results stored before
    baselines had kinds (the only baseline then); missing where the row has no baseline."""
    has = df["speedup_vs_dense"].notna() if "speedup_vs_dense" in df else pd.Series(False, df.index)
    kind = df["baseline.kind"] if "baseline.kind" in df else pd.Series(None, df.index, dtype=object)
    kind = kind.where(kind.notna(), "no-skip")
    return kind.where(has, None)


def _design_ids(df: pd.DataFrame, drop: tuple[str, ...] = ()) -> pd.Series:
    """One id per simulated design: the trace, the tokens and the resolved config (less ``drop``).
    Rows of different parts (or run against different baselines) with the same id are the same
    simulation of the same design."""
    cols = ["sweep", "trace_sha256", "tokens"] + sorted(c for c in df.columns if c.startswith("config.")
                                                          and c not in drop)
    cols = [c for c in cols if c in df]
    return df[cols].apply(lambda r: repr(tuple(_hashable(v) for v in r)), axis=1)


def distinct_parts(d: pd.DataFrame) -> pd.DataFrame:
    """``d`` without the parts whose every design already appears in an earlier part (e.g. the
    same 2x2 run against a second baseline kind): figures of designs show each design once."""
    if d.empty:
        return d
    ids = _design_ids(d)
    seen: set = set()
    keep = []
    for part, g in d.groupby("part", sort=False):
        mine = set(ids[g.index])
        if not mine <= seen:
            keep.append(part)
        seen |= mine
    return d[d["part"].isin(keep)]


def _group_key_cols(df: pd.DataFrame, drop: tuple[str, ...]) -> list[str]:
    cols = ["sweep", "part", "workload", "arch"] + _axis_cols(df)
    return [c for c in cols if c in df and c not in drop]


def _groups(df: pd.DataFrame, drop: tuple[str, ...]):
    """Rows that agree on everything that names a design point except the ``drop`` columns."""
    cols = _group_key_cols(df, drop)
    key = df[cols].apply(lambda r: repr(tuple(_hashable(v) for v in r)), axis=1) if cols else pd.Series("", df.index)
    for _, g in df.groupby(key, sort=False):
        yield g


# ----------------------------------------------------------------------------------------------
# 1. the 2x2 ablation


def _ablation_groups(df: pd.DataFrame):
    """Groups holding all four skip combinations of one design on one trace (the same resolved
    config but for the skip flags; rows of several parts, e.g. one per baseline kind, join)."""
    d = ok_rows(df)
    if d.empty or SKIP_W not in d:
        return
    ids = _design_ids(d, drop=(SKIP_W, SKIP_A))
    for _, g in d.groupby(ids, sort=False):
        found = {}
        for design, sw, sa in ABLATION:
            m = g[(g[SKIP_W] == sw) & (g[SKIP_A] == sa)]
            if m.empty:
                break
            found[design] = m
        if len(found) == 4:
            yield g, found


def _ablation_label(found: dict, used: set) -> str:
    first = found["no-skip"].iloc[0]
    label = " ".join(x for x in (str(first["workload"]), str(first["arch"])) if x)
    if label in used:  # two groups on the same workload and arch: say which part
        label += f" ({first['part']})"
    used.add(label)
    return label


def _stored_baseline(rows: pd.DataFrame, kind: str):
    """The first of ``rows`` run against a baseline of ``kind``, or None."""
    if "speedup_vs_dense" not in rows:
        return None
    m = rows[baseline_kinds(rows) == kind]
    return m.iloc[0] if len(m) else None


def ablation(df: pd.DataFrame) -> pd.DataFrame:
    """Designs of which all four of no-skip / weight-only / activity-only / both ran on the same
    hardware and trace: MACs, cycles and energy per token, each as a reduction vs the no-skip
    corner (``*_vs_no_skip``), and the combined design's ideal. When a point of the group was run
    against the dense baseline, the dense design's own run heads the group (design
    ``dense design``, from that point's ``baseline.*``)."""
    out, used = [], set()
    for _, found in _ablation_groups(df):
        label = _ablation_label(found, used)
        first = {d: m.iloc[0] for d, m in found.items()}
        ns = first["no-skip"]
        ideal = float(first["both"].get("ideal_reduction", np.nan))
        # (design, skip_weights, skip_activity, key, weight format, storage, macs, cycles, tokens, pJ / token)
        runs = []
        dense = next((b for b in (_stored_baseline(found[d], "dense") for d, _, _ in ABLATION) if b is not None), None)
        if dense is not None:
            runs.append((DENSE_DESIGN, False, False, dense["key"], dense.get("baseline.weight_format", "dense"),
                         dense.get("baseline.weight_storage", np.nan), dense["baseline.macs"],
                         dense["baseline.cycles"], dense["tokens"],
                         float(dense["baseline.energy_pj.total"]) / float(dense["tokens"])))
        for design, sw, sa in ABLATION:
            r = first[design]
            runs.append((design, sw, sa, r["key"], r.get("config.weight_format", np.nan),
                         r.get("config.weight_storage", np.nan), r["macs"], r["cycles"], r["tokens"],
                         float(r["energy_pj_per_token"])))
        for design, sw, sa, key, fmt, storage, macs, cycles, tokens, e in runs:
            macs, cycles, t = float(macs), float(cycles), float(tokens)
            out.append({"group": label, "design": design, "skip_weights": sw, "skip_activity": sa,
                        "weight_format": fmt, "weight_storage": storage, "key": key,
                        "macs_per_token": macs / t, "cycles_per_token": cycles / t, "energy_pj_per_token": e,
                        "mac_reduction_vs_no_skip": float(ns["macs"]) / macs,
                        "speedup_vs_no_skip": float(ns["cycles"]) / cycles,
                        "energy_reduction_vs_no_skip": float(ns["energy_pj_per_token"]) / e,
                        "ideal_reduction": ideal if design == "both" else np.nan})
    return pd.DataFrame(out)


def ablation_baselines(df: pd.DataFrame) -> pd.DataFrame:
    """The 2x2 against each baseline kind: per design of each :func:`ablation` group and per kind,
    the speedup and energy reduction vs that baseline. ``dense``: the engine's figures of a point
    run against the dense design. ``no-skip``: those of a point run against the no-skip baseline
    when the results hold one (``source`` = ``baseline run``), else the ratios to the group's own
    no-skip corner, which is that baseline's design (``source`` = ``no-skip corner``)."""
    out, used = [], set()
    for _, found in _ablation_groups(df):
        label = _ablation_label(found, used)
        ns = found["no-skip"].iloc[0]
        ideal = float(found["both"].iloc[0].get("ideal_reduction", np.nan))
        for kind in BASELINE_KINDS:
            for design, sw, sa in ABLATION:
                b = _stored_baseline(found[design], kind)
                if b is not None:
                    r = dict(speedup=float(b["speedup_vs_dense"]),
                             energy_reduction=float(b["energy_reduction_vs_dense"]),
                             baseline_cycles_per_token=float(b["baseline.cycles"]) / float(b["tokens"])
                             if "baseline.cycles" in b else np.nan,
                             baseline_energy_pj_per_token=float(b["baseline.energy_pj.total"]) / float(b["tokens"])
                             if "baseline.energy_pj.total" in b else np.nan,
                             baseline_weight_storage=b.get("baseline.weight_storage", np.nan),
                             source="baseline run", key=b["key"])
                elif kind == "no-skip":
                    m = found[design].iloc[0]
                    r = dict(speedup=float(ns["cycles"]) / float(m["cycles"]),
                             energy_reduction=float(ns["energy_pj_per_token"]) / float(m["energy_pj_per_token"]),
                             baseline_cycles_per_token=float(ns["cycles"]) / float(ns["tokens"]),
                             baseline_energy_pj_per_token=float(ns["energy_pj_per_token"]),
                             baseline_weight_storage=ns.get("config.weight_storage", np.nan),
                             source="no-skip corner", key=m["key"])
                else:
                    continue
                out.append({"group": label, "design": design, "baseline_kind": kind, **r,
                            "ideal_reduction": ideal if design == "both" else np.nan})
    t = pd.DataFrame(out)
    if t.empty:
        return t
    cols = ["group", "design", "baseline_kind", "speedup", "energy_reduction", "ideal_reduction",
            "baseline_cycles_per_token", "baseline_energy_pj_per_token", "baseline_weight_storage", "source", "key"]
    return t[cols]


# ----------------------------------------------------------------------------------------------
# 2. weight sparsity x activity sparsity heatmaps


def _sparsity_cols(d: pd.DataFrame) -> tuple[pd.Series, pd.Series, str]:
    """Nominal (synthesis parameters) sparsities when the sweep set them, else measured ones."""
    ws = d.get("axis.workload.weight_sparsity")
    as_ = d.get("axis.workload.activity_sparsity")
    if ws is not None and as_ is not None and ws.notna().all() and as_.notna().all() \
            and not ws.map(lambda v: isinstance(v, list)).any() and not as_.map(lambda v: isinstance(v, list)).any():
        return ws.astype(float), as_.astype(float), "nominal"
    return d["trace.weight_sparsity"].astype(float).round(3), d["trace.activity_sparsity"].astype(float).round(3), "measured"


def _combined_with_baseline(df: pd.DataFrame) -> pd.DataFrame:
    """Finished points of the combined design (both skips on) that were run with ``baseline: true``."""
    d = ok_rows(df)
    if d.empty or "speedup_vs_dense" not in d:
        return d.iloc[0:0]
    return d[d["speedup_vs_dense"].notna() & (d[SKIP_W] == True) & (d[SKIP_A] == True)]  # noqa: E712


def sparsity_grid(df: pd.DataFrame) -> pd.DataFrame:
    """Realised speedup and energy reduction vs the baseline the points were run against
    (``baseline_kind``), over weight sparsity x activity sparsity (both skips on, runs with
    ``baseline: true``); one group per part, architecture and baseline kind."""
    d = _combined_with_baseline(df)
    if d.empty:
        return pd.DataFrame()
    d = d.assign(_kind=baseline_kinds(d))
    frames = []
    for (part, arch, bkind), g in d.groupby(["part", "arch", "_kind"], sort=False):
        ws, as_, kind = _sparsity_cols(g)  # per group: nominal where that part set the sparsities
        frames.append(pd.DataFrame({
            "group": f"{part} {arch} vs {bkind}", "baseline_kind": bkind,
            "weight_sparsity": ws.values, "activity_sparsity": as_.values, "sparsity_source": kind,
            "measured_weight_sparsity": g["trace.weight_sparsity"].values,
            "measured_activity_sparsity": g["trace.activity_sparsity"].values,
            "speedup_vs_dense": g["speedup_vs_dense"].astype(float).values,
            "energy_reduction_vs_dense": g["energy_reduction_vs_dense"].astype(float).values,
            "ideal_reduction": g["ideal_reduction"].astype(float).values,
            "key": g["key"].values,
        }))
    out = pd.concat(frames, ignore_index=True)
    keep = []
    for _, g in out.groupby("group", sort=False):
        nw, na = g["weight_sparsity"].nunique(), g["activity_sparsity"].nunique()
        # a grid, not a scatter: at least 2 x 2 values and at least half of the cells filled
        if nw >= 2 and na >= 2 and len(g.drop_duplicates(["weight_sparsity", "activity_sparsity"])) >= 0.5 * nw * na:
            keep.append(g)
    if not keep:
        return pd.DataFrame()
    out = pd.concat(keep)
    out["realised_fraction_of_ideal"] = out["speedup_vs_dense"] / out["ideal_reduction"]
    return out.reset_index(drop=True)


def realised_vs_ideal(df: pd.DataFrame) -> pd.DataFrame:
    """Every point run with ``baseline: true`` and both skips on: the trace's ideal reduction
    1/((1-s_w)(1-s_a)) against the realised speedup and energy reduction vs its baseline (of
    ``baseline_kind``)."""
    d = _combined_with_baseline(df)
    if d.empty:
        return pd.DataFrame()
    labels = pd.concat([design_labels(g) for _, g in d.groupby("part", sort=False)]).reindex(d.index)
    out = pd.DataFrame({
        "part": d["part"].values, "design": labels.values, "arch": d["arch"].values,
        "baseline_kind": baseline_kinds(d).values,
        "weight_sparsity": d["trace.weight_sparsity"].astype(float).values,
        "activity_sparsity": d["trace.activity_sparsity"].astype(float).values,
        "perplexity": pd.to_numeric(d["trace.perplexity"], errors="coerce").values,
        "ideal_reduction": d["ideal_reduction"].astype(float).values,
        "speedup_vs_dense": d["speedup_vs_dense"].astype(float).values,
        "energy_reduction_vs_dense": d["energy_reduction_vs_dense"].astype(float).values,
        "key": d["key"].values,
    })
    out["speedup_share_of_ideal"] = out["speedup_vs_dense"] / out["ideal_reduction"]
    out["energy_share_of_ideal"] = out["energy_reduction_vs_dense"] / out["ideal_reduction"]
    return out


def heatmap_matrix(grid: pd.DataFrame, value: str) -> pd.DataFrame:
    """One group's grid as a matrix: rows activity sparsity, columns weight sparsity (mean of repeats)."""
    return grid.pivot_table(index="activity_sparsity", columns="weight_sparsity", values=value, aggfunc="mean")


# ----------------------------------------------------------------------------------------------
# 3. energy breakdown, 4. latency


def _energy_components(d: pd.DataFrame) -> list[str]:
    return sorted(c for c in d.columns if c.startswith("energy_pj.") and c != "energy_pj.total"
                  and pd.api.types.is_numeric_dtype(d[c]))


def designs(df: pd.DataFrame, limit: int = 20) -> pd.DataFrame:
    """The rows shown as 'designs' in the breakdown and latency figures: every successful point of
    the parts with at most ``limit`` of them (larger parts are grids with figures of their own),
    labelled within their part, in sweep order; a part whose designs all appear in an earlier part
    (the same designs run against another baseline) is left out."""
    d = ok_rows(df)
    if d.empty:
        return d
    parts = []
    for _, g in distinct_parts(d).groupby("part", sort=False):
        if len(g) > limit:
            continue
        g = g.copy()
        g["design"] = design_labels(g)
        parts.append(g)
    if not parts:  # only big parts: show the first `limit` points of the first one
        g = d[d["part"] == d["part"].iloc[0]].head(limit).copy()
        g["design"] = design_labels(g)
        parts.append(g)
    return pd.concat(parts)


def energy_breakdown(df: pd.DataFrame, limit: int = 20) -> pd.DataFrame:
    """Energy per token per component (pJ), one row per design; components sum to the total."""
    d = designs(df, limit)
    if d.empty:
        return pd.DataFrame()
    comps = _energy_components(d)
    out = pd.DataFrame({"part": d["part"].values, "design": d["design"].values, "key": d["key"].values})
    for c in comps:
        out[c.removeprefix("energy_pj.")] = (d[c].astype(float) / d["tokens"].astype(float)).values
    out["total"] = d["energy_pj_per_token"].astype(float).values
    return out


def _area_components(d: pd.DataFrame) -> list[str]:
    return sorted(c for c in d.columns if c.startswith("area_mm2.") and c != "area_mm2.total"
                  and pd.api.types.is_numeric_dtype(d[c]) and d[c].notna().any())


def area_breakdown(df: pd.DataFrame, limit: int = 20) -> pd.DataFrame:
    """Chip area per component (mm^2), one row per design (the designs of the energy breakdown
    that carry ``area_mm2``); components sum to the total."""
    d = designs(df, limit)
    if d.empty or "area_mm2.total" not in d:
        return pd.DataFrame()
    d = d[pd.to_numeric(d["area_mm2.total"], errors="coerce").notna()]
    comps = _area_components(d)
    if d.empty or not comps:
        return pd.DataFrame()
    out = pd.DataFrame({"part": d["part"].values, "design": d["design"].values, "key": d["key"].values})
    for c in comps:
        out[c.removeprefix("area_mm2.")] = d[c].astype(float).values
    out["total"] = d["area_mm2.total"].astype(float).values
    return out


def latency(df: pd.DataFrame, limit: int = 20) -> pd.DataFrame:
    """Latency per token (us): mean, p50 and p99 per design."""
    d = designs(df, limit)
    if d.empty or "latency_us.p50" not in d:
        return pd.DataFrame()
    return pd.DataFrame({
        "part": d["part"].values, "design": d["design"].values, "key": d["key"].values,
        "latency_us_mean": d["latency_us.mean"].astype(float).values,
        "latency_us_p50": d["latency_us.p50"].astype(float).values,
        "latency_us_p99": d["latency_us.p99"].astype(float).values,
        "latency_cycles_p99": d["latency_cycles.p99"].astype(float).values,
    })


# ----------------------------------------------------------------------------------------------
# 5. per-PE load by pruning pattern


def _layer_sum(g: pd.DataFrame, suffix: str) -> pd.Series:
    cols = [c for c in g.columns if c.startswith("per_layer.") and c.endswith(suffix)]
    return g[cols].astype(float).sum(axis=1) if cols else pd.Series(np.nan, g.index)


def pe_load(df: pd.DataFrame) -> pd.DataFrame:
    """Per-PE load by pruning pattern, within each part where ``workload.pruning`` takes at least
    two values. ``imbalance`` = sum over layers of the busiest PE's work / sum of the mean PE's work
    (1 = every PE of every cluster equally loaded; a cluster waits for its busiest PE), and the
    stall cycles per token that imbalance and bank conflicts cost."""
    d = ok_rows(df)
    if d.empty or "pe_work.max" not in d:
        return pd.DataFrame()
    out = []
    for part, pg in d.groupby("part", sort=False):
        # same weight sparsity, different pruning pattern: the synthetic pruning axis, else the
        # pruning recorded in the traces themselves (e.g. a model pruned unstructured vs balanced)
        nominal = pg.get("axis.workload.weight_sparsity")
        ws = (nominal.map(repr) if nominal is not None and nominal.notna().all()
              else (pg["trace.weight_sparsity"].astype(float) * 20).round() / 20)  # 5-point bins
        for _, g in pg.groupby(ws, sort=False):
            col = next((c for c in ("axis.workload.pruning", "trace.pruning") if c in g and g[c].nunique() >= 2), None)
            if col is None:
                continue
            mx, mean = _layer_sum(g, ".pe_work.max"), _layer_sum(g, ".pe_work.mean")
            if mx.isna().all():  # no per-layer figures: the run's totals
                mx, mean = g["pe_work.max"].astype(float), g["pe_work.mean"].astype(float)
            t = g["tokens"].astype(float)
            out.append(pd.DataFrame({
                "part": part,
                "setting": design_labels(g, exclude=(col, "workload", "axis.workload.model")).values,
                "pruning": g[col].values,
                "workload": g["workload"].values,
                "pe_work_mean": mean.values,
                "pe_work_max": mx.values,
                "imbalance": (mx / mean).values,
                "load_imbalance_lost_cycles_per_token": (g.get("lost_work_cycles.load_imbalance", np.nan) / t).values,
                "bank_conflict_lost_cycles_per_token": (g.get("lost_work_cycles.bank_conflict", np.nan) / t).values,
                "cycles_per_token": _per_token(g, "cycles").values,
                "key": g["key"].values,
            }))
    if not out:
        return pd.DataFrame()
    return pd.concat(out, ignore_index=True)


# ----------------------------------------------------------------------------------------------
# 6. Pareto front


def _is_formats_part(g: pd.DataFrame) -> bool:
    """A formats study: the part's axes vary the weight format and nothing else but the format's
    parameters (:data:`FORMAT_AXES`) and the workload (``workload.*``)."""
    vary = set(varying(g, _axis_cols(g)))
    return "axis.weight_format" in vary and all(c in FORMAT_AXES or c.startswith("axis.workload.") for c in vary)


def pareto(df: pd.DataFrame, min_points: int = 4) -> pd.DataFrame:
    """Every successful design compared on mean latency per token, energy per token and chip area
    (``area_mm2.total``; left out of the comparison where the results carry no area), with
    throughput per mm^2 and per watt. Designs are compared on the same trace, or across traces
    when every trace carries its perplexity (then perplexity is one more objective: choosing a
    pruned model is part of the design). ``on_front`` marks the non-dominated designs of each
    comparison ``group``; groups need ``min_points``. Parts that vary only the skip flags (the
    ablation) or only the weight format (the formats figure) have figures of their own."""
    d = ok_rows(df)
    if d.empty or "latency_us.mean" not in d:
        return pd.DataFrame()
    out = []
    for part, g in distinct_parts(d).groupby("part", sort=False):
        if not (set(varying(g, ["arch", "workload"] + _axis_cols(g))) - {"axis.skip_weights", "axis.skip_activity"}):
            continue  # the ablation's designs: drawn in their own figure
        if _is_formats_part(g):
            continue  # the weight formats: drawn in their own figure
        ppl = pd.to_numeric(g["trace.perplexity"], errors="coerce")
        with_ppl = ppl.notna().all() and ppl.nunique() > 1
        # without perplexities, only designs on the very same trace are comparable
        sets = [(part, g)] if with_ppl else [
            (part if g["trace_sha256"].nunique() == 1 else f"{part} {s['workload'].iloc[0]} {sha[:8]}", s)
            for sha, s in g.groupby("trace_sha256", sort=False)]
        for name, s in sets:
            if len(s) < min_points:
                continue
            area = (pd.to_numeric(s["area_mm2.total"], errors="coerce") if "area_mm2.total" in s
                    else pd.Series(np.nan, s.index))
            tps = pd.to_numeric(s["tokens_per_s"], errors="coerce") if "tokens_per_s" in s else pd.Series(np.nan, s.index)
            energy = s["energy_pj_per_token"].astype(float)
            power = energy * 1e-12 * tps  # W: J per token x tokens per second
            t = pd.DataFrame({
                "part": part, "group": name, "workload": s["workload"].values, "arch": s["arch"].values,
                "design": design_labels(s).values,
                "latency_us_mean": s["latency_us.mean"].astype(float).values,
                "energy_pj_per_token": energy.values,
                "area_mm2": area.values,
                "tokens_per_s": tps.values,
                "power_w": power.values,
                "perf_per_mm2": (tps / area).values,
                "perf_per_watt": (tps / power).values,
                "perplexity": pd.to_numeric(s["trace.perplexity"], errors="coerce").values,
                "key": s["key"].values,
            })
            objs = ["latency_us_mean", "energy_pj_per_token"]
            if t["area_mm2"].notna().all():
                objs.append("area_mm2")
            if with_ppl:
                objs.append("perplexity")
            v = t[objs].to_numpy(float)
            t["on_front"] = [not np.any(np.all(v <= v[i], axis=1) & np.any(v < v[i], axis=1))
                             for i in range(len(v))]
            t["objectives"] = ", ".join(o.removesuffix("_mean") for o in objs)
            out.append(t)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


# ----------------------------------------------------------------------------------------------
# 7. weight formats


def _num(g: pd.DataFrame, col: str) -> pd.Series:
    """Column ``col`` as floats (NaN where missing or not a number; all NaN without the column)."""
    if col not in g:
        return pd.Series(np.nan, g.index, dtype=float)
    return pd.to_numeric(g[col], errors="coerce").astype(float)


def format_label(r) -> str:
    """``csc 16-bit``, ``csc_relative 4-bit``, ``bitmap``, ``nm 2:4``, ``dense``."""
    f = str(r["config.weight_format"])
    if f in ("csc", "csc_relative"):
        return f"{f} {int(r['config.precision.index_bits'])}-bit"
    if f == "nm":
        return f"nm {int(r['config.nm_n'])}:{int(r['config.nm_m'])}"
    return f


def _is_nm_pruning(p) -> bool:
    import re

    return isinstance(p, str) and re.fullmatch(r"\s*\d+\s*:\s*\d+\s*", p) is not None


def formats(df: pd.DataFrame) -> pd.DataFrame:
    """Weight formats compared on the same weights. From the parts that vary only the weight
    format (and the workload; :func:`_is_formats_part`), one group per trace and hardware: per
    format the stored weight bytes, MACs, cycles, SRAM bits read (values / metadata) and energy per
    token, metadata energy (``energy_pj.sram_metadata``: index / run / position / bitmap words and
    column pointers read on chip) and its share; against the group's CSC with the widest indices
    (the reference), ``energy_vs_csc`` (its energy / this energy) and ``csc_metadata_recovered``
    ((its energy - this energy) / its metadata energy: the share of CSC's metadata energy this
    format saves, net of what it costs elsewhere); and, for points run with ``baseline: true``,
    the speedup and energy reduction vs that baseline (``baseline_kind``)."""
    d = ok_rows(df)
    if d.empty or "config.weight_format" not in d:
        return pd.DataFrame()
    out = []
    for part, pg in d.groupby("part", sort=False):
        if not _is_formats_part(pg):
            continue
        ids = _design_ids(pg, drop=FORMAT_CONFIG)
        archs = pg["arch"].nunique()
        for _, g in pg.groupby(ids, sort=False):
            g = g.drop_duplicates("key")
            if g["config.weight_format"].nunique() < 2:
                continue
            r0 = g.iloc[0]
            ws, pruning = float(r0["trace.weight_sparsity"]), r0.get("trace.pruning")
            label = f"{r0['workload']}" + (f" {r0['arch']}" if archs > 1 else "") + f", s_w {ws:.2f}" + (
                f" {pruning}" if isinstance(pruning, str) and pruning else "")
            tok = g["tokens"].astype(float)
            stored = _layer_sum(g, ".weight_bytes_stored")
            meta_e = _num(g, "energy_pj.sram_metadata") / tok
            energy = g["energy_pj_per_token"].astype(float)
            t = pd.DataFrame({
                "part": part, "group": label, "workload": g["workload"].values, "arch": g["arch"].values,
                "weight_sparsity": ws, "pruning": pruning if isinstance(pruning, str) else "",
                "format": [format_label(r) for _, r in g.iterrows()],
                "weight_format": g["config.weight_format"].values,
                "weight_bytes_stored": stored.values,
                "macs_per_token": (g["macs"].astype(float) / tok).values,
                "cycles_per_token": (g["cycles"].astype(float) / tok).values,
                "weight_bits_per_token": (g["sram_read_bits.weights"].astype(float) / tok).values,
                "metadata_bits_per_token": (g["sram_read_bits.metadata"].astype(float) / tok).values,
                "metadata_pj_per_token": meta_e.values,
                "energy_pj_per_token": energy.values,
                "metadata_share": (meta_e / energy).values,
                "area_mm2": _num(g, "area_mm2.total").values,
                "baseline_kind": baseline_kinds(g).values,
                "speedup_vs_baseline": _num(g, "speedup_vs_dense").values,
                "energy_reduction_vs_baseline": _num(g, "energy_reduction_vs_dense").values,
                "ideal_reduction": _num(g, "ideal_reduction").values,
                "key": g["key"].values,
            })
            is_csc = (g["config.weight_format"] == "csc").to_numpy()
            if is_csc.any():  # the reference: CSC with the widest indices
                bits = g["config.precision.index_bits"].astype(int).to_numpy()
                ref = t.iloc[int(np.argmax(np.where(is_csc, bits, -1)))]
                t["reference"] = ref["format"]
                t["energy_vs_csc"] = ref["energy_pj_per_token"] / t["energy_pj_per_token"]
                t["csc_metadata_recovered"] = ((ref["energy_pj_per_token"] - t["energy_pj_per_token"])
                                               / ref["metadata_pj_per_token"])
            else:
                t["reference"] = ""
                t["energy_vs_csc"] = np.nan
                t["csc_metadata_recovered"] = np.nan
            out.append(t)
    if not out:
        return pd.DataFrame()
    t = pd.concat(out, ignore_index=True)
    front = ["part", "group", "format", "reference"]
    return t[front + [c for c in t.columns if c not in front]]


def nm_not_run(t: pd.DataFrame) -> pd.DataFrame:
    """The groups of the formats table without an ``nm`` point whose weights are not N:M-pruned
    (their trace's pruning): N:M cannot store them, so no nm point could run."""
    if t.empty:
        return t
    g = t.groupby("group", sort=False).agg(pruning=("pruning", "first"), part=("part", "first"),
                                            has_nm=("weight_format", lambda f: (f == "nm").any()))
    return g[~g["has_nm"] & ~g["pruning"].map(_is_nm_pruning)].reset_index()[["part", "group", "pruning"]]


# ----------------------------------------------------------------------------------------------
# stall causes, for the "why" text


def stall_shares(df: pd.DataFrame) -> pd.DataFrame:
    """Stall cycles per cause (summed over the clusters' units, so they may exceed the run's cycles)
    per token, and each cause's share of all stall cycles; designs with both skips on."""
    d = ok_rows(df)
    cols = sorted(c for c in d.columns if c.startswith("stalls_cycles.") and pd.api.types.is_numeric_dtype(d[c]))
    if d.empty or not cols:
        return pd.DataFrame()
    d = distinct_parts(d[(d[SKIP_W] == True) & (d[SKIP_A] == True)])  # noqa: E712
    if d.empty:
        return pd.DataFrame()
    labels = pd.concat([design_labels(g) for _, g in d.groupby("part", sort=False)]).reindex(d.index)
    total = d[cols].astype(float).sum(axis=1).replace(0, np.nan)
    out = pd.DataFrame({"part": d["part"].values, "design": labels.values, "key": d["key"].values,
                        "stall_cycles_per_token": (total / d["tokens"].astype(float)).values})
    for c in cols:
        out[c.removeprefix("stalls_cycles.")] = (d[c].astype(float) / total).values
    return out


FIGURE_DATA = {
    "ablation": ablation,
    "ablation_baselines": ablation_baselines,
    "sparsity_grid": sparsity_grid,
    "realised_vs_ideal": realised_vs_ideal,
    "energy_breakdown": energy_breakdown,
    "area_breakdown": area_breakdown,
    "latency": latency,
    "pe_load": pe_load,
    "pareto": pareto,
    "formats": formats,
    "stalls": stall_shares,
}

from accelsim.report import families as _families  # noqa: E402  (EGRU vs DeltaGRU)

FIGURE_DATA.update(_families.TABLES)
