"""`accelsim validate`: replay a case measured on RTL through the simulator and compare the cycles."""

from __future__ import annotations

import json
import math
from pathlib import Path

from accelsim.errors import InputError

DEFAULT_CONFIG = "configs/edgedrnn.yaml"


def register(sub) -> None:
    p = sub.add_parser(
        "validate", help="compare simulated cycles with cycles measured on an accelerator's RTL",
        description="Replay a validation case (case.json, steps.csv, events.npz: the cycles an "
                    "accelerator's RTL took for every layer-step and the weight columns it read) "
                    "through the simulator, and compare measured and simulated cycles per layer "
                    "and per layer-step: totals, their ratio, the fraction of exact layer-steps, "
                    "mean and 95th-percentile error, correlation. The case's weight-stream model "
                    "(a beat every cycle, or with a probability per cycle) sets "
                    "dram.stream_efficiency. Exit status 1 when --max-error is exceeded.")
    p.add_argument("case", metavar="CASE_DIR", help="validation case folder (case.json, steps.csv, events.npz)")
    p.add_argument("--config", default=None,
                   help=f"architecture config YAML (default {DEFAULT_CONFIG}, looked up in the current "
                        f"folder, then in the accelsim installation)")
    p.add_argument("--json", metavar="FILE", help="write the metrics as JSON (case, config, layer_steps, "
                                                  "rtl_cycles, sim_cycles, ratio, exact_fraction, "
                                                  "mean_abs_error_pct, p95_abs_error_pct, correlation)")
    p.add_argument("--csv", metavar="FILE", help="write one row per layer-step: t, layer, n_x, n_h, bias, "
                                                 "rtl_cycles, sim_cycles, error_pct ((sim - rtl) / rtl x 100)")
    p.add_argument("--plot", metavar="FILE.png", help="write a PNG: simulated vs measured cycles per "
                                                      "layer-step, and the histogram of the error")
    p.add_argument("--max-error", metavar="PCT", type=float, default=None,
                   help="exit with status 1 when the total cycles differ from the RTL's by more than "
                        "PCT percent (|sim / rtl - 1| x 100 > PCT)")
    p.add_argument("--head", metavar="N", type=int, default=None,
                   help="compare only the first N steps (the RTL total becomes start-up + their cycles)")
    p.set_defaults(func=run)


def resolve_config(arg: str | None) -> Path:
    """The config file: as given (relative to the current folder), else relative to the
    installation (the folder holding the accelsim package)."""
    import accelsim

    p = Path(arg if arg is not None else DEFAULT_CONFIG)
    if p.exists() or p.is_absolute():
        return p
    alt = Path(accelsim.__file__).resolve().parents[1] / p
    return alt if alt.exists() else p


def run(args) -> int:
    from accelsim.config import energy_table_path, load_config, load_energy_table
    from accelsim.io import (check_distinct_outputs, check_output_file, write_output_bytes,
                             write_output_text)
    from accelsim.validate.case import CASE_FILES, load_case
    from accelsim.validate.run import run_validation

    if args.max_error is not None and (not math.isfinite(args.max_error) or args.max_error < 0):
        raise InputError(f"--max-error must be a non-negative percentage (got {args.max_error})")
    if args.head is not None and args.head <= 0:
        raise InputError(f"--head must be a positive integer (got {args.head})")
    # outputs are checked before the case is read or simulated: not a folder, not one of the
    # case's files or the config, writable, and no two the same file
    inputs = [Path(args.case) / name for name in CASE_FILES] + [resolve_config(args.config)]
    outs = {}
    for opt, value, suffix in (("--json", args.json, None), ("--csv", args.csv, None),
                               ("--plot", args.plot, ".png")):
        if value:
            outs[opt] = check_output_file(value, opt, inputs=inputs, suffix=suffix)
    check_distinct_outputs(outs)

    case = load_case(args.case)
    if args.head is not None:
        if args.head > case.steps:
            raise InputError(f"--head {args.head} is beyond the case: {case.path} has {case.steps} steps")
        case = case.head(args.head)
    config_path = resolve_config(args.config)
    config = load_config(config_path)
    table = load_energy_table(energy_table_path(config, config_path))
    v = run_validation(case, config, table, config_name=str(config_path))

    print_summary(v, config.name)
    if "--json" in outs:
        write_output_text(outs["--json"], json.dumps(v.metrics, indent=2) + "\n")
    if "--csv" in outs:
        from accelsim.validate.compare import per_step_frame
        frame = per_step_frame(case.table, v.sim_steps)
        write_output_text(outs["--csv"], frame.to_csv(index=False, float_format="%.4f"))
    if "--plot" in outs:
        from accelsim.validate.plot import comparison_png
        write_output_bytes(outs["--plot"], comparison_png(
            v.rtl_steps, v.sim_steps, title=f"{case.name}: {config.name} vs RTL"))
    m = v.metrics
    if args.max_error is not None:
        off = abs(m["ratio"] - 1.0) * 100.0
        if off > args.max_error:
            print(f"total cycles differ from the RTL by {off:.2f}%, more than --max-error "
                  f"{args.max_error:g}%")
            return 1
    return 0


def _stream(case) -> str:
    return "a beat every cycle" if case.stream == "every_cycle" else f"a beat with p = {case.stream:g} per cycle"


def print_summary(v, config_name: str) -> None:
    from rich.table import Table

    from accelsim.commands.run_cmd import _console
    from accelsim.validate.compare import per_layer_means

    con = _console()
    case, m = v.case, v.metrics
    t = Table(title=f"accelsim validate: {config_name} vs {case.name} ({case.steps:,} steps x "
                    f"{case.n_layers} layers, {_stream(case)})", show_header=True, header_style="bold")
    t.add_column("figure")
    t.add_column("RTL", justify="right")
    t.add_column("simulated", justify="right")
    t.add_column("sim / RTL", justify="right")
    for l, (r, s) in enumerate(per_layer_means(v.rtl_steps, v.sim_steps)):
        t.add_row(f"layer {l}: mean cycles per step", f"{r:,.2f}", f"{s:,.2f}", f"{s / r:.3f}")
    t.add_row("total cycles (start-up included)", f"{m['rtl_cycles']:,}", f"{m['sim_cycles']:,}",
              f"{m['ratio']:.3f}")
    con.print(t)
    s = Table(title=f"per layer-step ({m['layer_steps']:,})", show_header=True, header_style="bold")
    s.add_column("figure")
    s.add_column("value", justify="right")
    s.add_row("exact (identical cycles)", f"{m['exact_fraction'] * 100:.1f}%")
    s.add_row("abs error, mean", f"{m['mean_abs_error_pct']:.2f}%")
    s.add_row("abs error, 95th percentile", f"{m['p95_abs_error_pct']:.2f}%")
    corr = m["correlation"]
    s.add_row("correlation (Pearson)", "undefined (constant)" if corr is None else f"{corr:.4f}")
    con.print(s)
