"""Matplotlib figures, each drawn from one table of ``accelsim.report.data`` and nothing else.

Every function takes that table, writes ``<name>.png`` (and ``.pdf`` when asked) into ``out_dir``
and returns the paths written. The Agg backend is used: no display needed.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from accelsim.report.data import ABLATION, BASELINE_KINDS, DENSE_DESIGN, heatmap_matrix  # noqa: E402

DPI = 130


def _save(fig, out_dir: Path, name: str, pdf: bool) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.png"]
    fig.savefig(paths[0], dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    if pdf:
        paths.append(out_dir / f"{name}.pdf")
        fig.savefig(paths[1], bbox_inches="tight", metadata={"Creator": None, "Producer": None, "CreationDate": None})
    plt.close(fig)
    return paths


def _short(s: str, n: int = 38) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


ABLATION_COLORS = {DENSE_DESIGN: "#333333", "no-skip": "#888888", "weight-only": "#4c72b0",
                   "activity-only": "#dd8452", "both": "#55a868"}


def ablation_figure(t: pd.DataFrame, out_dir: Path, name: str = "ablation", pdf: bool = False) -> list[Path]:
    """Per group: bars of MACs, cycles and energy per token for the four designs of the 2x2 (and
    the dense design when the group was run against it; log scale), the reduction vs the no-skip
    corner written on each bar."""
    groups = list(dict.fromkeys(t["group"]))
    metrics = [("macs_per_token", "mac_reduction_vs_no_skip", "MACs / token"),
               ("cycles_per_token", "speedup_vs_no_skip", "cycles / token"),
               ("energy_pj_per_token", "energy_reduction_vs_no_skip", "energy / token (pJ)")]
    fig, axes = plt.subplots(len(groups), 3, figsize=(13, 3.6 * len(groups)), squeeze=False)
    for gi, g in enumerate(groups):
        rows = t[t["group"] == g].set_index("design")
        rows = rows.loc[[d for d in [DENSE_DESIGN] + [d for d, _, _ in ABLATION] if d in rows.index]]
        for mi, (col, red, title) in enumerate(metrics):
            ax = axes[gi][mi]
            bars = ax.bar(rows.index, rows[col], color=[ABLATION_COLORS[d] for d in rows.index])
            ax.set_yscale("log")
            ax.set_title(f"{title}\n{_short(g)}", fontsize=9)
            ax.tick_params(axis="x", labelsize=7, rotation=20)
            for b, r in zip(bars, rows[red]):
                ax.annotate(f"{r:.2g}x", (b.get_x() + b.get_width() / 2, b.get_height()), ha="center",
                            va="bottom", fontsize=7)
            ideal = rows.loc["both", "ideal_reduction"]
            if np.isfinite(ideal):
                ax.axhline(rows.loc["no-skip", col] / ideal, color="k", ls=":", lw=1,
                           label=f"no-skip / ideal {ideal:.1f}x")
                ax.legend(fontsize=7, loc="upper right")
    fig.suptitle("2x2 ablation: reduction vs the no-skip corner (same hardware, both skips off) on each bar", y=1.0)
    fig.tight_layout()
    return _save(fig, out_dir, name, pdf)


def ablation_baselines_figure(t: pd.DataFrame, out_dir: Path, name: str = "ablation_baselines",
                              pdf: bool = False) -> list[Path]:
    """Per group: the speedup and the energy reduction of each design of the 2x2 vs each baseline
    kind (bars side by side, value on each), the combined design's ideal as a dotted line."""
    groups = list(dict.fromkeys(t["group"]))
    kinds = [k for k in BASELINE_KINDS if (t["baseline_kind"] == k).any()]
    designs = [d for d, _, _ in ABLATION]
    fig, axes = plt.subplots(len(groups), 2, figsize=(12, 3.8 * len(groups)), squeeze=False)
    colors = {"dense": "#333333", "no-skip": "#aaaaaa"}
    w = 0.8 / max(len(kinds), 1)
    for gi, g in enumerate(groups):
        sub = t[t["group"] == g]
        for mi, (col, title) in enumerate((("speedup", "speedup"), ("energy_reduction", "energy reduction"))):
            ax = axes[gi][mi]
            x = np.arange(len(designs))
            for ki, k in enumerate(kinds):
                v = sub[sub["baseline_kind"] == k].set_index("design").reindex(designs)[col].to_numpy(float)
                bars = ax.bar(x + ki * w, v, width=w, color=colors.get(k, "#777777"), label=f"vs {k}")
                for b, val in zip(bars, v):
                    if np.isfinite(val):
                        ax.annotate(f"{val:.2g}x", (b.get_x() + b.get_width() / 2, val), ha="center",
                                    va="bottom", fontsize=7)
            ideal = sub["ideal_reduction"].dropna()
            if len(ideal):
                ax.axhline(float(ideal.iloc[0]), color="k", ls=":", lw=1, label=f"ideal {float(ideal.iloc[0]):.1f}x")
            ax.axhline(1.0, color="k", lw=0.6)
            ax.set_yscale("log")
            ax.set_xticks(x + w * (len(kinds) - 1) / 2, designs, fontsize=8)
            ax.set_title(f"{title} vs each baseline kind\n{_short(g, 50)}", fontsize=9)
            ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, out_dir, name, pdf)


