"""Train the EGRU language model on PTB: ``python -m accelsim.workloads.train``.

Checkpoints (model, optimiser, step, data position, RNG) are written atomically to
``OUT/checkpoint.pt`` every ``--checkpoint-every-s`` seconds and at the end; running the same
command again resumes from it. Progress lines (and ``OUT/log.jsonl``) show training loss,
validation perplexity and per-layer activity sparsity. ``--export`` writes the torch-free model
file (float16) used by ``accelsim trace egru``.

Loss = cross-entropy + ``activity_weight`` * sum over layers of max(0, a_l - activity_target),
where a_l is the fraction of units emitting an event per step (gradient through the surrogate):
a hinge, so it pushes activity down to the target and then leaves the perplexity alone.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from accelsim.errors import InputError, report_input_errors
from accelsim.io import atomic_write_bytes
from accelsim.workloads.egru_torch import EGRULanguageModel, evaluate
from accelsim.workloads.model_file import save_model
from accelsim.workloads.ptb import batchify, load_ptb


def add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cell", default="egru", choices=("egru", "gru"),
                   help="egru (default) or gru: a plain GRU, the model behind the delta-network "
                        "workloads (no thresholds; the activity regulariser does not apply)")
    p.add_argument("--sizes", default="200,400,400,200",
                   help="embedding size then hidden sizes, last = embedding (tied decoder)")
    p.add_argument("--threshold-mean", type=float, default=0.1)
    p.add_argument("--gamma", type=float, default=0.7, help="surrogate gradient height")
    p.add_argument("--eps", type=float, default=1.0, help="surrogate gradient support 1/eps")
    p.add_argument("--embedding-init", type=float, default=0.5,
                   help="embedding drawn from U(-a, a); a larger a drives layer 0 harder")
    p.add_argument("--dropout-emb", type=float, default=0.1)
    p.add_argument("--dropout-forward", type=float, default=0.1)
    p.add_argument("--dropout-out", type=float, default=0.1)


def add_optim_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--bptt", type=int, default=35)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--lr-final", type=float, default=1e-4, help="cosine schedule end value")
    p.add_argument("--weight-decay", type=float, default=0.01, help="AdamW, decoupled")
    p.add_argument("--grad-clip", type=float, default=0.5)
    p.add_argument("--activity-target", type=float, default=0.15)
    p.add_argument("--activity-weight", type=float, default=1.0)
    p.add_argument("--activity-start", type=float, default=0.3,
                   help="fraction of the steps before the activity regulariser turns on (it ramps "
                        "up linearly over the next 10%%): context first, sparsity after")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--threshold-lr", type=float, default=0.0,
                   help="learning rate of the thresholds (0 = fixed at their Beta init, as the "
                        "reference PTB setup)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m accelsim.workloads.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ptb", default=None, help="PTB folder (default: $ACCELSIM_PTB)")
    p.add_argument("--out", required=True, help="run folder (checkpoint, log)")
    p.add_argument("--steps", type=int, required=True, help="optimiser steps (sets the LR schedule)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--eval-every", type=int, default=400, help="steps between validation runs")
    p.add_argument("--eval-tokens", type=int, default=None, help="validation prefix (default: all)")
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--checkpoint-every-s", type=float, default=300.0)
    p.add_argument("--export", default=None, help="write the final model file (.npz) here")
    p.add_argument("--init", default=None,
                   help="start from this exported model file (.npz) instead of a fresh init, with a "
                        "fresh optimiser and LR schedule: training an exported model longer")
    add_model_args(p)
    add_optim_args(p)
    return p


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise InputError(f"--sizes must be comma-separated integers (got {text!r})") from None
    if len(sizes) < 2 or min(sizes) < 1 or sizes[0] != sizes[-1]:
        raise InputError(f"--sizes must be E,H1,...,HL with HL = E and all >= 1 (got {text!r})")
    return sizes


def make_model(args, vocab_size: int):
    if getattr(args, "cell", "egru") == "gru":
        from accelsim.workloads.gru_torch import GRULanguageModel
        net = GRULanguageModel(vocab_size, parse_sizes(args.sizes), args.dropout_emb,
                               args.dropout_forward, args.dropout_out)
        with torch.no_grad():
            net.embedding.weight.uniform_(-args.embedding_init, args.embedding_init)
        return net
    net = EGRULanguageModel(vocab_size, parse_sizes(args.sizes), args.threshold_mean, args.gamma,
                            args.eps, args.dropout_emb, args.dropout_forward, args.dropout_out)
    with torch.no_grad():
        net.embedding.weight.uniform_(-args.embedding_init, args.embedding_init)
    return net


def make_optimizer(net: EGRULanguageModel, args) -> torch.optim.Optimizer:
    decay, no_decay, thr = [], [], []
    for name, p in net.named_parameters():
        if name.endswith("threshold"):
            thr.append(p)
        else:
            (decay if p.ndim == 2 else no_decay).append(p)  # no decay on biases
    groups = [{"params": decay, "weight_decay": args.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    tlr = getattr(args, "threshold_lr", 0.0)
    if tlr > 0:
        groups.append({"params": thr, "weight_decay": 0.0, "lr_scale": tlr / args.lr})
    else:
        for p in thr:
            p.requires_grad_(False)
    return torch.optim.AdamW(groups, lr=args.lr)


def cosine_lr(step: int, total: int, lr: float, lr_final: float, warmup: int = 50) -> float:
    if step < warmup:
        return lr * (step + 1) / warmup
    f = min(1.0, (step - warmup) / max(1, total - warmup))
    return lr_final + 0.5 * (lr - lr_final) * (1 + math.cos(math.pi * f))


def train_steps(net, opt, data: np.ndarray, args, start_step: int, total_steps: int, pos: int,
                state, log, masks=None, on_step=None, schedule_total: int | None = None):
    """Run optimiser steps [start_step, total_steps) over ``data`` (steps x batch) from ``pos``.

    ``masks`` (name -> 0/1 tensor) keep pruned weights at zero. ``on_step(step, pos, state)`` is
    called after every step and may return True to stop early. The cosine LR schedule spans
    ``schedule_total`` steps (default ``total_steps``). Returns (step, pos, state).
    """
    schedule_total = schedule_total or total_steps
    step = start_step
    n = data.shape[0]
    t0 = time.time()
    loss_acc = act_acc = None
    while step < total_steps:
        net.train()
        if pos + 1 >= n - 1:
            pos, state = 0, None
        seq = min(args.bptt, n - 1 - pos)
        inp = torch.from_numpy(data[pos:pos + seq].astype(np.int64))
        tgt = torch.from_numpy(data[pos + 1:pos + 1 + seq].astype(np.int64))
        if state is None:
            state = net.init_state(data.shape[1])
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, schedule_total, args.lr, args.lr_final) * g.get("lr_scale", 1.0)
        logits, outs, state = net(inp, state)
        state = [tuple(s.detach() for s in st) for st in state]
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
        acts = torch.stack([o.mean() for o in outs]) if outs else torch.zeros(0)
        start = getattr(args, "activity_start", 0.0) * schedule_total
        ramp = min(1.0, max(0.0, (step - start) / (0.1 * schedule_total))) if start > 0 else 1.0
        loss = ce + ramp * args.activity_weight * torch.clamp(acts - args.activity_target, min=0).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), args.grad_clip)
        opt.step()
        net.clamp_thresholds()
        if masks is not None:
            with torch.no_grad():
                for p, m in masks:
                    p.mul_(m)
        pos += seq
        step += 1
        a = acts.detach().numpy()
        loss_acc = ce.item() if loss_acc is None else 0.95 * loss_acc + 0.05 * ce.item()
        act_acc = a if act_acc is None else 0.95 * act_acc + 0.05 * a
        if step % args.log_every == 0 or step == total_steps:
            dt = (time.time() - t0) / max(1, step - start_step)
            log({"step": step, "loss": round(loss_acc, 4), "train_ppl": round(math.exp(loss_acc), 2),
                 "activity_sparsity": [round(1 - float(x), 4) for x in act_acc],
                 "lr": round(opt.param_groups[0]["lr"], 6), "s_per_step": round(dt, 3)})
        if on_step is not None and on_step(step, pos, state):
            break
    return step, pos, state


def save_checkpoint(path: Path, net, opt, step, pos, extra: dict) -> None:
    buf = io.BytesIO()
    torch.save({"model": net.state_dict(), "optim": opt.state_dict(), "step": step, "pos": pos,
                "torch_rng": torch.get_rng_state(), "extra": extra}, buf)
    atomic_write_bytes(path, buf.getvalue())  # an interrupted save never leaves a half checkpoint


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return report_input_errors(run, args)


def run(args) -> int:
    torch.set_num_threads(args.threads)
    corpus = load_ptb(args.ptb)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    logf = open(out / "log.jsonl", "a")

    def log(rec):
        rec = {"time": time.strftime("%H:%M:%S"), **rec}
        line = json.dumps(rec)
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    net = make_model(args, corpus.vocab_size)
    init_meta = None
    if args.init:
        from accelsim.workloads.model_file import load_model
        base = load_model(args.init)
        if base.sizes != parse_sizes(args.sizes) or base.vocab_size != corpus.vocab_size:
            raise InputError(f"--init {args.init}: sizes {base.sizes} / vocabulary {base.vocab_size} "
                             f"do not match --sizes {args.sizes} / PTB's {corpus.vocab_size}")
        if base.cell != getattr(args, "cell", "egru"):
            raise InputError(f"--init {args.init} is a {base.cell} model; --cell is {args.cell}")
        cls = EGRULanguageModel
        if base.cell == "gru":
            from accelsim.workloads.gru_torch import GRULanguageModel as cls
        kw = dict(dropout_emb=args.dropout_emb, dropout_forward=args.dropout_forward,
                  dropout_out=args.dropout_out)
        if base.cell == "egru":
            kw.update(gamma=args.gamma, eps=args.eps)
        net = cls.from_model(base, **kw)
        init_meta = base.meta
    opt = make_optimizer(net, args)
    data = batchify(corpus.train, args.batch_size)
    ckpt = out / "checkpoint.pt"
    step, pos, wall = 0, 0, 0.0
    if ckpt.exists():
        ck = torch.load(ckpt, weights_only=False)
        net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optim"])
        step, pos = ck["step"], ck["pos"]
        torch.set_rng_state(ck["torch_rng"])
        wall = ck["extra"].get("train_wall_s", 0.0)
        log({"event": "resumed", "step": step, "pos": pos})
    else:
        log({"event": "start", "args": vars(args),
             "params": sum(p.numel() for p in net.parameters())})
    t_start = time.time()
    last_ckpt = [time.time()]

    def on_step(s, p, state):
        if s % args.eval_every == 0 and s < args.steps:
            ppl, act, _ = evaluate(net, corpus.valid, batch_size=10, max_tokens=args.eval_tokens)
            log({"step": s, "val_ppl": round(ppl, 2),
                 "val_activity_sparsity": [round(1 - a, 4) for a in act]})
        if time.time() - last_ckpt[0] > args.checkpoint_every_s:
            save_checkpoint(ckpt, net, opt, s, p, {"train_wall_s": wall + time.time() - t_start})
            last_ckpt[0] = time.time()
        return False

    if step < args.steps:
        step, pos, _ = train_steps(net, opt, data, args, step, args.steps, pos, None, log,
                                   on_step=on_step)
        wall += time.time() - t_start
        save_checkpoint(ckpt, net, opt, step, pos, {"train_wall_s": wall})
    ppl, act, _ = evaluate(net, corpus.valid, batch_size=10)
    log({"event": "done", "step": step, "train_wall_s": round(wall, 1), "val_ppl": round(ppl, 2),
         "val_activity_sparsity": [round(1 - a, 4) for a in act]})
    if args.export:
        meta = {"trained": {"command": "python -m accelsim.workloads.train " + " ".join(sys.argv[1:]),
                            "seed": args.seed, "steps": step, "train_wall_s": round(wall, 1),
                            "val_ppl_torch_batch10": round(ppl, 2), "args": vars(args)}}
        if init_meta is not None:  # trained longer: keep the earlier run's record
            meta["trained"]["init"] = {"path": Path(args.init).name, "trained": init_meta.get("trained")}
        save_model(args.export, net.to_model(meta))
        log({"event": "exported", "path": args.export})
    return 0


if __name__ == "__main__":
    sys.exit(main())
