"""`accelsim trace info|validate|synth|egru`: make and inspect workload traces (format v2, reads v1)."""

from __future__ import annotations

import json
import time

from accelsim.errors import InputError
from accelsim.io import check_output_file, write_output_bytes
from accelsim.trace import load_trace
from accelsim.trace.stats import trace_summary
from accelsim.trace.synth import ENCODINGS, MAX_COLUMN_ACTIVITY

DEFAULT_ACTIVITY = 0.15  # --x-activity / --h-activity of --encoding delta


def register(sub) -> None:
    p = sub.add_parser(
        "trace", help="make and inspect workload traces (.npz, format v2; v1 files still load)",
        description="Make and inspect activation traces of EGRU and delta networks (format v2, "
                    "docs/trace-format.md; version-1 files still load).")
    ts = p.add_subparsers(dest="trace_command", metavar="SUBCOMMAND")

    i = ts.add_parser("info", help="sparsities, dims and MAC counts of a trace",
                      description="Print tokens, layer dims, per-layer activity sparsity, per-matrix "
                                  "weight sparsity, and dense vs sparse MACs (the op-accounting formula "
                                  "and the exact count from events and column nonzeros). For a version-2 "
                                  "trace also, per layer that carries them: mean fired input and "
                                  "recurrent columns per step and the bias fires.")
    i.add_argument("file", help="trace .npz")
    i.add_argument("--json", action="store_true", help="print JSON (keys: version, tokens, layers, macs_dense, "
                                                       "macs_sparse, sha256, ...; per layer x_fired_per_step, "
                                                       "h_fired_per_step, bias_fires, null when absent)")
    i.set_defaults(func=_info)

    v = ts.add_parser("validate", help="check a trace file against format v2 (or v1)",
                      description="Validate every key of a trace (version 1 or 2, the version-2 input / "
                                  "recurrent columns and bias fires included); exit 0 if valid, 2 with "
                                  "one line naming the key and the problem otherwise.")
    v.add_argument("file", help="trace .npz")
    v.set_defaults(func=_validate)

    s = ts.add_parser("synth", help="make a synthetic EGRU or delta-network trace",
                      description="Make a synthetic trace: pruned [W|R] gate matrices and events "
                                  "with heterogeneous (log-normal) per-unit firing rates and temporal "
                                  "persistence. --encoding delta models a delta network instead: input "
                                  "and recurrent columns fire apart (--x-activity, --h-activity; layer 0's "
                                  "input too) and the bias is a column (--bias-every). Same seed, same bytes.")
    s.add_argument("--encoding", choices=ENCODINGS, default="egru",
                   help="egru: EGRU events (default); delta: a delta network's input and recurrent "
                        "columns per layer (version-2 keys)")
    s.add_argument("--layers", default="750,1350,1350,750",
                   help="embedding size then hidden sizes (default: paper scale 750,1350,1350,750)")
    s.add_argument("--tokens", type=int, default=10000, help="time steps (default 10000)")
    s.add_argument("--weight-sparsity", default="0.8", help="one value or one per layer, comma-separated")
    s.add_argument("--pruning", default="unstructured",
                   help="unstructured | magnitude | column-balanced | N:M (e.g. 2:4; sets the sparsity)")
    s.add_argument("--activity-sparsity", default=None,
                   help="egru: one value or one per layer (default 0.85, or the calibration trace's)")
    s.add_argument("--x-activity", default=None,
                   help=f"delta: fraction of input columns fired per step, one value or one per layer "
                        f"(default {DEFAULT_ACTIVITY}; at most {MAX_COLUMN_ACTIVITY})")
    s.add_argument("--h-activity", default=None,
                   help=f"delta: fraction of recurrent columns fired per step, one value or one per layer "
                        f"(default {DEFAULT_ACTIVITY}; at most {MAX_COLUMN_ACTIVITY})")
    s.add_argument("--bias-every", type=int, default=None,
                   help="delta: the bias column fires at step 0 and every N steps (default 0: only at step 0)")
    s.add_argument("--rate-sigma", type=float, default=1.0,
                   help="log-normal sigma of per-unit firing rates (0 = every unit alike)")
    s.add_argument("--persistence", type=float, default=0.3,
                   help="lag-1 autocorrelation of a unit's firing, in [0, 1)")
    s.add_argument("--balance-groups", type=int, default=16,
                   help="row groups (PEs) for column-balanced pruning (row i -> group i mod G)")
    s.add_argument("--vocab", type=int, default=10000, help="vocabulary size")
    s.add_argument("--no-embedding", action="store_true", help="leave out input.embedding and input.tokens")
    s.add_argument("--decoder", action="store_true", help="add a tied decoder (last hidden size = embedding size)")
    s.add_argument("--calibrate-from", metavar="TRACE",
                   help="egru: copy per-layer firing-rate distributions, persistence and event values "
                        "from a real trace")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--out", required=True, help="output .npz")
    s.set_defaults(func=_synth)

    try:  # provided by the workloads package
        from accelsim.workloads.cli import register_delta, register_egru
    except ImportError:
        e = ts.add_parser("egru", help="trace of a trained EGRU on PTB [not available]")
        e.set_defaults(func=_egru_missing)
    else:
        register_egru(ts)
        register_delta(ts)