def sparsity_heatmaps(t: pd.DataFrame, out_dir: Path, name: str = "sparsity_heatmaps", pdf: bool = False) -> list[Path]:
    """Realised speedup and energy reduction over (weight, activity) sparsity, ideal as contours."""
    groups = list(dict.fromkeys(t["group"]))
    fig, axes = plt.subplots(len(groups), 2, figsize=(11, 4.4 * len(groups)), squeeze=False)
    for gi, g in enumerate(groups):
        sub = t[t["group"] == g]
        kind = sub["baseline_kind"].iloc[0] if "baseline_kind" in sub else "dense"
        for mi, (col, title) in enumerate((("speedup_vs_dense", f"realised speedup vs the {kind} baseline"),
                                           ("energy_reduction_vs_dense",
                                            f"realised energy reduction vs the {kind} baseline"))):
            ax = axes[gi][mi]
            m = heatmap_matrix(sub, col)
            ws, as_ = m.columns.to_numpy(float), m.index.to_numpy(float)
            im = ax.imshow(m.to_numpy(float), origin="lower", aspect="auto", cmap="viridis",
                           extent=(-0.5, len(ws) - 0.5, -0.5, len(as_) - 0.5))
            for i in range(len(as_)):
                for j in range(len(ws)):
                    v = m.iat[i, j]
                    if np.isfinite(v):
                        ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=8, color="w")
            # the ideal 1/((1-ws)(1-as)) as contours, on the same (index) coordinates
            gx, gy = np.meshgrid(np.linspace(0, len(ws) - 1, 60), np.linspace(0, len(as_) - 1, 60))
            wsi = np.interp(gx, np.arange(len(ws)), ws)
            asi = np.interp(gy, np.arange(len(as_)), as_)
            ideal = 1.0 / ((1 - wsi) * (1 - asi))
            levels = [l for l in (2, 4, 8, 16, 32, 64, 128) if ideal.min() < l < ideal.max()]
            if levels:
                cs = ax.contour(gx, gy, ideal, levels=levels, colors="white", linewidths=1, linestyles="--")
                ax.clabel(cs, fmt=lambda v: f"ideal {v:g}x", fontsize=7)
            ax.set_xticks(range(len(ws)), [f"{v:g}" for v in ws])
            ax.set_yticks(range(len(as_)), [f"{v:g}" for v in as_])
            ax.set_xlabel("weight sparsity")
            ax.set_ylabel("activity sparsity")
            ax.set_title(f"{title}\n{_short(g, 50)}", fontsize=9)
            fig.colorbar(im, ax=ax, shrink=0.8)
    return _save(fig, out_dir, name, pdf)


