"""``accelsim trace egru``: a v1 trace of a trained EGRU on a PTB split (torch-free)."""

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
    p.add_argument("--model", required=True, help="exported model .npz (e.g. workloads/models/egru-ptb-w80.npz)")
    p.add_argument("--ptb", default=None, help="PTB folder (default: $ACCELSIM_PTB)")
    p.add_argument("--split", default="test", choices=("train", "valid", "test"))
    p.add_argument("--start", type=int, default=0, help="first token of the split (default 0)")
    p.add_argument("--tokens", type=int, default=None, help="tokens to trace (default: to the end)")
    p.add_argument("--no-embedding", action="store_true", help="leave out input.embedding (V x E)")
    p.add_argument("--no-decoder", action="store_true",
                   help="leave out the tied decoder (decoder.weight V x E as CSC, decoder.bias)")
    p.add_argument("--out", required=True, help="output trace .npz")
    p.set_defaults(func=run_egru)


def run_egru(args) -> int:
    import os

    from accelsim.commands.trace_cmd import write_trace
    from accelsim.io import check_output_file, file_sha256
    from accelsim.workloads.model_file import load_model
    from accelsim.workloads.ptb import ENV_VAR, SPLITS, load_ptb
    from accelsim.workloads.trace_export import make_trace

    # --out is checked before anything is read or traced: not a folder, not an input, writable
    ptb = args.ptb or os.environ.get(ENV_VAR) or None
    inputs = [args.model] + ([Path(ptb) / f"ptb.{s}.txt" for s in SPLITS] if ptb else [])
    check_output_file(args.out, "--out", inputs=inputs)
    model = load_model(args.model)
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
    trace, res = make_trace(model, ids, source, start=args.start, tokens=args.tokens,
                            include_embedding=not args.no_embedding,
                            include_decoder=not args.no_decoder)
    sha = write_trace(args.out, trace)
    acts = ", ".join(f"{a:.3f}" for a in trace.meta["activity_sparsity"])
    print(f"{args.out}: {res.tokens} tokens, perplexity {res.perplexity:.2f}, "
          f"activity sparsity per layer [{acts}], inference {res.wall_s:.1f} s, sha256 {sha[:16]}",
          file=sys.stdout)
    return 0