def _floats(name: str, text: str | None):
    if text is None:
        return None
    try:
        vals = [float(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise InputError(f"--{name}: expected numbers separated by commas (got {text!r})") from None
    if not vals:
        raise InputError(f"--{name}: expected at least one number")
    return vals if len(vals) > 1 else vals[0]


def _ints(name: str, text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"--{name}: expected integers separated by commas (got {text!r})") from None


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _info(args) -> int:
    trace = load_trace(args.file)
    s = trace_summary(trace)
    if args.json:
        print(json.dumps(s, indent=2, sort_keys=True))
        return 0
    from rich.console import Console
    from rich.table import Table

    con = Console(width=None if Console().is_terminal else 132)
    con.print(f"[bold]{args.file}[/bold]  sha256 {s['sha256']}")
    src = s["source"]
    con.print(f"format v{s['version']}   tokens {s['tokens']}   vocab {s['vocab_size']}   layers {len(s['layers'])}   "
              f"perplexity {s['perplexity'] if s['perplexity'] is not None else 'n/a'}")
    con.print(f"source {_brief_source(src)}   (--json prints it whole)")
    t = Table(title="per layer")
    for col in ("layer", "n_in->H", "activity sp.", "W sp.", "R sp.", "events",
                "dense MAC/tok", "formula MAC/tok", "exact MAC/tok"):
        t.add_column(col, justify="right")
    v2 = [k for k in ("x_fired_per_step", "h_fired_per_step", "bias_fires")
          if any(x[k] is not None for x in s["layers"])]
    for k in v2:
        t.add_column(_V2_COLUMNS[k], justify="right")
    T = max(s["tokens"], 1)
    for l, x in enumerate(s["layers"]):
        t.add_row(str(l), f"{x['input_size']} -> {x['hidden_size']}", _pct(x["activity_sparsity"]),
                  _pct(x["weight_sparsity_W"]), _pct(x["weight_sparsity_R"]), f"{x['events']:,}",
                  f"{x['macs_dense'] / T:,.0f}", f"{x['macs_formula'] / T:,.0f}", f"{x['macs_sparse'] / T:,.0f}",
                  *(_v2_cell(k, x[k]) for k in v2))
    con.print(t)
    if v2:
        con.print("x/step, h/step: mean input / recurrent columns the layer reads per step "
                  "(version 2); bias fires: steps that fetch the bias column; '-': not carried")
    con.print(f"MACs over the trace (decoder excluded): dense {s['macs_dense']:,}  formula "
              f"{s['macs_formula']:,.0f}  exact {s['macs_sparse']:,}  -> {s['mac_reduction']:.2f}x fewer")
    extras = [k for k in ("has_embedding", "has_tokens", "has_decoder") if s[k]]
    con.print("carries: " + (", ".join(k[4:] for k in extras) if extras else "weights and events only"))
    return 0


_V2_COLUMNS = {"x_fired_per_step": "x/step", "h_fired_per_step": "h/step", "bias_fires": "bias fires"}


def _v2_cell(key: str, v) -> str:
    if v is None:
        return "-"
    return f"{v:,}" if key == "bias_fires" else f"{v:,.2f}"


def _brief_source(src) -> str:
    """The source in one line: its scalar fields (a synthetic trace: its parameters)."""
    if isinstance(src, dict) and isinstance(src.get("synthetic"), dict):
        src = dict(src["synthetic"], kind="synthetic")
    if not isinstance(src, dict):
        return json.dumps(src)
    return ", ".join(f"{k}={v}" for k, v in sorted(src.items())
                     if isinstance(v, (str, int, float, bool)) or (isinstance(v, list) and len(v) <= 6))


def _validate(args) -> int:
    trace = load_trace(args.file)
    v2 = [f"l{i}." + "+".join(k for k in ("x_events", "h_events", "bias_fires") if getattr(l, k) is not None)
          for i, l in enumerate(trace.layers)
          if l.x_events is not None or l.h_events is not None or l.bias_fires is not None]
    print(f"{args.file}: valid accelsim trace v{trace.meta['version']} ({trace.steps} tokens, "
          f"{len(trace.layers)} layers{', ' + ', '.join(v2) if v2 else ''}, sha256 {trace.sha256})")
    return 0


def _synth(args) -> int:
    from accelsim.trace.synth import synthesize

    delta = args.encoding == "delta"
    only = ("--activity-sparsity", "--calibrate-from") if delta else ("--x-activity", "--h-activity", "--bias-every")
    for flag in only:
        if getattr(args, flag[2:].replace("-", "_")) is not None:
            raise InputError(f"{flag}: only with --encoding {'egru' if delta else 'delta'}")
    check_output_file(args.out, "--out", inputs=(args.calibrate_from,))
    calib = load_trace(args.calibrate_from) if args.calibrate_from else None
    act = _floats("activity-sparsity", args.activity_sparsity)
    if act is None and calib is None:
        act = 0.85
    xa = _floats("x-activity", args.x_activity)
    ha = _floats("h-activity", args.h_activity)
    t0 = time.perf_counter()
    trace = synthesize(layers=_ints("layers", args.layers), tokens=args.tokens,
                       weight_sparsity=_floats("weight-sparsity", args.weight_sparsity),
                       activity_sparsity=act, pruning=args.pruning, seed=args.seed,
                       vocab_size=args.vocab, rate_sigma=args.rate_sigma, persistence=args.persistence,
                       balance_groups=args.balance_groups, embedding=not args.no_embedding,
                       decoder=args.decoder, calibrate_from=calib, encoding=args.encoding,
                       x_activity=DEFAULT_ACTIVITY if xa is None else xa,
                       h_activity=DEFAULT_ACTIVITY if ha is None else ha,
                       bias_every=args.bias_every or 0)
    digest = write_trace(args.out, trace)
    print(f"wrote {args.out}: {trace.steps} tokens, layers {args.layers}{', delta encoding' if delta else ''}, "
          f"sha256 {digest} "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def write_trace(path, trace) -> str:
    """Validate ``trace`` and write it to ``path`` (a regular file atomically; a device or fifo
    written into, never replaced). Returns the SHA-256 of the bytes written."""
    import hashlib

    from accelsim.trace.format import trace_bytes

    data = trace_bytes(trace)
    write_output_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def _egru_missing(args) -> int:
    raise InputError("trace egru: the workloads package is not available in this install")
