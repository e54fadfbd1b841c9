"""`accelsim run`: simulate one design point: config + trace -> cycles, traffic, energy."""

from __future__ import annotations

import sys
import time

from accelsim.errors import InputError


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="simulate one design point: config + trace -> cycles, latency, traffic, energy",
        description="Simulate one accelerator design point on an EGRU activation trace and print "
                    "cycles, latency per token, memory traffic, stalls and energy. Every figure is "
                    "documented in docs/results.md.")
    p.add_argument("config", help="architecture config YAML (e.g. configs/arch_a.yaml)")
    p.add_argument("--trace", required=True, help="trace .npz (see docs/trace-format.md)")
    p.add_argument("--tokens", type=int, default=None, help="simulate only the first N tokens")
    p.add_argument("--out", help="write the full result as JSON to this file (an existing file is "
                                 "replaced whole; a device or pipe such as /dev/stdout is written into)")
    p.add_argument("--baseline", action="store_true",
                   help="also simulate a baseline and report speedup and energy reduction against "
                        "it: by default the dense design for the same model on the same PE array "
                        "and clock (dense weights, no skipping, weights on chip when they fit "
                        "weight_sram.capacity_bytes, streamed from DRAM otherwise)")
    p.add_argument("--baseline-kind", metavar="KIND", default=None,
                   help="the baseline (implies --baseline): dense (the default, above) or no-skip "
                        "(the same hardware and weight format with both skips off)")
    p.add_argument("--check-values", action="store_true",
                   help="push real weight/event values through the modelled sparse datapath and "
                        "compare gate pre-activations with a dense NumPy EGRU step (first 16 steps)")
    p.add_argument("--steps", metavar="FILE.csv",
                   help="write the timeline as CSV, one row per (layer, step, phase): t, layer, phase "
                        "(x, r, xr, update, decoder), start, end, cycles (times in cycles from the "
                        "start of the run)")
    p.add_argument("--quiet", action="store_true", help="no table, no progress bar")
    p.set_defaults(func=run)


