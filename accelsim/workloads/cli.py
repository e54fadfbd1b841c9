"""``accelsim trace egru`` / ``accelsim trace delta``: traces of trained models on a PTB split
(torch-free): an EGRU's events (v1 keys), a GRU's delta-network columns (v2 keys)."""

from __future__ import annotations

import sys
from pathlib import Path

from accelsim.errors import InputError


def register_egru(trace_subparsers) -> None:
    p = trace_subparsers.add_parser(
        "egru", help="trace of a trained EGRU model on PTB (Numba inference)",
        description="Run an exported EGRU model (workloads/models/*.npz) over a PTB split with the "
                    "torch-free Numba inference and write a v1 trace: the stacked [W | R] weights of "
                    "every layer and the events each layer emitted at each step. The state starts "
                    "from zero at --start. Token ids are never written. meta.perplexity is the "
                    "perplexity measured over the traced tokens.")
    _common_args(p, "workloads/models/egru-ptb-w80.npz")
    p.add_argument("--no-decoder", action="store_true",
                   help="leave out the tied decoder (decoder.weight V x E as CSC, decoder.bias)")
    p.set_defaults(func=run_egru)


def register_delta(trace_subparsers) -> None:
    p = trace_subparsers.add_parser(
        "delta", help="delta-network trace of a trained GRU on PTB (Numba inference)",
        description="Run an exported GRU model (workloads/models/deltagru-*.npz) over a PTB split as a "
                    "delta network (DeltaGRU: an input or state value is sent when it moved by at "
                    "least --theta-x / --theta-h since it was last sent) with the torch-free Numba "
                    "inference, and write a version-2 trace: the stacked [W | R] weights, the input "
                    "and recurrent columns every layer reads at each step, with their deltas, and "
                    "the bias fetched at step 0. The state starts from zero at --start. Token ids "
                    "are never written. meta.perplexity is the perplexity measured over the traced "
                    "tokens.")
    _common_args(p, "workloads/models/deltagru-ptb-w80.npz")
    p.add_argument("--theta-x", type=float, required=True,
                   help="delta threshold of every layer's input (layer 0: the embedding)")
    p.add_argument("--theta-h", type=float, required=True, help="delta threshold of the states")
    p.set_defaults(func=run_delta_trace)


def _common_args(p, example: str) -> None:
    p.add_argument("--model", required=True, help=f"exported model .npz (e.g. {example})")
    p.add_argument("--ptb", default=None, help="PTB folder (default: $ACCELSIM_PTB)")
    p.add_argument("--split", default="test", choices=("train", "valid", "test"))
    p.add_argument("--start", type=int, default=0, help="first token of the split (default 0)")
    p.add_argument("--tokens", type=int, default=None, help="tokens to trace (default: to the end)")
    p.add_argument("--no-embedding", action="store_true", help="leave out input.embedding (V x E)")
    p.add_argument("--out", required=True, help="output trace .npz")


def _load_inputs(args, cell: str):
    """Check --out, then load the model (of ``cell``) and the split: (model, ids, source)."""
    import os

    from accelsim.io import check_output_file, file_sha256
    from accelsim.workloads.model_file import load_model
    from accelsim.workloads.ptb import ENV_VAR, SPLITS, load_ptb

    # --out is checked before anything is read or traced: not a folder, not an input, writable
    ptb = args.ptb or os.environ.get(ENV_VAR) or None
    inputs = [args.model] + ([Path(ptb) / f"ptb.{s}.txt" for s in SPLITS] if ptb else [])
    check_output_file(args.out, "--out", inputs=inputs)
    model = load_model(args.model)
    if model.cell != cell:
        other = "egru" if model.cell == "egru" else "delta"
        raise InputError(f"{args.model} holds a model of kind {model.cell}; trace it with "
                         f"`accelsim trace {other}`")
    corpus = load_ptb(args.ptb)
    ids = corpus.split(args.split)
    if args.start < 0 or args.start >= len(ids):
        raise InputError(f"--start must be in [0, {len(ids)}) for the {args.split} split (got {args.start})")
    if args.tokens is not None and args.tokens < 1:
        raise InputError(f"--tokens must be >= 1 (got {args.tokens})")
    if model.vocab_size != corpus.vocab_size:
        raise InputError(f"{args.model}: vocabulary size {model.vocab_size} does not match PTB's {corpus.vocab_size}")
    source = {"dataset": "ptb", "split": args.split, "model": Path(args.model).name,
              "model_sha256": file_sha256(args.model), "model_meta": model.meta}
    return model, ids, source


def run_egru(args) -> int:
    from accelsim.commands.trace_cmd import write_trace
    from accelsim.workloads.trace_export import make_trace

    model, ids, source = _load_inputs(args, "egru")
    trace, res = make_trace(model, ids, source, start=args.start, tokens=args.tokens,
                            include_embedding=not args.no_embedding,
                            include_decoder=not args.no_decoder)
    sha = write_trace(args.out, trace)
    acts = ", ".join(f"{a:.3f}" for a in trace.meta["activity_sparsity"])
    print(f"{args.out}: {res.tokens} tokens, perplexity {res.perplexity:.2f}, "
          f"activity sparsity per layer [{acts}], inference {res.wall_s:.1f} s, sha256 {sha[:16]}",
          file=sys.stdout)
    return 0


def run_delta_trace(args) -> int:
    from accelsim.commands.trace_cmd import write_trace
    from accelsim.workloads.trace_export import make_delta_trace

    model, ids, source = _load_inputs(args, "gru")
    trace, res = make_delta_trace(model, ids, source, args.theta_x, args.theta_h,
                                  start=args.start, tokens=args.tokens,
                                  include_embedding=not args.no_embedding)
    sha = write_trace(args.out, trace)
    fx = ", ".join(f"{a:.3f}" for a in trace.meta["x_activity"])
    fh = ", ".join(f"{a:.3f}" for a in trace.meta["h_activity"])
    print(f"{args.out}: {res.tokens} tokens, perplexity {res.perplexity:.2f}, input columns sent "
          f"per layer [{fx}], recurrent [{fh}], inference {res.wall_s:.1f} s, sha256 {sha[:16]}",
          file=sys.stdout)
    return 0
