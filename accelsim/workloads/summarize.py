"""Measure exported models on PTB test and check the Numba inference against torch.

``python -m accelsim.workloads.summarize --ptb PATH --out workloads/models/summary.json MODEL...``

Per model: test perplexity (Numba, batch 1, whole split as one stream), per-layer activity
sparsity, per-matrix weight sparsity, MACs per token by the op-accounting formula
``MAC_l = (1 - s_W) a_{l-1} n_in 3H + (1 - s_R) a_l H 3H`` (a_{-1} = 1: the embedding is dense;
decoder excluded) and the reduction vs dense, and — with ``--torch`` — agreement with the torch
forward on the same float16-rounded weights: the fraction of identical events (|A ∩ B| / |A ∪ B|
over (step, layer, unit)) and both perplexities.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from accelsim.errors import InputError, report_input_errors
from accelsim.io import atomic_write_text
from accelsim.trace.stats import formula_macs
from accelsim.workloads.infer import run_inference
from accelsim.workloads.model_file import load_model
from accelsim.workloads.ptb import load_ptb
from accelsim.io import file_sha256


def mac_formula(model, activity: list[float]) -> tuple[float, float, list[dict]]:
    """(dense MACs/token, sparse MACs/token, per-layer detail) by the op-accounting formula."""
    dense = sparse = 0.0
    rows = []
    a_prev = 1.0
    for l, a in zip(model.layers, activity):
        d = (l.input_size + l.hidden_size) * 3 * l.hidden_size
        s = formula_macs(l.input_size, l.hidden_size, float((l.W == 0).mean()),
                         float((l.R == 0).mean()), a_prev, a)
        rows.append({"dense_macs": d, "sparse_macs": round(s, 1)})
        dense += d
        sparse += s
        a_prev = a
    return dense, sparse, rows


def torch_agreement(model, ids, res) -> dict:
    import torch

    from accelsim.workloads.egru_torch import EGRULanguageModel, forward_events

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    ys, nll = forward_events(EGRULanguageModel.from_model(model), ids)
    wall = time.perf_counter() - t0
    inter = union = 0
    max_diff = 0.0
    for l, (indptr, idx, val) in enumerate(res.events):
        y = ys[l]
        a = np.zeros(y.shape, dtype=bool)
        steps = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        a[steps, idx] = True
        b = y != 0
        inter += int((a & b).sum())
        union += int((a | b).sum())
        both = a & b
        vals = np.zeros(y.shape, np.float32)
        vals[steps, idx] = val
        if both.any():
            max_diff = max(max_diff, float(np.abs(vals[both] - y[both]).max()))
    ppl_t = math.exp(float(nll.mean()))
    return {"identical_event_fraction": inter / union if union else 1.0,
            "events_numba_only_or_torch_only": union - inter, "events_union": union,
            "max_abs_value_diff_common_events": max_diff, "perplexity_torch": round(ppl_t, 4),
            "perplexity_rel_diff": abs(res.perplexity - ppl_t) / ppl_t, "torch_wall_s": round(wall, 1)}


def summarize(path: str, corpus, with_torch: bool, torch_tokens: int | None = None) -> dict:
    model = load_model(path)
    ids = corpus.test
    res = run_inference(model, ids, record_events=with_torch and not torch_tokens)
    hidden = [l.hidden_size for l in model.layers]
    act_sp = res.activity_sparsity(hidden)
    activity = [1 - s for s in act_sp]
    dense, sparse, per_layer = mac_formula(model, activity)
    mats = {f"l{i}.{n}": round(float((getattr(l, n) == 0).mean()), 6)
            for i, l in enumerate(model.layers) for n in ("W", "R")}
    total_units = sum(hidden)
    rec = {
        "model": Path(path).name, "sha256": file_sha256(path), "bytes": Path(path).stat().st_size,
        "sizes": model.sizes, "name": model.meta.get("name"),
        "pruning": {k: model.meta.get("pruned", {}).get(k) for k in ("method", "scope", "groups", "stages", "steps_per_stage", "seed", "wall_s", "command")} if "pruned" in model.meta else None,
        "test_tokens": int(len(ids)), "test_predictions": res.predictions,
        "test_perplexity": round(res.perplexity, 3),
        "activity_sparsity": [round(s, 4) for s in act_sp],
        "activity_sparsity_mean": round(1 - float(res.event_counts.sum()) / (res.tokens * total_units), 4),
        "weight_sparsity": mats,
        "weight_sparsity_overall": round(sum(float((getattr(l, n) == 0).sum()) for l in model.layers for n in ("W", "R"))
                                         / sum(getattr(l, n).size for l in model.layers for n in ("W", "R")), 6),
        "macs_per_token_dense": dense, "macs_per_token_formula": round(sparse, 1),
        "mac_reduction": round(dense / sparse, 3), "per_layer_macs": per_layer,
        "inference_wall_s": round(res.wall_s, 2),
    }
    if with_torch:
        if torch_tokens:  # the check over a prefix (the torch loop is slow at batch 1)
            sub = ids[:torch_tokens]
            rec["torch_check"] = torch_agreement(model, sub, run_inference(model, sub))
        else:
            rec["torch_check"] = torch_agreement(model, ids, res)
        rec["torch_check"]["tokens"] = int(torch_tokens or len(ids))
    return rec


def markdown_table(rows: list[dict]) -> str:
    head = ("| model | weight sparsity (W,R per layer) | test ppl | activity sparsity per layer (mean) "
            "| MACs/token (formula) | MAC reduction | identical events vs torch | ppl diff vs torch |\n"
            "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |\n")
    out = []
    for r in rows:
        ws = " ".join(f"{v * 100:.0f}" for v in r["weight_sparsity"].values())
        act = ", ".join(f"{a * 100:.1f}" for a in r["activity_sparsity"])
        tc = r.get("torch_check") or {}
        ident = f"{tc['identical_event_fraction'] * 100:.4f}% ({tc['tokens']:,} tok)" if tc else "—"
        pd = f"{tc['perplexity_rel_diff'] * 100:.3f}%" if tc else "—"
        out.append(f"| `{r['model']}` | {ws} % | {r['test_perplexity']:.2f} | {act} % "
                   f"({r['activity_sparsity_mean'] * 100:.1f} %) | {r['macs_per_token_formula']:,.0f} "
                   f"/ {r['macs_per_token_dense']:,.0f} | {r['mac_reduction']:.2f}x | {ident} | {pd} |")
    return head + "\n".join(out) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m accelsim.workloads.summarize", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="model files, or with --merge earlier summary JSONs")
    p.add_argument("--merge", action="store_true",
                   help="combine the models of earlier summary JSON files into --out (no runs)")
    p.add_argument("--ptb", default=None)
    p.add_argument("--out", required=True, help="summary JSON")
    p.add_argument("--torch", action="store_true", help="also check agreement with the torch forward")
    p.add_argument("--torch-tokens", type=int, default=None,
                   help="check on this prefix of the test split (default: all of it)")
    p.add_argument("--torch-full", action="append", default=[], metavar="MODEL_FILE_NAME",
                   help="models checked on the whole split even with --torch-tokens (repeatable)")
    return report_input_errors(run, p.parse_args(argv))


def _merged_rows(files) -> list[dict]:
    rows = []
    for f in files:
        try:
            rows += json.loads(Path(f).read_text())["models"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise InputError(f"{f}: not a summary JSON with a 'models' list ({type(e).__name__}: {e})") from None
    return rows


def run(args) -> int:
    if args.merge:
        rows = _merged_rows(args.models)
    else:
        corpus = load_ptb(args.ptb)
        rows = []
        for m in args.models:
            full = Path(m).name in args.torch_full
            r = summarize(m, corpus, args.torch, None if full else args.torch_tokens)
            print(json.dumps({k: r[k] for k in ("model", "test_perplexity", "activity_sparsity", "mac_reduction", "inference_wall_s")}
                             | ({"torch_check": r["torch_check"]} if "torch_check" in r else {})), flush=True)
            rows.append(r)
    doc = {"dataset": "ptb", "split": "test", "models": rows,
           "note": "perplexity over the whole test split as one stream (batch 1), Numba inference"}
    atomic_write_text(args.out, json.dumps(doc, indent=1) + "\n")
    print(markdown_table(rows))
    return 0

if __name__ == "__main__":
    sys.exit(main())
