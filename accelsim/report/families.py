"""EGRU against delta networks (DeltaGRU) on the same chips: tables, figures and the paragraph.

Points are told apart by ``trace.kind`` (``egru`` or ``delta``, stored with every sweep point).
Two tables:

- ``families``: every successful EGRU or DeltaGRU point of a part that holds both kinds: per
  token MACs, cycles, DRAM bytes, SRAM bits and energy, the perplexity the trace measured, and
  the dense baseline's energy per token when the point has one;
- ``families_matched``: per part, chip and weight sparsity, the EGRU point next to the DeltaGRU
  point whose perplexity is nearest to the EGRU's; ``matched`` says whether the two perplexities
  are within ``MATCH_TOL`` of each other, ``delta_vs_egru_energy`` is the DeltaGRU's energy per
  token over the EGRU's (> 1: the EGRU is cheaper on that chip).

The paragraph is generated from ``families_matched``, never written by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

MATCH_TOL = 0.02   # relative perplexity difference that counts as matched
FAMILY = {"egru": "EGRU", "delta": "DeltaGRU"}


def _ok(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty or "trace.kind" not in df or "status" not in df:
        return df.iloc[0:0]
    d = df[(df["status"] == "ok") & df["trace.kind"].isin(list(FAMILY))]
    parts = d.groupby("part")["trace.kind"].nunique()
    return d[d["part"].isin(parts[parts == 2].index)].copy()


def _col(d: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_numeric(d[name], errors="coerce") if name in d else pd.Series(np.nan, index=d.index)


def families(df: pd.DataFrame) -> pd.DataFrame:
    d = _ok(df)
    if d.empty:
        return pd.DataFrame()
    t = d["tokens"].astype(float)
    out = pd.DataFrame({
        "part": d["part"].values,
        "arch": d["arch"].astype(str).values,
        "family": d["trace.kind"].map(FAMILY).values,
        "model": d["trace.model"].astype(str).values,
        "weight_sparsity": _col(d, "trace.weight_sparsity").round(3).values,
        "theta": _col(d, "trace.theta_x").values,
        "perplexity": _col(d, "trace.perplexity").values,
        "macs_per_token": (_col(d, "macs") / t).values,
        "cycles_per_token": (_col(d, "cycles") / t).values,
        "dram_bytes_per_token": (_col(d, "dram_read_bytes") / t).values,
        "sram_bits_per_token": ((_col(d, "sram_read_bits.weights").fillna(0)
                                 + _col(d, "sram_read_bits.metadata").fillna(0)) / t).values,
        "energy_pj_per_token": _col(d, "energy_pj_per_token").values,
        "baseline_kind": (d["baseline.kind"].astype(object).values if "baseline.kind" in d
                          else np.full(len(d), None)),
        "baseline_energy_pj_per_token": (_col(d, "baseline.energy_pj.total") / t).values,
        "baseline_cycles_per_token": (_col(d, "baseline.cycles") / t).values,
        "key": d["key"].values,
    })
    return out.sort_values(["part", "arch", "family", "weight_sparsity", "theta"],
                           na_position="first", ignore_index=True)


def families_matched(df: pd.DataFrame) -> pd.DataFrame:
    f = families(df)
    if f.empty:
        return pd.DataFrame()
    rows = []
    for (part, arch, ws), g in f.groupby(["part", "arch", "weight_sparsity"], sort=False):
        eg, dl = g[g["family"] == "EGRU"], g[g["family"] == "DeltaGRU"]
        for _, e in eg.iterrows():
            if dl.empty or not np.isfinite(e["perplexity"]):
                continue
            gap = (dl["perplexity"] - e["perplexity"]).abs()
            if gap.isna().all():
                continue
            d = dl.loc[gap.idxmin()]
            rows.append({
                "part": part, "arch": arch, "weight_sparsity": ws,
                "egru_model": e["model"], "delta_model": d["model"], "theta": d["theta"],
                "egru_perplexity": e["perplexity"], "delta_perplexity": d["perplexity"],
                "perplexity_gap": abs(d["perplexity"] - e["perplexity"]) / e["perplexity"],
                "matched": bool(abs(d["perplexity"] - e["perplexity"]) <= MATCH_TOL * e["perplexity"]),
                "egru_macs_per_token": e["macs_per_token"], "delta_macs_per_token": d["macs_per_token"],
                "egru_cycles_per_token": e["cycles_per_token"], "delta_cycles_per_token": d["cycles_per_token"],
                "egru_dram_bytes_per_token": e["dram_bytes_per_token"],
                "delta_dram_bytes_per_token": d["dram_bytes_per_token"],
                "egru_sram_bits_per_token": e["sram_bits_per_token"],
                "delta_sram_bits_per_token": d["sram_bits_per_token"],
                "egru_energy_pj_per_token": e["energy_pj_per_token"],
                "delta_energy_pj_per_token": d["energy_pj_per_token"],
                "dense_baseline_energy_pj_per_token": e["baseline_energy_pj_per_token"],
                "baseline_kind": e["baseline_kind"],
                "delta_vs_egru_energy": d["energy_pj_per_token"] / e["energy_pj_per_token"],
                "delta_vs_egru_cycles": d["cycles_per_token"] / e["cycles_per_token"],
            })
    return pd.DataFrame(rows)


def _x(v: float) -> str:
    return f"{v:.2f}x"


def crossovers(f: pd.DataFrame) -> pd.DataFrame:
    """Per part, chip and weight sparsity: the EGRU point and the most accurate DeltaGRU point
    (lowest perplexity over every threshold swept) that is at least as cheap in energy per token,
    if any: where the answer to "which one is cheaper?" flips, and at what perplexity."""
    rows = []
    for (part, arch, ws), g in f.groupby(["part", "arch", "weight_sparsity"], sort=False):
        eg, dl = g[g["family"] == "EGRU"], g[g["family"] == "DeltaGRU"]
        if eg.empty or dl.empty:
            continue
        e = eg.iloc[0]
        cheaper = dl[dl["energy_pj_per_token"] <= e["energy_pj_per_token"]]
        best = cheaper.loc[cheaper["perplexity"].idxmin()] if not cheaper.empty else None
        rows.append({"part": part, "arch": arch, "weight_sparsity": ws,
                     "egru_perplexity": e["perplexity"],
                     "egru_energy_pj_per_token": e["energy_pj_per_token"],
                     "theta": None if best is None else best["theta"],
                     "delta_perplexity": None if best is None else best["perplexity"],
                     "delta_energy_pj_per_token": None if best is None else best["energy_pj_per_token"],
                     "max_theta": dl["theta"].max(), "max_theta_perplexity": dl.loc[dl["theta"].idxmax(), "perplexity"],
                     "max_theta_energy_pj_per_token": dl.loc[dl["theta"].idxmax(), "energy_pj_per_token"]})
    return pd.DataFrame(rows)


def _flip_text(c: pd.DataFrame) -> str:
    parts = []
    for r in c.itertuples():
        if r.theta is None or not np.isfinite(r.theta):
            parts.append(f"{r.weight_sparsity:.0%}: never in the sweep (at theta {r.max_theta:g}, perplexity "
                         f"{r.max_theta_perplexity:.1f}, still {r.max_theta_energy_pj_per_token / r.egru_energy_pj_per_token:.2f}x "
                         "the EGRU's energy)")
        else:
            parts.append(f"{r.weight_sparsity:.0%}: from theta {r.theta:g} on, at perplexity {r.delta_perplexity:.1f} "
                         f"({r.delta_perplexity / r.egru_perplexity - 1:+.0%} over the EGRU's {r.egru_perplexity:.1f})")
    return "; ".join(parts)


def families_text(m: pd.DataFrame, f: pd.DataFrame | None = None) -> str:
    """The answer to "which one is cheaper on my chip?", with the numbers and where it flips
    (``f``: the every-point table, for the thresholds beyond the matched one)."""
    if m.empty:
        return ""
    cross = crossovers(f) if f is not None and not f.empty else pd.DataFrame()
    lines = []
    mm = m[m["matched"]]
    if mm.empty:
        return ("No EGRU point has a DeltaGRU point within "
                f"{MATCH_TOL:.0%} of its perplexity in these results: the families are not compared.")
    for (part, arch), g in mm.groupby(["part", "arch"], sort=False):
        g = g.sort_values("weight_sparsity")
        egru_wins = g[g["delta_vs_egru_energy"] > 1]
        delta_wins = g[g["delta_vs_egru_energy"] <= 1]
        cases = "; ".join(
            f"weight sparsity {r.weight_sparsity:.0%} (perplexity {r.egru_perplexity:.1f} vs "
            f"{r.delta_perplexity:.1f}): {r.egru_energy_pj_per_token / 1e6:.3g} vs "
            f"{r.delta_energy_pj_per_token / 1e6:.3g} uJ per token, DeltaGRU/EGRU energy "
            f"{_x(r.delta_vs_egru_energy)}, cycles {_x(r.delta_vs_egru_cycles)}, MACs "
            f"{r.egru_macs_per_token:,.0f} vs {r.delta_macs_per_token:,.0f}"
            for r in g.itertuples())
        if delta_wins.empty:
            verdict = "the EGRU is cheaper at every matched point"
        elif egru_wins.empty:
            verdict = "the DeltaGRU is cheaper at every matched point"
        else:
            verdict = ("the answer flips: the EGRU is cheaper at weight sparsity "
                       + ", ".join(f"{w:.0%}" for w in egru_wins["weight_sparsity"])
                       + " and the DeltaGRU at "
                       + ", ".join(f"{w:.0%}" for w in delta_wins["weight_sparsity"]))
        lines.append(f"- **{arch}** ({part}): {verdict}. {cases}.")
        if f is not None and not f.empty:
            g2 = f[(f["part"] == part) & (f["arch"] == arch)]
            eg = g2[g2["family"] == "EGRU"].sort_values("perplexity")
            dl = g2[g2["family"] == "DeltaGRU"].sort_values("perplexity")
            if not eg.empty and not dl.empty and dl.iloc[0]["perplexity"] < eg.iloc[0]["perplexity"]:
                e0, d0 = eg.iloc[0], dl.iloc[0]
                better = dl[dl["perplexity"] < e0["perplexity"]]
                lines.append(f"  Below the EGRU's best perplexity ({e0['perplexity']:.1f}, {e0['model']}) only the "
                             f"DeltaGRU reaches: down to {d0['perplexity']:.1f} ({d0['model']}, theta {d0['theta']:g}) at "
                             f"{d0['energy_pj_per_token'] / 1e6:.3g} uJ per token; its cheapest point below "
                             f"{e0['perplexity']:.1f} costs {better['energy_pj_per_token'].min() / 1e6:.3g} uJ per "
                             f"token, {better['energy_pj_per_token'].min() / e0['energy_pj_per_token']:.2f}x the "
                             "EGRU's best.")
        if not cross.empty:
            c = cross[(cross["part"] == part) & (cross["arch"] == arch)].sort_values("weight_sparsity")
            if not c.empty:
                lines.append(f"  The DeltaGRU becomes as cheap as the EGRU on {arch}, at weight sparsity "
                             + _flip_text(c) + ".")
    unmatched = m[~m["matched"]]
    if not unmatched.empty:
        lines.append("- Not matched (no DeltaGRU threshold within "
                     f"{MATCH_TOL:.0%} of the EGRU's perplexity): "
                     + "; ".join(f"{r.arch} at weight sparsity {r.weight_sparsity:.0%} (EGRU "
                                 f"{r.egru_perplexity:.1f}, nearest DeltaGRU {r.delta_perplexity:.1f})"
                                 for r in unmatched.itertuples()) + ".")
    return ("EGRU vs DeltaGRU at matched perplexity (within "
            f"{MATCH_TOL:.0%}) and the same weight sparsity, energy per token on the same chip:\n\n"
            + "\n".join(lines))


def families_figure(t: pd.DataFrame, out_dir: Path, name: str = "families", pdf: bool = False) -> list[Path]:
    """Per chip: perplexity against energy per token, both families (every threshold of the
    DeltaGRU), one marker per weight sparsity; the dense baseline's energy as a vertical line."""
    from accelsim.report.figures import _save, plt

    archs = list(dict.fromkeys(t["arch"]))
    fig, axes = plt.subplots(1, len(archs), figsize=(6.2 * len(archs), 4.6), squeeze=False)
    cmap = plt.get_cmap("viridis")
    levels = sorted(t["weight_sparsity"].dropna().unique())
    for ai, arch in enumerate(archs):
        ax = axes[0][ai]
        sub = t[t["arch"] == arch]
        for li, ws in enumerate(levels):
            color = cmap(li / max(1, len(levels) - 1))
            for fam, marker in (("EGRU", "o"), ("DeltaGRU", "^")):
                s = sub[(sub["family"] == fam) & (sub["weight_sparsity"] == ws)].sort_values("energy_pj_per_token")
                if s.empty:
                    continue
                ax.plot(s["energy_pj_per_token"], s["perplexity"], marker=marker, ls="-" if fam == "DeltaGRU" else "",
                        color=color, ms=7 if fam == "EGRU" else 5, lw=0.8,
                        label=f"{fam} w{ws:.0%}", markeredgecolor="k" if fam == "EGRU" else "none")
        base = sub["baseline_energy_pj_per_token"].dropna()
        if not base.empty:
            ax.axvline(float(base.min()), color="grey", ls=":", lw=1)
            ax.text(float(base.min()), ax.get_ylim()[1], " dense baseline (min)", fontsize=7, va="top",
                    color="grey")
        ax.set_xscale("log")
        ax.set_xlabel("energy per token (pJ)")
        ax.set_ylabel("test perplexity of the traced tokens")
        ax.set_title(f"{arch}: perplexity vs energy", fontsize=9)
        ax.legend(fontsize=6, ncol=2)
    return _save(fig, out_dir, name, pdf)


