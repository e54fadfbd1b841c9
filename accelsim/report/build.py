"""``accelsim report``: stored sweep results -> figures + ``report.md`` with the numbers behind them.

The report reads only the results store(s); it never simulates. Each figure is drawn from one
table of :mod:`accelsim.report.data`; the same table is printed under the figure and written as
CSV to ``data/<figure>.csv``, so every number in a figure can be checked.
"""

from __future__ import annotations

import math
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from accelsim.errors import InputError
from accelsim.io import check_output_dir, write_output_text
from accelsim.report import data as D
from accelsim.report import figures as F
from accelsim.sweep.run import load_results
from accelsim.sweep.store import ResultsStore

TITLES = {
    "ablation": "The 2x2 ablation in hardware terms: MACs, cycles and energy per token",
    "sparsity_grid": "Weight sparsity x activity sparsity: realised speedup and energy reduction vs the ideal",
    "realised_vs_ideal": "Realised vs ideal reduction, every point with a dense baseline",
    "energy_breakdown": "Energy per token by component",
    "latency": "Latency per token (p50 / p99)",
    "pe_load": "Per-PE load: unstructured vs column-balanced pruning",
    "pareto": "Pareto front: energy per token vs latency",
}


@dataclass
class Report:
    out_dir: Path
    results: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, list[Path]] = field(default_factory=dict)
    markdown: Path | None = None


def load_many(results: list[str | Path]) -> tuple[pd.DataFrame, list[dict]]:
    frames, sweeps = [], []
    for r in results:
        r = Path(r)
        if r.is_file() and r.name == "results.sqlite":
            r = r.parent
        if not r.exists():
            raise InputError(f"{r}: no such results folder (run `accelsim sweep SPEC --out {r}` first)")
        with ResultsStore(r, create=False) as st:
            meta = dict(st.meta)
        df = load_results(r)
        name = meta.get("name", r.name)
        if not df.empty:
            df.insert(0, "sweep", name)
        frames.append(df)
        sweeps.append({"name": name, "folder": str(r), "spec": meta.get("spec_path", ""),
                       "points": len(df), "ok": int((df["status"] == "ok").sum()) if len(df) else 0,
                       "failed": int((df["status"] == "error").sum()) if len(df) else 0})
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if df.empty or (df["status"] == "ok").sum() == 0:
        raise InputError(f"{', '.join(str(r) for r in results)}: no successful points to report on")
    if "sweep" in df and df["sweep"].nunique() > 1:  # keep parts apart across sweeps
        df["part"] = df["sweep"].astype(str) + "/" + df["part"].astype(str)
    return df, sweeps


