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

from accelsim.report.data import ABLATION, heatmap_matrix, pareto_front_line  # noqa: E402

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


def ablation_figure(t: pd.DataFrame, out_dir: Path, name: str = "ablation", pdf: bool = False) -> list[Path]:
    """Per group: bars of MACs, cycles and energy per token for the four designs (log scale), the
    reduction vs dense written on each bar."""
    groups = list(dict.fromkeys(t["group"]))
    metrics = [("macs_per_token", "mac_reduction", "MACs / token"),
               ("cycles_per_token", "cycle_reduction", "cycles / token"),
               ("energy_pj_per_token", "energy_reduction", "energy / token (pJ)")]
    fig, axes = plt.subplots(len(groups), 3, figsize=(12, 3.4 * len(groups)), squeeze=False)
    colors = ["#888888", "#4c72b0", "#dd8452", "#55a868"]
    for gi, g in enumerate(groups):
        rows = t[t["group"] == g].set_index("design").loc[[d for d, _, _ in ABLATION]]
        for mi, (col, red, title) in enumerate(metrics):
            ax = axes[gi][mi]
            bars = ax.bar(rows.index, rows[col], color=colors)
            ax.set_yscale("log")
            ax.set_title(f"{title}\n{_short(g)}", fontsize=9)
            ax.tick_params(axis="x", labelsize=8, rotation=20)
            for b, r in zip(bars, rows[red]):
                ax.annotate(f"{r:.1f}x", (b.get_x() + b.get_width() / 2, b.get_height()), ha="center",
                            va="bottom", fontsize=8)
            ideal = rows.loc["both", "ideal_reduction"]
            if np.isfinite(ideal):
                ax.axhline(rows.loc["dense", col] / ideal, color="k", ls=":", lw=1, label=f"dense / ideal {ideal:.1f}x")
                ax.legend(fontsize=7, loc="upper right")
    fig.suptitle("2x2 ablation on the same hardware: reduction vs dense on each bar", y=1.0)
    fig.tight_layout()
    return _save(fig, out_dir, name, pdf)