class _Progress:
    """A rich progress bar that only appears when a run takes more than ~2 s."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled = total, enabled
        self.t0 = time.monotonic()
        self.bar = None
        self.task = None
        self.last = 0

    def __call__(self, done: int) -> None:
        if not self.enabled or done - self.last < 64 and done != self.total:
            return
        self.last = done
        if self.bar is None:
            if time.monotonic() - self.t0 < 2.0:
                return
            from rich.progress import Progress
            self.bar = Progress(transient=True, console=_console(stderr=True))
            self.bar.start()
            self.task = self.bar.add_task("simulating tokens", total=self.total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _console(stderr=False):
    from rich.console import Console
    con = Console(stderr=stderr)
    # Piped or captured output gets a fixed width wide enough for the tables, not rich's 80.
    return con if con.is_terminal else Console(stderr=stderr, width=110)


def run(args) -> int:
    from accelsim.config import energy_table_path, load_config, load_energy_table
    from accelsim.engine import simulate
    from accelsim.io import write_output_text
    from accelsim.result import to_json
    from accelsim.trace import load_trace

    from accelsim.energy.area import check_area_table
    from accelsim.engine.simulate import BASELINE_KINDS

    if args.tokens is not None and args.tokens <= 0:
        raise InputError(f"--tokens must be a positive integer (got {args.tokens})")
    kind = args.baseline_kind
    if kind is not None and kind not in BASELINE_KINDS:
        raise InputError(f"--baseline-kind: unknown kind {kind!r}; expected one of {', '.join(BASELINE_KINDS)}")
    baseline = args.baseline or kind is not None
    kind = kind or "dense"
    check_outputs(args)
    config = load_config(args.config)
    table = load_energy_table(energy_table_path(config, args.config))
    check_area_table(config, table, str(args.config))
    trace = load_trace(args.trace)
    checks = None
    if args.check_values:
        from accelsim.engine.check_values import check_values
        from accelsim.engine.prepare import check_fit
        n = check_fit(config, trace, args.tokens)
        checks = check_values(config, trace.head(n) if n != trace.steps else trace)
    total = args.tokens or trace.steps
    bar = _Progress(total, enabled=not args.quiet and sys.stderr.isatty())
    t0 = time.perf_counter()
    steps = None
    try:
        if args.steps:
            from accelsim.engine.simulate import simulate_steps
            result, steps = simulate_steps(config, trace, table, tokens=args.tokens,
                                           baseline=baseline, baseline_kind=kind,
                                           config_source=str(args.config), progress=bar)
        else:
            result = simulate(config, trace, table, tokens=args.tokens, baseline=baseline,
                              baseline_kind=kind, config_source=str(args.config), progress=bar)
    finally:
        bar.close()
    wall = time.perf_counter() - t0
    if args.out:
        write_output_text(args.out, to_json(result))
    if steps is not None:
        cols = ["t", "layer", "phase", "start", "end", "cycles"]
        write_output_text(args.steps, steps[cols].to_csv(index=False))
    if not args.quiet:
        print_summary(result, wall, args.out, checks)
    elif checks:
        print("\n".join(checks))
    if checks and any(l.startswith("FAIL") for l in checks):
        return 1
    return 0


def check_outputs(args) -> None:
    """Refuse ``--out`` / ``--steps`` before anything is loaded or simulated: a folder, the config
    or the trace, the same file twice, a place that cannot be written (one line, exit 2)."""
    from accelsim.io import check_distinct_outputs, check_output_file

    inputs = (args.config, args.trace)
    for option, path in (("--out", args.out), ("--steps", args.steps)):
        if path is not None:
            check_output_file(path, option, inputs=inputs)
    check_distinct_outputs({"--out": args.out, "--steps": args.steps})


def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"
    return f"{x:,}"


def print_summary(r: dict, wall_s: float, out: str | None, checks: list[str] | None) -> None:
    from rich.table import Table

    con = _console()
    cfg = r["config"]
    t = Table(title=f"accelsim run: {cfg['name']} on {r['trace']['path']} ({r['tokens']:,} tokens)",
              show_header=True, header_style="bold")
    t.add_column("figure")
    t.add_column("value", justify="right")
    lat, lus = r["latency_cycles"], r["latency_us"]
    rows = [
        ("cycles", _fmt(r["cycles"])),
        ("latency per token, cycles (mean / p50 / p99)", f"{_fmt(lat['mean'])} / {_fmt(lat['p50'])} / {_fmt(lat['p99'])}"),
        ("latency per token, us (mean / p50 / p99)", f"{lus['mean']:.3f} / {lus['p50']:.3f} / {lus['p99']:.3f}"),
        ("tokens/s", _fmt(r["tokens_per_s"])),
        ("MACs executed / dense-equivalent", f"{_fmt(r['macs'])} / {_fmt(r['macs_dense'])}"),
        ("SRAM read bits, weights / metadata", f"{_fmt(r['sram_read_bits']['weights'])} / {_fmt(r['sram_read_bits']['metadata'])}"),
        ("DRAM read bytes", _fmt(r["dram_read_bytes"])),
        ("events per layer", ", ".join(f"{k} {_fmt(v)}" for k, v in r["events"].items())),
        ("PE work, MACs per PE (mean / max)", f"{_fmt(r['pe_work']['mean'])} / {_fmt(r['pe_work']['max'])}"),
        ("event queue peak (events)", _fmt(r["queue_peak"])),
        ("energy total, uJ", f"{r['energy_pj']['total'] / 1e6:,.3f}"),
        ("energy per token, nJ", f"{r['energy_pj_per_token'] / 1e3:,.3f}"),
        ("ideal reduction 1/((1-s_w)(1-s_a))",
         "unbounded" if r["ideal_reduction"] is None else f"{r['ideal_reduction']:.2f}x"),
    ]
    if r.get("area_mm2") is not None:
        rows.append((f"area, mm^2 ({r['energy_table']} table)", f"{r['area_mm2']['total']:,.3f}"))
    if "speedup_vs_dense" in r:
        b = r["baseline"]
        what = (f"dense weights in {b['weight_storage'].upper()}" if b["kind"] == "dense"
                else "same hardware, both skips off")
        rows += [(f"speedup vs {b['kind']} baseline ({what})", f"{r['speedup_vs_dense']:.2f}x"),
                 (f"energy reduction vs {b['kind']} baseline", f"{r['energy_reduction_vs_dense']:.2f}x")]
    for a, b in rows:
        t.add_row(a, b)
    con.print(t)
    area = [(k, v) for k, v in (r.get("area_mm2") or {}).items() if k != "total"]
    s = Table(title="stall cycles by cause, lost work (summed over clusters), energy" +
                    (" and area" if area else "") + " by component", show_header=True)
    s.add_column("stall cause")
    s.add_column("cycles", justify="right")
    s.add_column("energy component")
    s.add_column("uJ", justify="right")
    if area:
        s.add_column("area component")
        s.add_column("mm^2", justify="right")
    stalls = list(r["stalls_cycles"].items()) + [
        (f"{k} (lost work)", v) for k, v in r.get("lost_work_cycles", {}).items()]
    energy = [(k, v) for k, v in r["energy_pj"].items() if k != "total"]
    for i in range(max(len(stalls), len(energy), len(area))):
        a = stalls[i] if i < len(stalls) else ("", "")
        b = energy[i] if i < len(energy) else ("", None)
        row = [a[0], _fmt(a[1]) if a[1] != "" else "", b[0], "" if b[1] is None else f"{b[1] / 1e6:,.3f}"]
        if area:
            c = area[i] if i < len(area) else ("", None)
            row += [c[0], "" if c[1] is None else f"{c[1]:,.3f}"]
        s.add_row(*row)
    con.print(s)
    if checks:
        con.print("value check (sparse datapath vs dense NumPy):")
        for line in checks:
            con.print("  " + line, markup=False)
    con.print(f"simulated in {wall_s:.2f} s wall" + (f"; result written to {out}" if out else ""))
