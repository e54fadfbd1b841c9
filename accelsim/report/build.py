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
from accelsim.report import families as FAM
from accelsim.report import figures as F
from accelsim.sweep.run import load_results
from accelsim.sweep.store import ResultsStore

TITLES = {
    "ablation": "The 2x2 ablation in hardware terms: MACs, cycles and energy per token",
    "ablation_baselines": "The 2x2 ablation against both baselines: the dense design and no-skip",
    "sparsity_grid": "Weight sparsity x activity sparsity: realised speedup and energy reduction vs the ideal",
    "realised_vs_ideal": "Realised vs ideal reduction, every point with a baseline",
    "energy_breakdown": "Energy per token by component",
    "area_breakdown": "Chip area by component",
    "latency": "Latency per token (p50 / p99)",
    "pe_load": "Per-PE load: unstructured vs column-balanced pruning",
    "pareto": "Pareto front: latency, energy per token and area",
    "formats": "Weight formats on the same weights: how much of the metadata penalty is the format's fault",
    **FAM.TITLES,
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


def _span(v: pd.Series, fmt) -> str:
    """``lo–hi`` in ``fmt``, or one value when they print the same."""
    lo, hi = fmt(v.min()), fmt(v.max())
    return lo if lo == hi else f"{lo}–{hi}"


# ----------------------------------------------------------------------------------------------
# the words: what each figure shows, computed from its table


def _kind_words(kind: str) -> str:
    return D.BASELINE_WORDS.get(kind, f"the {kind} baseline")


def _ablation_text(t: pd.DataFrame, tb: pd.DataFrame, df: pd.DataFrame) -> str:
    out = []
    by_key = df.drop_duplicates("key").set_index("key")
    comps = [c for c in df.columns if c.startswith("energy_pj.") and c != "energy_pj.total"
             and pd.api.types.is_numeric_dtype(df[c])]
    for g, sub in t.groupby("group", sort=False):
        r = sub.set_index("design")
        both, w, a, ns = r.loc["both"], r.loc["weight-only"], r.loc["activity-only"], r.loc["no-skip"]
        s = (f"**{g}.** Against no-skip (this hardware, {ns['weight_format']} weights, both skips off): weight "
             f"sparsity alone cuts MACs {_x(w['mac_reduction_vs_no_skip'])}, cycles {_x(w['speedup_vs_no_skip'])} and "
             f"energy {_x(w['energy_reduction_vs_no_skip'])}; activity sparsity alone cuts MACs "
             f"{_x(a['mac_reduction_vs_no_skip'])}, cycles {_x(a['speedup_vs_no_skip'])} and energy "
             f"{_x(a['energy_reduction_vs_no_skip'])}. Together: MACs {_x(both['mac_reduction_vs_no_skip'])}, cycles "
             f"{_x(both['speedup_vs_no_skip'])}, energy per token {_x(both['energy_reduction_vs_no_skip'])}")
        if np.isfinite(both["ideal_reduction"]):
            s += f"; the ideal 1/((1-s_w)(1-s_a)) of this trace is {_x(both['ideal_reduction'])}"
        s += (f". In MACs the two sparsities compose (nearly) multiplicatively ({_x(w['mac_reduction_vs_no_skip'])} x "
              f"{_x(a['mac_reduction_vs_no_skip'])} = {_x(w['mac_reduction_vs_no_skip'] * a['mac_reduction_vs_no_skip'])}, "
              f"measured {_x(both['mac_reduction_vs_no_skip'])}); in hardware they do not: the combined design realises "
              f"{100 * both['speedup_vs_no_skip'] / both['mac_reduction_vs_no_skip']:.0f}% of its MAC reduction in cycles "
              f"and {100 * both['energy_reduction_vs_no_skip'] / both['mac_reduction_vs_no_skip']:.0f}% in energy.")
        if np.isfinite(both["ideal_reduction"]) and both["mac_reduction_vs_no_skip"] < 0.9 * both["ideal_reduction"]:
            s += (" MACs themselves stay short of the ideal because layer 0's input is the dense token "
                  "embedding — every input column is read every step — while the ideal applies the activity "
                  "sparsity to every input.")
        if not tb.empty:
            bd = tb[(tb["group"] == g) & (tb["baseline_kind"] == "dense")].set_index("design")
            if "both" in bd.index:
                st = bd.loc["both", "baseline_weight_storage"]
                where = ("its weights streamed from DRAM: they do not fit the weight SRAM" if st == "dram"
                         else "its weights in the weight SRAM" if st == "sram" else "")
                s += (f" Against the dense design (dense weights, no metadata, no skipping{', ' + where if where else ''}) "
                      f"the combined design is {_x(bd.loc['both', 'speedup'])} faster and "
                      f"{_x(bd.loc['both', 'energy_reduction'])} more energy-efficient, against no-skip "
                      f"{_x(both['speedup_vs_no_skip'])} and {_x(both['energy_reduction_vs_no_skip'])}")
                if "no-skip" in bd.index:
                    x_ns = bd.loc["no-skip"]
                    s += (f"; against the dense design the no-skip corner itself has {_x(x_ns['speedup'])} its speed "
                          f"and {_x(x_ns['energy_reduction'])} its energy efficiency")
                s += "."
        if comps and ns["key"] in by_key.index and both["key"] in by_key.index:
            dn, bt = by_key.loc[ns["key"]], by_key.loc[both["key"]]
            shares = {c.removeprefix("energy_pj."): bt[c] / bt["energy_pj.total"] for c in comps}
            top = max(shares, key=shares.get)
            red = dn[f"energy_pj.{top}"] / bt[f"energy_pj.{top}"] if bt[f"energy_pj.{top}"] else np.inf
            arith = [c for c in ("mac", "accumulator") if f"energy_pj.{c}" in df]
            s += (f" Energy: in the combined design the largest component is {top} "
                  f"({100 * shares[top]:.0f}% of the total), which falls only {_x(red)} from no-skip")
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
                    s += (f" Weight skipping alone changes SRAM read energy by {_x(ratio)}: the no-skip corner "
                          f"reads the same compressed columns and only multiplies every row of them.") if ratio < 1.05 else ""
        out.append(s)
    return "\n\n".join(out)


def _formats_text(t: pd.DataFrame) -> str:
    """How much of the metadata penalty is the format's fault: per set of weights, CSC's metadata
    energy, what the cheapest format saves of it, and what metadata that format still pays."""
    lines, recovered = [], []
    for g, sub in t.groupby("group", sort=False):
        if not sub["reference"].iloc[0]:
            continue
        ref = sub[sub["format"] == sub["reference"].iloc[0]].iloc[0]
        best = sub.loc[sub["energy_pj_per_token"].idxmin()]
        others = sub[sub["format"] != ref["format"]]
        s = (f"- **{g}** ({ref['part']}, {ref['arch']}): with {ref['format']} the metadata reads cost "
             f"{ref['metadata_pj_per_token']:.3g} pJ per token, {100 * ref['metadata_share']:.0f}% of its "
             f"{ref['energy_pj_per_token']:.3g} pJ per token ({ref['metadata_bits_per_token'] / ref['weight_bits_per_token']:.2f} "
             f"metadata bits read per weight-value bit).")
        if len(others):
            s += " Energy per token of " + ref["format"] + " over each other format: " + ", ".join(
                f"{r.format} {r.energy_vs_csc:.2f}x" for r in others.itertuples()) + "."
        if best["format"] == ref["format"]:
            s += (f" No other format run here is cheaper on these weights: none of {ref['format']}'s metadata energy "
                  f"is the format's fault among these formats.")
            recovered.append(0.0)
        else:
            extra = best["macs_per_token"] / ref["macs_per_token"] - 1
            s += (f" The cheapest, {best['format']}, saves {100 * best['csc_metadata_recovered']:.0f}% of "
                  f"{ref['format']}'s metadata energy (net of what it costs elsewhere"
                  + (f", {100 * extra:.1f}% more MACs for its padding / fill entries" if extra > 0.0005 else "")
                  + f"): that share of the metadata penalty is the format's fault. It still spends "
                  f"{best['metadata_pj_per_token']:.3g} pJ per token on metadata, {100 * best['metadata_share']:.0f}% "
                  f"of its energy.")
            recovered.append(float(best["csc_metadata_recovered"]))
        if np.isfinite(ref["energy_reduction_vs_baseline"]) and np.isfinite(best["energy_reduction_vs_baseline"]):
            s += (f" Against {_kind_words(ref['baseline_kind'])} the energy reduction is "
                  f"{_x(ref['energy_reduction_vs_baseline'])} with {ref['format']}"
                  + (f" and {_x(best['energy_reduction_vs_baseline'])} with {best['format']}"
                     if best["format"] != ref["format"] else "")
                  + (f" (ideal {_x(ref['ideal_reduction'])})" if np.isfinite(ref["ideal_reduction"]) else "") + ".")
        lines.append(s)
    if not lines:
        return ""
    head = ("How much of the metadata penalty is the format's fault? Per set of weights, the metadata energy of "
            "CSC with absolute row indices, and how much of it the cheapest format run on the same weights saves")
    if len(recovered) > 1:
        head += (f" (from {100 * min(recovered):.0f}% to {100 * max(recovered):.0f}% over the "
                 f"{len(recovered)} sets of weights)")
    text = head + ":\n\n" + "\n".join(lines)
    skipped = D.nm_not_run(t)
    if not skipped.empty:
        n = skipped.groupby("pruning", sort=False)["group"].count()
        desc = ", ".join(f"{p or 'pruning not recorded'}: {k}" for p, k in n.items())
        text += (f"\n\nN:M (`nm`) is not run on the other {len(skipped)} set(s) of weights ({desc}): they are not "
                 f"N:M-pruned, and N:M stores only weights with at most N nonzeros in every group of M rows.")
    return text


def _why_text(stalls: pd.DataFrame, pe: pd.DataFrame, breakdown: pd.DataFrame, grid: pd.DataFrame,
              real: pd.DataFrame, area: pd.DataFrame | None = None) -> str:
    area = pd.DataFrame() if area is None else area
    lines = []
    causes = [c for c in stalls.columns if c not in ("part", "design", "key", "stall_cycles_per_token")]
    if not grid.empty:
        worst = grid.loc[grid["realised_fraction_of_ideal"].idxmin()]
        best = grid.loc[grid["realised_fraction_of_ideal"].idxmax()]
        kinds = " and ".join(f"the {k}" for k in dict.fromkeys(grid["baseline_kind"]))
        lines.append(f"- Across the sparsity grid (vs {kinds} baseline) the realised speedup is "
                     f"{100 * best['realised_fraction_of_ideal']:.0f}% "
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
        for (part, arch, kind), sub in real.groupby(["part", "arch", "baseline_kind"], sort=False):
            if not grid.empty and sub["key"].isin(grid["key"]).all():
                continue  # the sparsity grid, described above
            pc = lambda v: f"{100 * v:.0f}"  # noqa: E731
            lines.append(f"- {part}, {arch} (vs the {kind} baseline): the realised speedup is "
                         f"{_span(sub['speedup_share_of_ideal'], pc)}% of "
                         + ("each trace's" if sub["ideal_reduction"].nunique() > 1 else "the trace's") + " ideal (ideal "
                         f"{_span(sub['ideal_reduction'], _x)}, realised {_span(sub['speedup_vs_dense'], _x)}) and the "
                         f"energy reduction {_span(sub['energy_share_of_ideal'], pc)}%.")
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
    if not area.empty:
        comps = [c for c in area.columns if c not in ("part", "design", "key", "total")]
        share = (area[comps].div(area["total"], axis=0)).mean().sort_values(ascending=False)
        lines.append(f"- Area by component (mean share over the designs of the area figure; totals "
                     f"{area['total'].min():.3g} to {area['total'].max():.3g} mm^2): "
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
        summary.append(_ablation_text(T["ablation"], T["ablation_baselines"], df))
    if not T["formats"].empty:
        ft = _formats_text(T["formats"])
        if ft:
            summary.append(ft)
    if not T["pareto"].empty:
        summary.append(_pareto_text(T["pareto"]))
    if not T["families_matched"].empty:
        summary.append(FAM.families_text(T["families_matched"], T["families"]))
    why = _why_text(T["stalls"], T["pe_load"], T["energy_breakdown"], T["sparsity_grid"], T["realised_vs_ideal"],
                    T["area_breakdown"])
    if why:
        summary.append("Where the hardware falls short of the ideal, and why:\n\n" + why)
    md.append("\n\n".join(summary) if summary else "(no figure has the data it needs)")

    for name, title in TITLES.items():
        t = T.get(name, pd.DataFrame())
        if t.empty and name in FAM.TITLES and not FAM.families(df).shape[0]:
            continue  # no EGRU-vs-delta part at all: nothing to say about it
        md += ["", f"## {title}", ""]
        if t.empty:
            md.append(f"_Not drawn: the results hold no points for it ({_needs(name)})._")
            continue
        cap = _caption(name, t)
        if cap:
            md += [cap, ""]
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


def _pareto_text(p: pd.DataFrame) -> str:
    lines = []
    for g, sub in p.groupby("group", sort=False):
        front = sub[sub["on_front"]].sort_values("latency_us_mean")
        items = [f"{r.design} ({r.latency_us_mean:,.1f} us, {r.energy_pj_per_token:.3g} pJ per token"
                 + (f", {r.area_mm2:.3g} mm^2" if np.isfinite(r.area_mm2) else "")
                 + (f", perplexity {r.perplexity:.1f}" if np.isfinite(r.perplexity) else "") + ")"
                 for r in front.itertuples()]
        s = (f"- {g} (objectives: {sub['objectives'].iloc[0]}): {len(front)} of {len(sub)} designs are on the front: "
             + "; ".join(items) + ".")
        if sub["perf_per_mm2"].notna().any():
            a = sub.loc[sub["perf_per_mm2"].idxmax()]
            s += f" Most tokens/s per mm^2: {a['design']} ({a['perf_per_mm2']:,.0f})"
            if sub["perf_per_watt"].notna().any():
                w = sub.loc[sub["perf_per_watt"].idxmax()]
                s += f"; most tokens/s per W: {w['design']} ({w['perf_per_watt']:.3g})"
            s += "."
        lines.append(s)
    return "Pareto fronts (latency, energy per token and area; perplexity too where models are compared):\n\n" + "\n".join(lines)


def _kinds_caption(kinds) -> str:
    kinds = [k for k in dict.fromkeys(kinds) if isinstance(k, str)]
    if not kinds:
        return ""
    return ("Speedups and energy reductions on this figure are vs " + "; ".join(
        f"`{k}`: {_kind_words(k)}" for k in kinds) + ".")


def _caption(name: str, t: pd.DataFrame) -> str:
    """The line under a figure's title that says which baseline its ratios are against."""
    if name == "ablation":
        return ("Every reduction here (`*_vs_no_skip`) is vs the group's no-skip corner: "
                + D.BASELINE_WORDS["no-skip"] + "." + (" The `dense design` row is the dense baseline's own run "
                "(from the points run against it), shown for reference." if (t["design"] == D.DENSE_DESIGN).any() else "")
                + " Against both baselines: the next figure.")
    if name == "ablation_baselines":
        return (_kinds_caption(t["baseline_kind"]) + " `source`: `baseline run` = the engine's figures of a point run "
                "against that baseline; `no-skip corner` = the ratio to the group's own no-skip design (the no-skip "
                "baseline's design) where no point was run against that baseline.")
    if name in ("sparsity_grid", "realised_vs_ideal"):
        return _kinds_caption(t["baseline_kind"])
    if name == "formats":
        cap = ("`energy_vs_csc` = the reference's (CSC with the widest indices) energy per token / this format's; "
               "`csc_metadata_recovered` = (the reference's energy - this format's) / the reference's metadata "
               "energy (`energy_pj.sram_metadata`: index, run, position and bitmap words and column pointers read "
               "on chip).")
        kinds = _kinds_caption(t["baseline_kind"].dropna())
        if kinds:
            cap += " `speedup_vs_baseline` / `energy_reduction_vs_baseline`: " + kinds[0].lower() + kinds[1:]
        skipped = D.nm_not_run(t)
        if not skipped.empty:
            cap += (f" N:M is not run on the {len(skipped)} set(s) of weights pruned "
                    + ", ".join(p or "(pruning not recorded)" for p in dict.fromkeys(skipped["pruning"]))
                    + ": they are not N:M-structured.")
        return cap
    if name == "pareto":
        return ("`on_front`: not dominated on the group's `objectives`. `tokens_per_s` = tokens / run time; "
                "`power_w` = energy per token x tokens/s; `perf_per_mm2` = tokens/s per mm^2 of `area_mm2`; "
                "`perf_per_watt` = tokens/s per W (tokens per joule).")
    if name == "area_breakdown":
        return ("`area_mm2` by component, from the energy table's area section (what each component counts: "
                "docs/architecture.md, Area).")
    return ""


def _needs(name: str) -> str:
    return {
        "ablation": "all four of skip_weights x skip_activity on the same hardware and trace",
        "ablation_baselines": "all four of skip_weights x skip_activity on the same hardware and trace",
        "sparsity_grid": "runs with baseline: true over at least 2 weight x 2 activity sparsities",
        "realised_vs_ideal": "runs with baseline: true and both skips on",
        "pe_load": "an axis workload.pruning with at least two patterns",
        "pareto": "at least four designs on one trace varying more than the skip flags or the weight format",
        "latency": "latency figures in the results",
        "energy_breakdown": "energy figures in the results",
        "area_breakdown": "area figures (area_mm2) in the results",
        "formats": "a part whose axes vary weight_format (and only the format's parameters and the workload)",
        **FAM.NEEDS,
    }.get(name, "")


def main_command() -> str:
    return "python -m accelsim " + " ".join(shlex.quote(a) for a in sys.argv[1:])
