"""Iterative magnitude pruning of the EGRU with short fine-tuning: ``python -m accelsim.workloads.prune``.

Pruning is **per matrix** and unstructured: each recurrent-layer matrix (W_l and R_l) keeps its own
largest-|w| fraction, so every matrix ends at exactly the requested sparsity
(``round(s * numel)`` zeros). Embedding (= tied decoder), biases and thresholds are not pruned.
``--method column-balanced`` instead keeps, in every column of W_l and R_l and within every PE row
group (row i belongs to group i mod G, as the ``interleaved`` layout maps rows to PEs), the same
number ``round((1 - s) * rows_in_group)`` of largest-|w| entries, as Spartus does: every event
column then gives every PE the same work. ``--method N:M`` (e.g. ``2:4``) keeps, in every group
of M consecutive rows of every column of W_l and R_l (rows gM .. gM+M-1; the last group is
shorter when M does not divide 3H), the N largest-|w| entries: the weights the ``nm`` weight
format stores. Its sparsity is set by the pattern (1 - N/M), so every stage must give that value.

``--hold-activity DENSE.npz`` keeps activity sparsity where the dense model has it: the
activity regulariser's hinge target becomes, per layer, the activity that DENSE shows in training
mode on the training data (measured at the start, minus ``--hold-margin``), so the fine-tune pulls
back the activity that pruning adds instead of only pushing towards one global target.

Sparsity rises over ``--stages`` (e.g. 0.6,0.7); after each stage the model is fine-tuned for
``--steps-per-stage`` AdamW steps with the mask re-applied after every step.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from accelsim.errors import InputError, report_input_errors

METHODS = ("unstructured", "column-balanced")   # or an N:M pattern such as 2:4
_NM = re.compile(r"^(\d+):(\d+)$")


def nm_pattern(method: str) -> tuple[int, int] | None:
    """(N, M) of an N:M method (0 < N <= M), None for the other methods."""
    m = _NM.match(method)
    if not m:
        return None
    n, mm = int(m.group(1)), int(m.group(2))
    if not 0 < n <= mm:
        raise InputError(f"--method {method}: an N:M pattern needs 0 < N <= M")
    return n, mm


def _method(value: str) -> str:
    """argparse type of --method: unstructured, column-balanced or N:M."""
    try:
        if value in METHODS or nm_pattern(value):
            return value
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    raise argparse.ArgumentTypeError(f"expected unstructured, column-balanced or N:M such as 2:4 "
                                     f"(got {value!r})")


def magnitude_mask(w: np.ndarray, sparsity: float) -> np.ndarray:
    """0/1 mask zeroing exactly round(sparsity * w.size) smallest-|w| entries (ties: lower index)."""
    if not 0.0 <= sparsity < 1.0:
        raise InputError(f"sparsity must be in [0, 1) (got {sparsity})")
    k = int(round(sparsity * w.size))
    mask = np.ones(w.size, dtype=np.float32)
    if k:
        order = np.argsort(np.abs(w).ravel(), kind="stable")
        mask[order[:k]] = 0.0
    return mask.reshape(w.shape)


def column_balanced_mask(w: np.ndarray, sparsity: float, groups: int) -> np.ndarray:
    """0/1 mask keeping, per column and per row group (row i -> group i mod ``groups``), the
    round((1 - sparsity) * rows_in_group) largest-|w| entries."""
    if not 0.0 <= sparsity < 1.0:
        raise InputError(f"sparsity must be in [0, 1) (got {sparsity})")
    if groups < 1 or groups > w.shape[0]:
        raise InputError(f"--groups must be in [1, {w.shape[0]}] (got {groups})")
    mask = np.zeros(w.shape, dtype=np.float32)
    rows = np.arange(w.shape[0])
    for g in range(groups):
        r = rows[rows % groups == g]
        keep = int(round((1.0 - sparsity) * len(r)))
        if keep == 0:
            continue
        block = np.abs(w[r])  # rows_in_group x cols
        top = np.argsort(-block, axis=0, kind="stable")[:keep]  # per column
        mask[r[top], np.arange(w.shape[1])[None, :]] = 1.0
    return mask


def nm_mask(w: np.ndarray, n: int, m: int) -> np.ndarray:
    """0/1 mask keeping, in every group of ``m`` consecutive rows of every column (rows
    gm .. gm+m-1, the last group shorter when ``m`` does not divide the rows), the ``n``
    largest-|w| entries (ties: the lower row)."""
    if not 0 < n <= m:
        raise InputError(f"an N:M pattern needs 0 < N <= M (got {n}:{m})")
    mask = np.zeros(w.shape, dtype=np.float32)
    cols = np.arange(w.shape[1])[None, :]
    for start in range(0, w.shape[0], m):
        block = np.abs(w[start:start + m])
        top = np.argsort(-block, axis=0, kind="stable")[:n]   # per column
        mask[start + top, cols] = 1.0
    return mask


def make_masks(model, sparsity: float, method: str, groups: int) -> dict[str, np.ndarray]:
    """Masks for every l{l}.W and l{l}.R of an EGRUModel (torch-free form); an N:M ``method``
    ignores ``sparsity`` (the pattern sets it)."""
    nm = nm_pattern(method)
    out = {}
    for i, l in enumerate(model.layers):
        for name in ("W", "R"):
            w = getattr(l, name)
            if nm:
                out[f"l{i}.{name}"] = nm_mask(w, *nm)
            elif method == "unstructured":
                out[f"l{i}.{name}"] = magnitude_mask(w, sparsity)
            else:
                out[f"l{i}.{name}"] = column_balanced_mask(w, sparsity, groups)
    return out


def matrix_sparsity(model) -> dict[str, float]:
    return {f"l{i}.{n}": float((getattr(l, n) == 0).mean())
            for i, l in enumerate(model.layers) for n in ("W", "R")}


def measure_train_activity(model, kw: dict, data: np.ndarray, args, batches: int = 40) -> list[float]:
    """Per-layer fraction of units emitting an event per step, in training mode (dropout on, as
    the regulariser sees it), over ``batches`` consecutive training batches from the start."""
    import torch

    from accelsim.workloads.egru_torch import EGRULanguageModel

    net = EGRULanguageModel.from_model(model, **kw)
    net.train()
    state, acc, pos = net.init_state(data.shape[1]), None, 0
    with torch.no_grad():
        for _ in range(batches):
            inp = torch.from_numpy(data[pos:pos + args.bptt].astype(np.int64))
            _, outs, state = net(inp, state)
            a = np.array([float(o.mean()) for o in outs])
            acc = a if acc is None else acc + a
            pos += args.bptt
    return list(acc / batches)


def build_parser() -> argparse.ArgumentParser:
    from accelsim.workloads.train import add_optim_args

    p = argparse.ArgumentParser(prog="python -m accelsim.workloads.prune", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ptb", default=None, help="PTB folder (default: $ACCELSIM_PTB)")
    p.add_argument("--base", required=True, help="model file to start from (.npz)")
    p.add_argument("--stages", required=True, help="sparsities, rising, e.g. 0.6,0.7 (last = target)")
    p.add_argument("--steps-per-stage", type=int, default=120)
    p.add_argument("--method", type=_method, default="unstructured",
                   help="unstructured | column-balanced | N:M such as 2:4 (N of every M consecutive "
                        "rows of a column; the stages must all be 1 - N/M)")
    p.add_argument("--groups", type=int, default=16, help="PE row groups for column-balanced")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--name", required=True, help="model name recorded in meta (e.g. egru-ptb-w80)")
    p.add_argument("--out", required=True, help="output model file (.npz)")
    p.add_argument("--log", default=None, help="append progress lines (JSON) to this file")
    p.add_argument("--hold-activity", default=None, metavar="DENSE.npz",
                   help="per-layer activity targets = this model's training-mode activity (minus "
                        "--hold-margin): fine-tuning keeps each layer's activity sparsity where "
                        "the dense model has it")
    p.add_argument("--hold-margin", type=float, default=0.0,
                   help="target this much activity below the held model's (default 0)")
    add_optim_args(p)
    p.set_defaults(lr=1e-3, lr_final=1e-4, log_every=40, activity_start=0.0)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return report_input_errors(run, args)


def run(args) -> int:
    import torch

    from accelsim.workloads.egru_torch import EGRULanguageModel, evaluate
    from accelsim.workloads.model_file import load_model, save_model
    from accelsim.workloads.ptb import batchify, load_ptb
    from accelsim.workloads.train import make_optimizer, train_steps
    from accelsim.io import file_sha256

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    try:
        stages = [float(s) for s in args.stages.split(",")]
    except ValueError:
        raise InputError(f"--stages must be comma-separated sparsities (got {args.stages!r})") from None
    if any(b < a for a, b in zip(stages, stages[1:])) or not all(0 <= s < 1 for s in stages):
        raise InputError(f"--stages must rise within [0, 1) (got {args.stages!r})")
    nm = nm_pattern(args.method)
    if nm and any(abs(s - (1 - nm[0] / nm[1])) > 1e-9 for s in stages):
        raise InputError(f"--stages: with --method {args.method} the pattern sets the sparsity "
                         f"(1 - N/M = {1 - nm[0] / nm[1]:g}); give that value for every stage")
    corpus = load_ptb(args.ptb)
    base = load_model(args.base)
    targs = base.meta.get("trained", {}).get("args", {})
    kw = {k: targs[k] for k in ("gamma", "eps", "dropout_emb", "dropout_forward", "dropout_out") if k in targs}
    if base.cell == "gru":
        from accelsim.workloads.gru_torch import GRULanguageModel, to_torch_order
        if args.method != "unstructured" or args.hold_activity:
            raise InputError(f"--base {args.base} is a GRU: only --method unstructured applies, "
                             f"and it has no activity to hold")
        kw = {k: v for k, v in kw.items() if k not in ("gamma", "eps")}
        net = GRULanguageModel.from_model(base, **kw)
        params = {f"l{i}.{n}": getattr(g, a) for i, g in enumerate(net.layers)
                  for n, a in (("W", "weight_ih_l0"), ("R", "weight_hh_l0"))}
        to_param = lambda m: to_torch_order(m, m.shape[0] // 3)  # masks are in [z | r | g] order
    else:
        net = EGRULanguageModel.from_model(base, **kw)
        params = {f"l{i}.{n}": getattr(l, n) for i, l in enumerate(net.layers) for n in ("W", "R")}
        to_param = lambda m: m
    for k in ("activity_target", "activity_weight"):  # keep the training's activity regulariser
        if k in targs and getattr(args, k) == build_parser().get_default(k):
            setattr(args, k, targs[k])
    logf = open(args.log, "a") if args.log else None

    def log(rec):
        line = json.dumps({"time": time.strftime("%H:%M:%S"), "name": args.name, **rec})
        print(line, flush=True)
        if logf:
            logf.write(line + "\n")
            logf.flush()

    data = batchify(corpus.train, args.batch_size)
    held = None
    if args.hold_activity:
        held = measure_train_activity(load_model(args.hold_activity), kw, data, args)
        args.activity_target = torch.tensor([max(0.0, a - args.hold_margin) for a in held])
        log({"held_activity": [round(a, 4) for a in held],
             "activity_targets": [round(float(a), 4) for a in args.activity_target],
             "activity_weight": args.activity_weight})
    opt = make_optimizer(net, args)
    t0 = time.time()
    total = args.steps_per_stage * len(stages)
    step, pos, state = 0, int(np.random.default_rng(args.seed).integers(0, data.shape[0] - args.bptt - 1)), None
    for s in stages:
        masks = make_masks(net.to_model(), s, args.method, args.groups)
        tmasks = [(params[k], torch.from_numpy(np.ascontiguousarray(to_param(m)))) for k, m in masks.items()]
        with torch.no_grad():
            for p, m in tmasks:
                p.mul_(m)
        log({"stage_sparsity": s, "method": args.method})
        step, pos, state = train_steps(net, opt, data, args, step, step + args.steps_per_stage, pos,
                                       state, log, masks=tmasks, schedule_total=total)
    wall = time.time() - t0
    ppl, act, _ = evaluate(net, corpus.valid, batch_size=10)
    m = net.to_model()
    sp = matrix_sparsity(m)
    meta = dict(base.meta)
    meta.update(name=args.name, pruned={
        "command": "python -m accelsim.workloads.prune " + " ".join(sys.argv[1:]),
        "base": Path(args.base).name, "base_sha256": file_sha256(args.base), "method": args.method,
        "scope": "per matrix", "groups": args.groups if args.method == "column-balanced" else None,
        "stages": stages, "steps_per_stage": args.steps_per_stage, "seed": args.seed,
        "lr": args.lr, "activity_weight": args.activity_weight,
        "hold_activity": None if held is None else {
            "model": Path(args.hold_activity).name, "train_mode_activity": [round(a, 5) for a in held],
            "margin": args.hold_margin},
        "wall_s": round(wall, 1), "val_ppl_torch_batch10": round(ppl, 2),
        "matrix_sparsity": sp})
    m.meta = meta
    save_model(args.out, m)
    log({"event": "done", "wall_s": round(wall, 1), "val_ppl": round(ppl, 2),
         "val_activity_sparsity": [round(1 - a, 4) for a in act], "matrix_sparsity": sp,
         "out": args.out})
    return 0


if __name__ == "__main__":
    sys.exit(main())