def matched_figure(t: pd.DataFrame, out_dir: Path, name: str = "families_matched", pdf: bool = False) -> list[Path]:
    """Per chip: energy per token of the EGRU and of the perplexity-matched DeltaGRU (and the
    dense baseline) at each weight sparsity."""
    from accelsim.report.figures import _save, plt

    archs = list(dict.fromkeys(t["arch"]))
    fig, axes = plt.subplots(1, len(archs), figsize=(5.5 * len(archs), 4), squeeze=False)
    for ai, arch in enumerate(archs):
        ax = axes[0][ai]
        s = t[t["arch"] == arch].sort_values("weight_sparsity")
        x = np.arange(len(s))
        w = 0.27
        ax.bar(x - w, s["dense_baseline_energy_pj_per_token"], w, color="#888888", label="dense baseline")
        ax.bar(x, s["egru_energy_pj_per_token"], w, color="#4c72b0", label="EGRU")
        bars = ax.bar(x + w, s["delta_energy_pj_per_token"], w, color="#dd8452", label="DeltaGRU (matched)")
        for b, r in zip(bars, s.itertuples()):
            ax.annotate(("" if r.matched else "not matched\n") + _x(r.delta_vs_egru_energy),
                        (b.get_x() + b.get_width() / 2, b.get_height()), fontsize=7, ha="center", va="bottom")
        ax.set_xticks(x, [f"w{v:.0%}" for v in s["weight_sparsity"]])
        ax.set_yscale("log")
        ax.set_ylabel("energy per token (pJ)")
        ax.set_title(f"{arch}: matched perplexity", fontsize=9)
        ax.legend(fontsize=7)
    return _save(fig, out_dir, name, pdf)


TABLES = {"families": families, "families_matched": families_matched}
FIGURES = {"families": families_figure, "families_matched": matched_figure}
TITLES = {
    "families_matched": "EGRU vs DeltaGRU at matched perplexity: energy per token on each chip",
    "families": "EGRU vs DeltaGRU: perplexity against energy per token, every point",
}
NEEDS = {
    "families": "a part with both EGRU (egru:) and delta-network (delta:) workloads",
    "families_matched": "a part with both EGRU and delta-network workloads at the same weight sparsity",
}
