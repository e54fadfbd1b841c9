"""`accelsim report`: turn stored sweep results into figures and a markdown report."""

from __future__ import annotations

DESCRIPTION = """\
Read the results of one or more sweeps (folders written by `accelsim sweep --out DIR`) and write
DIR/report.md with matplotlib figures (PNG; PDF too with --pdf) and, under every figure, the table
of numbers it was drawn from (also as DIR/data/<figure>.csv): the 2x2 ablation, weight x activity
sparsity heatmaps against the ideal, energy breakdown, latency p50/p99, per-PE load by pruning
pattern and the Pareto front. Nothing is simulated here. Before writing, the files a report writes
(report.md, figures/<figure>.png and .pdf, data/<figure>.csv) are removed from DIR, so no figure of
an earlier report remains; other files in DIR are left alone. See docs/report.md."""


def register(sub) -> None:
    p = sub.add_parser("report", help="turn sweep results into figures and a markdown report",
                       description=DESCRIPTION)
    p.add_argument("results", nargs="+", metavar="RESULTS", help="sweep results folder(s) (accelsim sweep --out)")
    p.add_argument("--out", metavar="DIR", required=True,
                   help="report folder (created if missing; an earlier report in it is replaced)")
    p.add_argument("--pdf", action="store_true", help="also write each figure as PDF")
    p.set_defaults(func=run)


def run(args) -> int:
    from accelsim.report import build_report
    from accelsim.report.build import check_report_dir

    check_report_dir(args.out)  # before any result is read
    rep = build_report(args.results, args.out, pdf=args.pdf)
    n_fig = sum(1 for paths in rep.figures.values() for p in paths if p.suffix == ".png")
    from accelsim.report.figures import FIGURES

    missing = [k for k in FIGURES if k not in rep.figures]
    print(f"report: {rep.markdown} with {n_fig} figure(s) from {int((rep.results['status'] == 'ok').sum())} points"
          + (f"; not drawn (no data): {', '.join(missing)}" if missing else ""))
    return 0
