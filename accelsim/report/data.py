"""The numbers behind every figure, as DataFrames computed from stored sweep results.

Each function takes the results DataFrame (``accelsim.sweep.load_results``, one or more sweeps
concatenated) and returns the table its figure plots, or an empty frame when the results do not
hold what the figure needs (e.g. no run with both skips off). Figures draw exactly these tables;
the markdown report prints them; tests compare them with the store.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ABLATION = (  # (design, skip_weights, skip_activity)
    ("dense", False, False),
    ("weight-only", True, False),
    ("activity-only", False, True),
    ("both", True, True),
)
SKIP_W, SKIP_A = "config.skip_weights", "config.skip_activity"


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

    def one(r):
        parts = []
        for c in cols:
            if not isinstance(r[c], list) and pd.isna(r[c]):
                continue
            name = c.removeprefix("axis.").removeprefix("workload.") if c.startswith("axis.") else None
            parts.append(_fmt(r[c]) if name is None else f"{name}={_fmt(r[c])}")
        return " ".join(parts)

    return df.apply(one, axis=1)


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


def ablation(df: pd.DataFrame) -> pd.DataFrame:
    """Groups that ran all four of dense / weight-only / activity-only / both on the same hardware
    and trace: MACs, cycles and energy per token, and each as a reduction vs dense."""
    d = ok_rows(df)
    if d.empty or SKIP_W not in d:
        return pd.DataFrame()
    out = []
    drop = ("axis.skip_weights", "axis.skip_activity")
    for g in _groups(d, drop):
        found = {}
        for design, sw, sa in ABLATION:
            m = g[(g[SKIP_W] == sw) & (g[SKIP_A] == sa)]
            if len(m) != 1:
                break
            found[design] = m.iloc[0]
        if len(found) != 4:
            continue
        dense = found["dense"]
        label = " ".join(x for x in (str(dense["workload"]), str(dense["arch"])) if x)
        ideal = float(found["both"].get("ideal_reduction", np.nan))
        for design, sw, sa in ABLATION:
            r = found[design]
            row = {"group": label, "design": design, "skip_weights": sw, "skip_activity": sa,
                   "key": r["key"],
                   "macs_per_token": r["macs"] / r["tokens"],
                   "cycles_per_token": r["cycles"] / r["tokens"],
                   "energy_pj_per_token": r["energy_pj_per_token"]}
            row["mac_reduction"] = dense["macs"] / r["macs"]
            row["cycle_reduction"] = dense["cycles"] / r["cycles"]
            row["energy_reduction"] = dense["energy_pj_per_token"] / r["energy_pj_per_token"]
            row["ideal_reduction"] = ideal if design == "both" else np.nan
            out.append(row)
    return pd.DataFrame(out)


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
    """Realised speedup and energy reduction vs the dense baseline on the same hardware, over
    weight sparsity x activity sparsity (both skips on, runs with ``baseline: true``)."""
    d = _combined_with_baseline(df)
    if d.empty:
        return pd.DataFrame()
    frames = []
    for (part, arch), g in d.groupby(["part", "arch"], sort=False):
        ws, as_, kind = _sparsity_cols(g)  # per group: nominal where that part set the sparsities
        frames.append(pd.DataFrame({
            "group": f"{part} {arch}",
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
    1/((1-s_w)(1-s_a)) against the realised speedup and energy reduction vs dense."""
    d = _combined_with_baseline(df)
    if d.empty:
        return pd.DataFrame()
    labels = pd.concat([design_labels(g) for _, g in d.groupby("part", sort=False)]).reindex(d.index)
    out = pd.DataFrame({
        "part": d["part"].values, "design": labels.values, "arch": d["arch"].values,
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
    labelled within their part, in sweep order."""
    d = ok_rows(df)
    if d.empty:
        return d
    parts = []
    for _, g in d.groupby("part", sort=False):
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


def pareto(df: pd.DataFrame, min_points: int = 4) -> pd.DataFrame:
    """Energy per token vs mean latency per token, every successful design. Designs are
    compared on the same trace, or across traces when every trace carries its perplexity (then
    perplexity is a third objective: choosing a pruned model is part of the design). ``on_front``
    marks the non-dominated designs of each comparison ``group``; groups need ``min_points``."""
    d = ok_rows(df)
    if d.empty or "latency_us.mean" not in d:
        return pd.DataFrame()
    out = []
    for part, g in d.groupby("part", sort=False):
        if not (set(varying(g, ["arch", "workload"] + _axis_cols(g))) - {"axis.skip_weights", "axis.skip_activity"}):
            continue  # the ablation's designs: drawn in their own figure
        ppl = pd.to_numeric(g["trace.perplexity"], errors="coerce")
        with_ppl = ppl.notna().all() and ppl.nunique() > 1
        # without perplexities, only designs on the very same trace are comparable
        sets = [(part, g)] if with_ppl else [
            (part if g["trace_sha256"].nunique() == 1 else f"{part} {s['workload'].iloc[0]} {sha[:8]}", s)
            for sha, s in g.groupby("trace_sha256", sort=False)]
        for name, s in sets:
            if len(s) < min_points:
                continue
            t = pd.DataFrame({
                "part": part, "group": name, "workload": s["workload"].values, "arch": s["arch"].values,
                "design": design_labels(s).values,
                "latency_us_mean": s["latency_us.mean"].astype(float).values,
                "energy_pj_per_token": s["energy_pj_per_token"].astype(float).values,
                "perplexity": pd.to_numeric(s["trace.perplexity"], errors="coerce").values,
                "key": s["key"].values,
            })
            objs = ["latency_us_mean", "energy_pj_per_token"] + (["perplexity"] if with_ppl else [])
            v = t[objs].to_numpy(float)
            t["on_front"] = [not np.any(np.all(v <= v[i], axis=1) & np.any(v < v[i], axis=1))
                             for i in range(len(v))]
            out.append(t)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def pareto_front_line(p: pd.DataFrame) -> pd.DataFrame:
    """The 2-D (latency, energy) staircase of one part's points, for drawing."""
    v = p.sort_values(["latency_us_mean", "energy_pj_per_token"])
    best, keep = np.inf, []
    for i, r in v.iterrows():
        if r["energy_pj_per_token"] < best:
            best = r["energy_pj_per_token"]
            keep.append(i)
    return v.loc[keep]


# ----------------------------------------------------------------------------------------------
# stall causes, for the "why" text


def stall_shares(df: pd.DataFrame) -> pd.DataFrame:
    """Stall cycles per cause (summed over the clusters' units, so they may exceed the run's cycles)
    per token, and each cause's share of all stall cycles; designs with both skips on."""
    d = ok_rows(df)
    cols = sorted(c for c in d.columns if c.startswith("stalls_cycles.") and pd.api.types.is_numeric_dtype(d[c]))
    if d.empty or not cols:
        return pd.DataFrame()
    d = d[(d[SKIP_W] == True) & (d[SKIP_A] == True)]  # noqa: E712
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
    "sparsity_grid": sparsity_grid,
    "realised_vs_ideal": realised_vs_ideal,
    "energy_breakdown": energy_breakdown,
    "latency": latency,
    "pe_load": pe_load,
    "pareto": pareto,
    "stalls": stall_shares,
}