def _md_table(t: pd.DataFrame, max_rows: int = 40) -> str:
    t = t.drop(columns=[c for c in ("key",) if c in t])
    if len(t) > max_rows:
        t = t.head(max_rows)
    def cell(v):
        if v is None:
            return "–"
        if isinstance(v, (float, np.floating)):
            if not math.isfinite(v):
                return "–"
            a = abs(v)
            return f"{v:.3g}" if (a < 1e-2 or a >= 1e5) and a != 0 else (f"{v:.3f}" if a < 10 else f"{v:,.1f}")
        return str(v).replace("|", "\\|")
    lines = ["| " + " | ".join(map(str, t.columns)) + " |", "|" + "---|" * len(t.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in t.itertuples(index=False)]
    return "\n".join(lines)


def _x(v: float) -> str:
    return f"{v:.2f}x" if v < 10 else f"{v:.1f}x"


# ----------------------------------------------------------------------------------------------
# the words: what each figure shows, computed from its table


def _ablation_text(t: pd.DataFrame, df: pd.DataFrame) -> str:
    out = []
    by_key = df.drop_duplicates("key").set_index("key")
    comps = [c for c in df.columns if c.startswith("energy_pj.") and c != "energy_pj.total"
             and pd.api.types.is_numeric_dtype(df[c])]
    for g, sub in t.groupby("group", sort=False):
        r = sub.set_index("design")
        both, w, a = r.loc["both"], r.loc["weight-only"], r.loc["activity-only"]
        s = (f"**{g}.** Weight sparsity alone cuts MACs {_x(w['mac_reduction'])}, cycles "
             f"{_x(w['cycle_reduction'])} and energy {_x(w['energy_reduction'])}; activity sparsity alone cuts MACs "
             f"{_x(a['mac_reduction'])}, cycles {_x(a['cycle_reduction'])} and energy {_x(a['energy_reduction'])}. "
             f"Together: MACs {_x(both['mac_reduction'])}, cycles {_x(both['cycle_reduction'])}, energy per token "
             f"{_x(both['energy_reduction'])}")
        if np.isfinite(both["ideal_reduction"]):
            s += f"; the ideal 1/((1-s_w)(1-s_a)) of this trace is {_x(both['ideal_reduction'])}"
        s += (f". In MACs the two sparsities compose (nearly) multiplicatively ({_x(w['mac_reduction'])} x "
              f"{_x(a['mac_reduction'])} = {_x(w['mac_reduction'] * a['mac_reduction'])}, measured "
              f"{_x(both['mac_reduction'])}); in hardware they do not: "
              f"the combined design realises {100 * both['cycle_reduction'] / both['mac_reduction']:.0f}% of its MAC "
              f"reduction in cycles and {100 * both['energy_reduction'] / both['mac_reduction']:.0f}% in energy.")
        if np.isfinite(both["ideal_reduction"]) and both["mac_reduction"] < 0.9 * both["ideal_reduction"]:
            s += (" MACs themselves stay short of the ideal because layer 0's input is the dense token "
                  "embedding — every input column is read every step — while the ideal applies the activity "
                  "sparsity to every input.")
        if comps and r.loc["dense", "key"] in by_key.index and both["key"] in by_key.index:
            dn, bt = by_key.loc[r.loc["dense", "key"]], by_key.loc[both["key"]]
            shares = {c.removeprefix("energy_pj."): bt[c] / bt["energy_pj.total"] for c in comps}
            top = max(shares, key=shares.get)
            red = dn[f"energy_pj.{top}"] / bt[f"energy_pj.{top}"] if bt[f"energy_pj.{top}"] else np.inf
            arith = [c for c in ("mac", "accumulator") if f"energy_pj.{c}" in df]
            s += (f" Energy: in the combined design the largest component is {top} "
                  f"({100 * shares[top]:.0f}% of the total), which falls only {_x(red)} from dense")
            if arith:
                a_d = sum(dn[f"energy_pj.{c}"] for c in arith)
                a_b = sum(bt[f"energy_pj.{c}"] for c in arith)
                s += f", while the arithmetic ({' + '.join(arith)}) falls {_x(a_d / a_b)}"
            s += "."
            wk = r.loc["weight-only", "key"]
            if wk in by_key.index:
                wo = by_key.loc[wk]
                sram = [c for c in comps if c.startswith("energy_pj.sram")]
                if sram:
                    ratio = sum(dn[c] for c in sram) / max(sum(wo[c] for c in sram), 1e-30)
                    s += (f" Weight skipping alone changes SRAM read energy by {_x(ratio)}: the dense baseline "
                          f"reads the same compressed columns and only multiplies every row of them.") if ratio < 1.05 else ""
        out.append(s)
    return "\n\n".join(out)


def _why_text(stalls: pd.DataFrame, pe: pd.DataFrame, breakdown: pd.DataFrame, grid: pd.DataFrame,
              real: pd.DataFrame) -> str:
    lines = []
    causes = [c for c in stalls.columns if c not in ("part", "design", "key", "stall_cycles_per_token")]
    if not grid.empty:
        worst = grid.loc[grid["realised_fraction_of_ideal"].idxmin()]
        best = grid.loc[grid["realised_fraction_of_ideal"].idxmax()]
        lines.append(f"- Across the sparsity grid the realised speedup is {100 * best['realised_fraction_of_ideal']:.0f}% "
                     f"of the ideal at s_w={best['weight_sparsity']:g}, s_a={best['activity_sparsity']:g} "
                     f"({_x(best['speedup_vs_dense'])} of {_x(best['ideal_reduction'])}) but only "
                     f"{100 * worst['realised_fraction_of_ideal']:.0f}% at s_w={worst['weight_sparsity']:g}, "
                     f"s_a={worst['activity_sparsity']:g} ({_x(worst['speedup_vs_dense'])} of "
                     f"{_x(worst['ideal_reduction'])}).")
        if causes:
            st = stalls.set_index("key")
            lo = grid.loc[grid["ideal_reduction"].idxmin()]
            hi = grid.loc[grid["ideal_reduction"].idxmax()]
            if lo["key"] in st.index and hi["key"] in st.index:
                a, b = st.loc[lo["key"]], st.loc[hi["key"]]
                top = max(causes, key=lambda c: b[c] - a[c])
                lines.append(f"  The stall mix says why: from the least sparse point (ideal {_x(lo['ideal_reduction'])}) to "
                             f"the sparsest (ideal {_x(hi['ideal_reduction'])}) the share of stall cycles due to "
                             f"{top.replace('_', ' ')} grows from {100 * a[top]:.0f}% to {100 * b[top]:.0f}%, and stall "
                             f"cycles per token fall only {_x(a['stall_cycles_per_token'] / b['stall_cycles_per_token'])}: "
                             f"with less work per step, what each step costs regardless of its work dominates.")
        e_frac = (grid["energy_reduction_vs_dense"] / grid["ideal_reduction"]).median()
        lines.append(f"- Energy realises less of the ideal than cycles (median point: {100 * e_frac:.0f}% of the ideal "
                     f"energy reduction, {100 * grid['realised_fraction_of_ideal'].median():.0f}% of the ideal speedup).")
    if not real.empty:
        for (part, arch), sub in real.groupby(["part", "arch"], sort=False):
            if not grid.empty and sub["key"].isin(grid["key"]).all():
                continue  # the sparsity grid, described above
            lines.append(f"- {part}, {arch}: the realised speedup is {100 * sub['speedup_share_of_ideal'].min():.0f}–"
                         f"{100 * sub['speedup_share_of_ideal'].max():.0f}% of each trace's ideal (ideal "
                         f"{_x(sub['ideal_reduction'].min())}–{_x(sub['ideal_reduction'].max())}, realised "
                         f"{_x(sub['speedup_vs_dense'].min())}–{_x(sub['speedup_vs_dense'].max())}) and the energy "
                         f"reduction {100 * sub['energy_share_of_ideal'].min():.0f}–"
                         f"{100 * sub['energy_share_of_ideal'].max():.0f}%.")
    if not stalls.empty and causes:
        mean = stalls[causes].mean().sort_values(ascending=False)
        top = [f"{c.replace('_', ' ')} {100 * v:.0f}%" for c, v in mean.items() if v > 0.005][:5]
        if top:
            lines.append(f"- Stall cycles by cause (summed over units and layers; mean share over the {len(stalls)} designs "
                         f"with both skips on): {', '.join(top)}.")
    for part, ppe in pe.groupby("part", sort=False) if not pe.empty else []:
        parts = []
        for pr, sub in ppe.groupby("pruning", sort=False):
            st = (sub["load_imbalance_lost_cycles_per_token"].fillna(0)
                  + sub["bank_conflict_lost_cycles_per_token"].fillna(0)).mean()
            parts.append(f"{pr}: busiest PE {sub['imbalance'].mean():.3f}x the mean work, {st:,.0f} load-imbalance + "
                         f"bank-conflict cycles of lost work and {sub['cycles_per_token'].mean():,.0f} cycles per token")
        note = ""
        if ppe.groupby("pruning")["workload"].nunique().max() == 1 and ppe["workload"].nunique() > 1:
            note = (" These are different trained models (their activity differs), so the imbalance compares "
                    "the pruning patterns while cycles per token also compare the models.")
        lines.append(f"- Per-PE load, {part} (mean over {ppe['setting'].nunique()} setting(s)): " + "; ".join(parts)
                     + "." + note)
    if not breakdown.empty:
        comps = [c for c in breakdown.columns if c not in ("part", "design", "key", "total")]
        share = (breakdown[comps].div(breakdown["total"], axis=0)).mean().sort_values(ascending=False)
        lines.append("- Energy by component (mean share over the designs of the breakdown figure): "
                     + ", ".join(f"{c} {100 * v:.0f}%" for c, v in share.items() if v >= 0.01) + ".")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# the report folder: what a report owns in it, checked before work and cleared before writing


def _figure_file_stem(name: str) -> str:
    """The file name (without suffix) figure ``name`` is saved under: its function's ``name``."""
    import inspect

    default = inspect.signature(F.FIGURES[name]).parameters["name"].default
    return default if isinstance(default, str) else name


def owned_paths(out_dir: str | Path) -> list[Path]:
    """Every file a report can write in ``out_dir``: ``report.md``, ``figures/<figure>.png`` and
    ``.pdf`` for each figure, ``data/<table>.csv`` for each table. Nothing else in the folder is
    the report's, and nothing else is ever removed."""
    out_dir = Path(out_dir)
    paths = [out_dir / "report.md"]
    for name in F.FIGURES:
        stem = _figure_file_stem(name)
        paths += [out_dir / "figures" / f"{stem}.png", out_dir / "figures" / f"{stem}.pdf"]
    paths += [out_dir / "data" / f"{name}.csv" for name in D.FIGURE_DATA]
    return paths


def check_report_dir(out_dir: str | Path) -> Path:
    """Refuse (one line) a report folder that cannot hold a report, before anything is read: a
    file, an unwritable place, ``figures``/``data`` that are files, or a report file that is a
    folder."""
    out_dir = check_output_dir(out_dir, "--out")
    for sub in ("figures", "data"):
        d = out_dir / sub
        if d.exists() and not d.is_dir():
            raise InputError(f"--out {out_dir}: {d} is a file; the report writes a folder there")
    for p in owned_paths(out_dir):
        if p.is_dir() and not p.is_symlink():
            raise InputError(f"--out {out_dir}: {p} is a folder; the report writes a file there")
    return out_dir


def clear_report_dir(out_dir: str | Path) -> list[Path]:
    """Remove what an earlier report wrote in ``out_dir`` (:func:`owned_paths`), then ``figures/``
    and ``data/`` if that left them empty. Returns the files removed."""
    out_dir = Path(out_dir)
    removed = []
    for p in owned_paths(out_dir):
        if p.is_symlink() or p.is_file():
            p.unlink()
            removed.append(p)
    for sub in ("figures", "data"):
        d = out_dir / sub
        if d.is_dir() and not d.is_symlink() and not any(d.iterdir()):
            d.rmdir()
    return removed


def build_report(results: list[str | Path], out_dir: str | Path, *, pdf: bool = False,
                 command: str | None = None) -> Report:
    """Read the results, then replace the report in ``out_dir``: the files an earlier report
    wrote there are removed first (:func:`clear_report_dir`), so none of its figures remains."""
    out_dir = check_report_dir(out_dir)
    df, sweeps = load_many(results)
    rep = Report(out_dir, df)
    for name, fn in D.FIGURE_DATA.items():
        rep.tables[name] = fn(df)
    try:
        clear_report_dir(out_dir)
    except OSError as e:
        raise InputError(f"--out {out_dir}: cannot remove the earlier report ({e.strerror or e})") from None
    data_dir = out_dir / "data"
    for name, t in rep.tables.items():
        if not t.empty:
            data_dir.mkdir(parents=True, exist_ok=True)
            write_output_text(data_dir / f"{name}.csv", t.to_csv(index=False))
            if name in F.FIGURES:
                rep.figures[name] = F.FIGURES[name](t, out_dir / "figures", pdf=pdf)
    rep.markdown = out_dir / "report.md"
    write_output_text(rep.markdown, _markdown(rep, sweeps, command))
    return rep


def _regenerate_command(sweeps: list[dict], out_dir: Path, command: str | None) -> str:
    steps = []
    for s in sweeps:
        if s["spec"]:
            steps.append(f"python -m accelsim sweep {_rel(s['spec'])} --out {_rel(s['folder'])}")
    steps.append(command or ("python -m accelsim report " + " ".join(_rel(s["folder"]) for s in sweeps)
                             + f" --out {_rel(out_dir)}"))
    return " && ".join(steps)


def _rel(p: str | Path) -> str:
    p = Path(p)
    try:
        return shlex.quote(str(p.resolve().relative_to(Path.cwd().resolve())))
    except ValueError:
        return shlex.quote(str(p))


def _markdown(rep: Report, sweeps: list[dict], command: str | None) -> str:
    df, T = rep.results, rep.tables
    md = ["# accelsim report", "",
          "Regenerate everything on this page (figures, tables, text) with this one command, run from the "
          "repository root:", "", "```", _regenerate_command(sweeps, rep.out_dir, command), "```", ""]
    if "axis.workload.model" in df:
        md += ["The PTB workloads are traced on demand from the shipped models (`workloads/models/`): set "
               "`ACCELSIM_PTB` to your copy of Penn Treebank (the folder holding `ptb.test.txt`) first; "
               "PTB text is never stored in this repository or in any trace.", ""]
    md += [
          "Every number below comes from the results store(s) of the sweep(s) listed here; each figure is drawn "
          "from the table printed under it (also in `data/<figure>.csv`).", "", "## Inputs", ""]
    md.append(_md_table(pd.DataFrame(sweeps)))
    ok = D.ok_rows(df)
    wl = ok.groupby("trace_sha256", sort=False).agg(
        workload=("workload", "first"), tokens=("tokens", "first"),
        weight_sparsity=("trace.weight_sparsity", "first"), activity_sparsity=("trace.activity_sparsity", "first"),
        perplexity=("trace.perplexity", "first"), points=("key", "count")).reset_index()
    wl["trace_sha256"] = wl["trace_sha256"].str[:12]
    wl["tokens"] = wl["tokens"].astype(int)
    wl = wl[["workload", "trace_sha256", "tokens", "weight_sparsity", "activity_sparsity", "perplexity", "points"]]
    md += ["", "Traces (sparsities measured from each trace over the simulated tokens):", "", _md_table(wl, 80)]
    md += ["", "Architectures: " + ", ".join(sorted(ok["arch"].astype(str).unique())) + " (fully resolved configs are "
           "stored with every point; `accelsim config show configs/<arch>.yaml` prints one)."]

    md += ["", "## What the figures show", ""]
    summary = []
    if not T["ablation"].empty:
        summary.append(_ablation_text(T["ablation"], df))
    if not T["pareto"].empty:
        lines = []
        for g, sub in T["pareto"].groupby("group", sort=False):
            front = sub[sub["on_front"]].sort_values("latency_us_mean")
            items = [f"{r.design} ({r.latency_us_mean:,.1f} us, {r.energy_pj_per_token:.3g} pJ per token"
                     + (f", perplexity {r.perplexity:.1f}" if np.isfinite(r.perplexity) else "") + ")"
                     for r in front.itertuples()]
            lines.append(f"- {g}: {len(front)} of {len(sub)} designs are on the front: " + "; ".join(items) + ".")
        summary.append("Pareto fronts (energy per token vs latency):\n\n" + "\n".join(lines))
    why = _why_text(T["stalls"], T["pe_load"], T["energy_breakdown"], T["sparsity_grid"], T["realised_vs_ideal"])
    if why:
        summary.append("Where the hardware falls short of the ideal, and why:\n\n" + why)
    md.append("\n\n".join(summary) if summary else "(no figure has the data it needs)")

    for name, title in TITLES.items():
        md += ["", f"## {title}", ""]
        t = T.get(name, pd.DataFrame())
        if t.empty:
            md.append(f"_Not drawn: the results hold no points for it ({_needs(name)})._")
            continue
        for p in rep.figures.get(name, []):
            if p.suffix == ".png":
                md.append(f"![{title}]({p.relative_to(rep.out_dir).as_posix()})")
        md += ["", _md_table(t)]
        if len(t) > 40:
            md.append(f"\n(first 40 of {len(t)} rows; all in `data/{name}.csv`)")
    if not T["stalls"].empty:
        md += ["", "## Stall cycles by cause (stall cycles per token, and each cause's share of them; both skips on)", "",
               _md_table(T["stalls"])]
    failed = df[df["status"] == "error"]
    md += ["", "## Failed points", ""]
    if failed.empty:
        md.append("None.")
    else:
        labels = pd.concat([D.design_labels(g) for _, g in df.groupby("part", sort=False)]).reindex(failed.index)
        md += ["Points whose simulation stopped with an error, stored with it (they are results too: these "
               "designs do not work as configured).", "",
               _md_table(failed[["part", "workload"]].assign(design=labels, error=failed["error"].str[:200]))]
    return "\n".join(md) + "\n"


def _needs(name: str) -> str:
    return {
        "ablation": "all four of skip_weights x skip_activity on the same hardware and trace",
        "sparsity_grid": "runs with baseline: true over at least 2 weight x 2 activity sparsities",
        "realised_vs_ideal": "runs with baseline: true and both skips on",
        "pe_load": "an axis workload.pruning with at least two patterns",
        "pareto": "at least two designs with both skips on",
        "latency": "latency figures in the results",
        "energy_breakdown": "energy figures in the results",
    }.get(name, "")


def main_command() -> str:
    return "python -m accelsim " + " ".join(shlex.quote(a) for a in sys.argv[1:])