def realised_vs_ideal_figure(t: pd.DataFrame, out_dir: Path, name: str = "realised_vs_ideal",
                             pdf: bool = False) -> list[Path]:
    """Realised speedup and energy reduction against the ideal 1/((1-s_w)(1-s_a)); y = x is ideal.
    One colour per part; the marker says the baseline kind (o: dense design, x: no-skip)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    kinds = t["baseline_kind"] if "baseline_kind" in t else pd.Series("dense", t.index)
    sets = list(dict.fromkeys(zip(t["part"], kinds)))
    for ax, col, title in ((axes[0], "speedup_vs_dense", "realised speedup vs the baseline"),
                           (axes[1], "energy_reduction_vs_dense", "realised energy reduction vs the baseline")):
        for pi, (p, k) in enumerate(sets):
            sub = t[(t["part"] == p) & (kinds == k)]
            ax.scatter(sub["ideal_reduction"], sub[col], s=28, color=plt.get_cmap("tab20")(pi % 20),
                       marker="x" if k == "no-skip" else "o", label=f"{p} (vs {k})")
        lo = float(min(t["ideal_reduction"].min(), t[col].min())) * 0.8
        hi = float(t["ideal_reduction"].max()) * 1.25
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="ideal (y = x)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("ideal reduction 1/((1-s_w)(1-s_a)) of the trace")
        ax.set_ylabel(title)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=6)
    return _save(fig, out_dir, name, pdf)


def _part_axes(t: pd.DataFrame, width: float = 11.0):
    """One horizontal-bar axis per part, heights proportional to the number of designs."""
    parts = list(dict.fromkeys(t["part"]))
    sizes = [int((t["part"] == p).sum()) for p in parts]
    fig, axes = plt.subplots(len(parts), 1, figsize=(width, 1.2 + 0.32 * sum(sizes) + 0.9 * len(parts)),
                             gridspec_kw={"height_ratios": [max(s, 2) for s in sizes]}, squeeze=False)
    return fig, [(p, t[t["part"] == p], axes[i][0]) for i, p in enumerate(parts)]


def _stacked_bars(t: pd.DataFrame, cmap: str, n_colors: int, value):
    """Per part, one horizontal bar per design stacked over the components (``value(sub, c)``
    gives component ``c``'s lengths). Returns the figure, the components and, per part, its
    rows, axis and bar positions, for the caller's labels."""
    comps = [c for c in t.columns if c not in ("part", "design", "key", "total")]
    fig, panels = _part_axes(t)
    colors = plt.get_cmap(cmap)
    out = []
    for pi, (p, sub, ax) in enumerate(panels):
        y = np.arange(len(sub))[::-1]
        left = np.zeros(len(sub))
        for ci, c in enumerate(comps):
            v = value(sub, c)
            ax.barh(y, v, left=left, color=colors(ci % n_colors), label=c if pi == 0 else None)
            left += v
        ax.set_yticks(y, list(sub["design"]), fontsize=7)
        out.append((p, sub, ax, y))
    return fig, comps, out


def energy_breakdown_figure(t: pd.DataFrame, out_dir: Path, name: str = "energy_breakdown", pdf: bool = False) -> list[Path]:
    """Per design, each component's share of the energy per token (stacked to 100%), the total
    written at the end of the bar (designs differ by orders of magnitude, shares do not hide that)."""
    share = lambda sub, c: sub[c].to_numpy(float) / sub["total"].to_numpy(float)
    fig, comps, panels = _stacked_bars(t, "tab20", 20, share)
    for p, sub, ax, y in panels:
        for yi, tot in zip(y, sub["total"]):
            ax.text(1.01, yi, f"{tot:.3g} pJ/token", va="center", fontsize=7)
        ax.set_xlim(0, 1.18)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "25%", "50%", "75%", "100%"])
        ax.set_title(f"energy per token by component (share of total): {p}", fontsize=9)
    fig.legend(loc="upper center", ncol=min(len(comps), 9), fontsize=7, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return _save(fig, out_dir, name, pdf)


def area_breakdown_figure(t: pd.DataFrame, out_dir: Path, name: str = "area_breakdown", pdf: bool = False) -> list[Path]:
    """Per design, the chip's area by component in mm^2 (stacked), the total at the end of the bar."""
    fig, comps, panels = _stacked_bars(t, "tab10", 10, lambda sub, c: sub[c].to_numpy(float))
    for p, sub, ax, y in panels:
        top = float(sub["total"].max())
        for yi, tot in zip(y, sub["total"]):
            ax.text(tot + 0.01 * top, yi, f"{tot:.3g} mm²", va="center", fontsize=7)
        ax.set_xlim(0, top * 1.2)
        ax.set_xlabel("area (mm²)", fontsize=8)
        ax.set_title(f"chip area by component: {p}", fontsize=9)
    fig.legend(loc="upper center", ncol=min(len(comps), 8), fontsize=7, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return _save(fig, out_dir, name, pdf)


def latency_figure(t: pd.DataFrame, out_dir: Path, name: str = "latency", pdf: bool = False) -> list[Path]:
    fig, panels = _part_axes(t)
    for pi, (p, sub, ax) in enumerate(panels):
        y = np.arange(len(sub))[::-1]
        ax.barh(y + 0.2, sub["latency_us_p50"], height=0.4, color="#4c72b0", label="p50" if pi == 0 else None)
        ax.barh(y - 0.2, sub["latency_us_p99"], height=0.4, color="#dd8452", label="p99" if pi == 0 else None)
        ax.set_yticks(y, list(sub["design"]), fontsize=7)
        lo, hi = float(sub["latency_us_p50"].min()), float(sub["latency_us_p99"].max())
        if hi > 20 * lo:  # orders of magnitude apart: log scale (bars start at a decade below)
            ax.set_xscale("log")
            ax.set_xlim(left=10 ** np.floor(np.log10(lo)))
        ax.set_xlabel("latency per token (us)", fontsize=8)
        ax.set_title(f"latency per token, p50 and p99: {p}", fontsize=9)
    fig.legend(loc="upper center", ncol=2, fontsize=8, bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return _save(fig, out_dir, name, pdf)


def pe_load_figure(t: pd.DataFrame, out_dir: Path, name: str = "pe_load", pdf: bool = False) -> list[Path]:
    if t["part"].nunique() > 1:  # settings of different parts side by side: say which part
        t = t.assign(setting=t["part"].astype(str) + ": " + t["setting"].astype(str))
    settings = list(dict.fromkeys(t["setting"]))
    prunings = list(dict.fromkeys(t["pruning"]))
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    x = np.arange(len(settings))
    w = 0.8 / len(prunings)
    for i, pr in enumerate(prunings):
        num = ["imbalance", "load_imbalance_lost_cycles_per_token", "bank_conflict_lost_cycles_per_token",
               "cycles_per_token"]
        sub = t[t["pruning"] == pr].groupby("setting", sort=False)[num].mean().reindex(settings)
        stalls = sub["load_imbalance_lost_cycles_per_token"].fillna(0) + sub["bank_conflict_lost_cycles_per_token"].fillna(0)
        axes[0].bar(x + i * w, sub["imbalance"], width=w, label=pr)
        axes[1].bar(x + i * w, stalls, width=w, label=pr)
        axes[2].bar(x + i * w, sub["cycles_per_token"], width=w, label=pr)
    titles = ("busiest / mean PE work, summed over layers (1 = balanced)",
              "lost work: load-imbalance + bank-conflict cycles / token", "cycles per token")
    for ax, title in zip(axes, titles):
        ax.set_xticks(x + 0.4 - w / 2, [_short(s, 36) for s in settings], rotation=30, ha="right", fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=8)
    axes[0].set_ylim(bottom=min(0.98, float(np.nanmin(t["imbalance"])) - 0.01))
    axes[0].axhline(1.0, color="k", lw=0.8, ls=":")
    return _save(fig, out_dir, name, pdf)


def pareto_figure(t: pd.DataFrame, out_dir: Path, name: str = "pareto", pdf: bool = False) -> list[Path]:
    """Per comparison group: energy per token vs mean latency (top) and vs chip area (bottom);
    the designs on the front (over every objective of the group) have a black edge and a label.
    Colour: perplexity where the group compares models, else the architecture."""
    groups = list(dict.fromkeys(t["group"]))
    has_area = bool(t["area_mm2"].notna().any()) if "area_mm2" in t else False
    rows = 2 if has_area else 1
    fig, axes = plt.subplots(rows, len(groups), figsize=(6.5 * len(groups), 5 * rows), squeeze=False)
    for pi, p in enumerate(groups):
        sub = t[t["group"] == p]
        has_ppl = sub["perplexity"].notna().all() and sub["perplexity"].nunique() > 1
        xs = [("latency_us_mean", "latency per token, mean (us)")]
        if has_area:
            xs.append(("area_mm2", "chip area (mm²)"))
        for ri, (xcol, xlabel) in enumerate(xs):
            ax = axes[ri][pi]
            s = sub[sub[xcol].notna()]
            if has_ppl:
                lo, hi = float(sub["perplexity"].min()), float(sub["perplexity"].max())
                for ai, (arch, a) in enumerate(s.groupby("arch", sort=False)):
                    sc = ax.scatter(a[xcol], a["energy_pj_per_token"], c=a["perplexity"], cmap="plasma",
                                    vmin=lo, vmax=hi, marker="os^Dv"[ai % 5], s=np.where(a["on_front"], 70, 30),
                                    edgecolors=np.where(a["on_front"], "k", "none"), label=arch)
                fig.colorbar(sc, ax=ax, label="perplexity")
            else:
                for ai, (arch, a) in enumerate(s.groupby("arch", sort=False)):
                    ax.scatter(a[xcol], a["energy_pj_per_token"], s=np.where(a["on_front"], 70, 30),
                               color=plt.get_cmap("tab10")(ai), edgecolors=np.where(a["on_front"], "k", "none"),
                               label=arch)
            ax.legend(fontsize=8, title="front: black edge", title_fontsize=7)
            # labels: the front's designs that are also best in this panel's two figures (the rest
            # of the front, kept for its other objectives, is marked but not labelled)
            v = s[[xcol, "energy_pj_per_token"]].to_numpy(float)
            placed: list[np.ndarray] = []
            for i, (_, r) in enumerate(s.iterrows()):
                if r["on_front"] and not np.any(np.all(v <= v[i], axis=1) & np.any(v < v[i], axis=1)):
                    at = np.log10(np.maximum(v[i], 1e-300))
                    if any(np.all(np.abs(at - q) < 0.03) for q in placed):
                        continue  # a label already sits there (designs a hair apart)
                    placed.append(at)
                    ax.annotate(_short(r["design"], 44), (r[xcol], r["energy_pj_per_token"]), fontsize=6,
                                xytext=(3, 3), textcoords="offset points")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel("energy per token (pJ)")
            obj = sub["objectives"].iloc[0] if "objectives" in sub else "latency, energy"
            ax.set_title(f"Pareto front over {obj}: {p}", fontsize=9)
    fig.tight_layout()
    return _save(fig, out_dir, name, pdf)


def formats_figure(t: pd.DataFrame, out_dir: Path, name: str = "formats", pdf: bool = False) -> list[Path]:
    """Per group (one set of weights on one design), each format's energy per token (metadata
    reads hatched), cycles per token and stored weight bytes, relative to the group's reference
    (CSC with the widest indices; the group's first format when it has no CSC)."""
    groups = list(dict.fromkeys(t["group"]))
    fmts = list(dict.fromkeys(t["format"]))
    fig, axes = plt.subplots(3, 1, figsize=(max(10, 1.3 * len(groups) * max(len(fmts), 3) / 3 + 3), 11), squeeze=False)
    x = np.arange(len(groups))
    w = 0.8 / len(fmts)
    cmap = plt.get_cmap("tab10")
    panels = (("energy_pj_per_token", "energy per token"), ("cycles_per_token", "cycles per token"),
              ("weight_bytes_stored", "stored weight bytes"))
    for mi, (col, title) in enumerate(panels):
        ax = axes[mi][0]
        for fi, f in enumerate(fmts):
            vals, metas = [], []
            for g in groups:
                sub = t[t["group"] == g]
                ref = sub[sub["format"] == sub["reference"].iloc[0]] if sub["reference"].iloc[0] else sub.head(1)
                ref = ref.iloc[0]
                row = sub[sub["format"] == f]
                if row.empty:
                    vals.append(np.nan)
                    metas.append(np.nan)
                    continue
                r = row.iloc[0]
                vals.append(r[col] / ref[col])
                metas.append(r["metadata_pj_per_token"] / ref[col] if col == "energy_pj_per_token" else np.nan)
            vals, metas = np.asarray(vals, float), np.asarray(metas, float)
            ax.bar(x + fi * w, vals, width=w, color=cmap(fi % 10), label=f)
            if col == "energy_pj_per_token":
                ax.bar(x + fi * w, metas, width=w, color="none", edgecolor="k", hatch="///", lw=0.5,
                       label="metadata reads" if fi == 0 else None)
            for xi, v in zip(x + fi * w, vals):
                if not np.isfinite(v):
                    ax.text(xi, 0.02, "n/a", ha="center", va="bottom", fontsize=6, rotation=90)
        ax.axhline(1.0, color="k", lw=0.6, ls=":")
        ax.set_xticks(x + 0.4 - w / 2, [_short(g, 40) for g in groups], rotation=20, ha="right", fontsize=7)
        ax.set_ylabel(f"{title}\n/ the reference (csc)", fontsize=8)
        ax.set_title(f"{title} by weight format, relative to CSC on the same weights", fontsize=9)
        ax.legend(fontsize=7, ncol=min(len(fmts) + 1, 6))
    fig.tight_layout()
    return _save(fig, out_dir, name, pdf)


FIGURES = {
    "ablation": ablation_figure,
    "ablation_baselines": ablation_baselines_figure,
    "sparsity_grid": sparsity_heatmaps,
    "realised_vs_ideal": realised_vs_ideal_figure,
    "energy_breakdown": energy_breakdown_figure,
    "area_breakdown": area_breakdown_figure,
    "latency": latency_figure,
    "pe_load": pe_load_figure,
    "pareto": pareto_figure,
    "formats": formats_figure,
}

from accelsim.report import families as _families  # noqa: E402  (EGRU vs DeltaGRU)

FIGURES.update(_families.FIGURES)