def sparsity_heatmaps(t: pd.DataFrame, out_dir: Path, name: str = "sparsity_heatmaps", pdf: bool = False) -> list[Path]:
    """Realised speedup and energy reduction over (weight, activity) sparsity, ideal as contours."""
    groups = list(dict.fromkeys(t["group"]))
    fig, axes = plt.subplots(len(groups), 2, figsize=(11, 4.4 * len(groups)), squeeze=False)
    for gi, g in enumerate(groups):
        sub = t[t["group"] == g]
        for mi, (col, title) in enumerate((("speedup_vs_dense", "realised speedup vs dense"),
                                           ("energy_reduction_vs_dense", "realised energy reduction vs dense"))):
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
    """Realised speedup and energy reduction against the ideal 1/((1-s_w)(1-s_a)); y = x is ideal."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    parts = list(dict.fromkeys(t["part"]))
    for ax, col, title in ((axes[0], "speedup_vs_dense", "realised speedup vs dense"),
                           (axes[1], "energy_reduction_vs_dense", "realised energy reduction vs dense")):
        for pi, p in enumerate(parts):
            sub = t[t["part"] == p]
            ax.scatter(sub["ideal_reduction"], sub[col], s=28, color=plt.get_cmap("tab10")(pi), label=p)
        lo = float(min(t["ideal_reduction"].min(), t[col].min())) * 0.8
        hi = float(t["ideal_reduction"].max()) * 1.25
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="ideal (y = x)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("ideal reduction 1/((1-s_w)(1-s_a)) of the trace")
        ax.set_ylabel(title)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    return _save(fig, out_dir, name, pdf)


def _part_axes(t: pd.DataFrame, width: float = 11.0):
    """One horizontal-bar axis per part, heights proportional to the number of designs."""
    parts = list(dict.fromkeys(t["part"]))
    sizes = [int((t["part"] == p).sum()) for p in parts]
    fig, axes = plt.subplots(len(parts), 1, figsize=(width, 1.2 + 0.32 * sum(sizes) + 0.9 * len(parts)),
                             gridspec_kw={"height_ratios": [max(s, 2) for s in sizes]}, squeeze=False)
    return fig, [(p, t[t["part"] == p], axes[i][0]) for i, p in enumerate(parts)]


def energy_breakdown_figure(t: pd.DataFrame, out_dir: Path, name: str = "energy_breakdown", pdf: bool = False) -> list[Path]:
    """Per design, each component's share of the energy per token (stacked to 100%), the total
    written at the end of the bar (designs differ by orders of magnitude, shares do not hide that)."""
    comps = [c for c in t.columns if c not in ("part", "design", "key", "total")]
    fig, panels = _part_axes(t)
    cmap = plt.get_cmap("tab20")
    for pi, (p, sub, ax) in enumerate(panels):
        y = np.arange(len(sub))[::-1]
        left = np.zeros(len(sub))
        for ci, c in enumerate(comps):
            share = sub[c].to_numpy(float) / sub["total"].to_numpy(float)
            ax.barh(y, share, left=left, color=cmap(ci % 20), label=c if pi == 0 else None)
            left += share
        for yi, tot in zip(y, sub["total"]):
            ax.text(1.01, yi, f"{tot:.3g} pJ/token", va="center", fontsize=7)
        ax.set_yticks(y, list(sub["design"]), fontsize=7)
        ax.set_xlim(0, 1.18)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "25%", "50%", "75%", "100%"])
        ax.set_title(f"energy per token by component (share of total): {p}", fontsize=9)
    fig.legend(loc="upper center", ncol=min(len(comps), 9), fontsize=7, bbox_to_anchor=(0.5, 1.0))
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
    parts = list(dict.fromkeys(t["group"]))
    fig, axes = plt.subplots(1, len(parts), figsize=(6.5 * len(parts), 5), squeeze=False)
    for pi, p in enumerate(parts):
        ax = axes[0][pi]
        sub = t[t["group"] == p]
        has_ppl = sub["perplexity"].notna().all() and sub["perplexity"].nunique() > 1
        if has_ppl:
            lo, hi = float(sub["perplexity"].min()), float(sub["perplexity"].max())
            for ai, (arch, a) in enumerate(sub.groupby("arch", sort=False)):
                sc = ax.scatter(a["latency_us_mean"], a["energy_pj_per_token"], c=a["perplexity"], cmap="plasma",
                                vmin=lo, vmax=hi, marker="os^Dv"[ai % 5], s=np.where(a["on_front"], 70, 30),
                                edgecolors=np.where(a["on_front"], "k", "none"), label=arch)
            fig.colorbar(sc, ax=ax, label="perplexity")
            ax.legend(fontsize=8, title="front: black edge", title_fontsize=7)
        else:
            for ai, (arch, a) in enumerate(sub.groupby("arch", sort=False)):
                ax.scatter(a["latency_us_mean"], a["energy_pj_per_token"], s=np.where(a["on_front"], 70, 30),
                           color=plt.get_cmap("tab10")(ai), edgecolors=np.where(a["on_front"], "k", "none"), label=arch)
            ax.legend(fontsize=8, title="front: black edge", title_fontsize=7)
        line = pareto_front_line(sub)
        ax.step(line["latency_us_mean"], line["energy_pj_per_token"], where="post", color="k", lw=1, alpha=0.6)
        for _, r in sub[sub["on_front"]].iterrows():
            ax.annotate(_short(r["design"], 44), (r["latency_us_mean"], r["energy_pj_per_token"]), fontsize=6,
                        xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("latency per token, mean (us)")
        ax.set_ylabel("energy per token (pJ)")
        ax.set_title(f"Pareto front: {p}", fontsize=9)
    return _save(fig, out_dir, name, pdf)


FIGURES = {
    "ablation": ablation_figure,
    "sparsity_grid": sparsity_heatmaps,
    "realised_vs_ideal": realised_vs_ideal_figure,
    "energy_breakdown": energy_breakdown_figure,
    "latency": latency_figure,
    "pe_load": pe_load_figure,
    "pareto": pareto_figure,
}
