"""Measure exported GRU models as delta networks on PTB test, over delta thresholds.

``python -m accelsim.workloads.delta_summary --ptb PATH --thetas 0,0.05,0.1 --out F.json MODEL...``

Per model and threshold theta (``theta_x = theta_h = theta``): test perplexity (Numba, batch 1,
whole split as one stream), the fraction of input and recurrent columns sent per step per layer,
MACs per token by the op-accounting formula with the sent fractions
(``MAC_l = (1 - s_W) x_l n_in 3H + (1 - s_R) h_l H 3H``, decoder excluded), and with ``--torch``
the agreement with the torch delta forward on a prefix: the fraction of identical transmissions
(|A ∩ B| / |A ∪ B| over (step, layer, column), input and recurrent columns together) and both
perplexities. ``--match EGRU.npz`` also searches (bisection on theta) for the threshold whose
perplexity is within ``--match-tol`` of that EGRU model's (the search runs on the first
``--match-tokens`` test tokens, against the EGRU's perplexity on the same tokens; the threshold
found is then measured on the whole split like the listed ones, next to the EGRU's whole-split
perplexity).
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
from accelsim.io import atomic_write_text, file_sha256
from accelsim.trace.stats import formula_macs
from accelsim.workloads.delta_infer import run_delta
from accelsim.workloads.infer import pack
from accelsim.workloads.model_file import load_model
from accelsim.workloads.ptb import load_ptb


def measure(model, packed, ids, theta: float) -> dict:
    res = run_delta(model, ids, theta, theta, record_events=False, packed=packed)
    n_in = [l.input_size for l in model.layers]
    hid = [l.hidden_size for l in model.layers]
    xa, ha = res.x_activity(n_in), res.h_activity(hid)
    dense = sparse = 0.0
    for l, x, h in zip(model.layers, xa, ha):
        dense += (l.input_size + l.hidden_size) * 3 * l.hidden_size
        sparse += formula_macs(l.input_size, l.hidden_size, float((l.W == 0).mean()),
                               float((l.R == 0).mean()), x, h)
    return {"theta_x": theta, "theta_h": theta, "test_perplexity": round(res.perplexity, 3),
            "x_sent": [round(a, 4) for a in xa], "h_sent": [round(a, 4) for a in ha],
            "macs_per_token_dense": dense, "macs_per_token_formula": round(sparse, 1),
            "mac_reduction": round(dense / sparse, 3) if sparse else None,
            "inference_wall_s": round(res.wall_s, 2)}


def torch_agreement(model, ids, theta: float) -> dict:
    import torch

    from accelsim.workloads.gru_torch import forward_delta

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    xf, hf, nll = forward_delta(model, ids, theta, theta)
    wall = time.perf_counter() - t0
    res = run_delta(model, ids, theta, theta)
    inter = union = 0
    for l in range(len(model.layers)):
        for (indptr, idx, _), want in ((res.x_events[l], xf[l]), (res.h_events[l], hf[l])):
            got = np.zeros(want.shape, bool)
            got[np.repeat(np.arange(len(indptr) - 1), np.diff(indptr)), idx] = True
            inter += int((got & want).sum())
            union += int((got | want).sum())
    ppl_t = math.exp(float(nll.mean()))
    return {"tokens": int(len(ids)), "identical_transmission_fraction": inter / union if union else 1.0,
            "transmissions_union": union, "differing": union - inter,
            "perplexity_numba": round(res.perplexity, 4), "perplexity_torch": round(ppl_t, 4),
            "perplexity_rel_diff": abs(res.perplexity - ppl_t) / ppl_t, "torch_wall_s": round(wall, 1)}


def match_theta(model, packed, ids, target: float, tol: float, hi: float = 1.0, iters: int = 14):
    """Bisection on theta for a perplexity over ``ids`` within ``tol`` (relative) of ``target``;
    the perplexity rises with theta. Returns the record of the best theta found, or None if even
    theta = 0 is above the target band or theta = ``hi`` stays below it."""
    lo_rec = measure(model, packed, ids, 0.0)
    if lo_rec["test_perplexity"] > target * (1 + tol):
        return None
    hi_rec = measure(model, packed, ids, hi)
    if hi_rec["test_perplexity"] < target * (1 - tol):
        return None
    lo, best = 0.0, lo_rec
    for _ in range(iters):
        if abs(best["test_perplexity"] - target) <= tol * target:
            break
        mid = round((lo + hi) / 2, 5)
        rec = measure(model, packed, ids, mid)
        if abs(rec["test_perplexity"] - target) < abs(best["test_perplexity"] - target):
            best = rec
        if rec["test_perplexity"] < target:
            lo = mid
        else:
            hi = mid
    return best


def _floats(text: str) -> list[float]:
    if not text.strip():
        return []  # only the --match searches
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        raise InputError(f"--thetas must be comma-separated numbers (got {text!r})") from None
    if any(not (v >= 0 and math.isfinite(v)) for v in vals):
        raise InputError(f"--thetas must be finite and >= 0 (got {text!r})")
    return vals


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m accelsim.workloads.delta_summary", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="exported GRU model files (.npz)")
    p.add_argument("--ptb", default=None)
    p.add_argument("--thetas", default="", help="delta thresholds to measure on the whole split "
                   "(theta_x = theta_h), comma-separated; default: none, only the --match searches")
    p.add_argument("--match", action="append", default=[], metavar="EGRU.npz",
                   help="also find the theta whose perplexity is within --match-tol of this EGRU "
                        "model's (repeatable)")
    p.add_argument("--match-tol", type=float, default=0.01)
    p.add_argument("--match-tokens", type=int, default=20000,
                   help="test prefix the threshold search runs on (default 20,000)")
    p.add_argument("--torch", action="store_true", help="check agreement with the torch forward")
    p.add_argument("--torch-tokens", type=int, default=20000, help="prefix of the split for the check")
    p.add_argument("--out", required=True, help="summary JSON")
    return report_input_errors(run, p.parse_args(argv))


def run(args) -> int:
    thetas = _floats(args.thetas)
    corpus = load_ptb(args.ptb)
    ids = corpus.test
    targets = {}
    for egru_path in args.match:  # the EGRU's perplexity on the search prefix and the whole split
        from accelsim.workloads.infer import run_inference

        egru = load_model(egru_path)
        if egru.cell != "egru":
            raise InputError(f"--match {egru_path}: not an EGRU model")
        full = run_inference(egru, ids, record_events=False)
        pre = run_inference(egru, ids[:args.match_tokens], record_events=False)  # same predictions
        targets[egru_path] = (pre.perplexity, full.perplexity)
    rows = []
    for path in args.models:
        model = load_model(path)
        if model.cell != "gru":
            raise InputError(f"{path}: not a GRU model (delta networks are measured from GRUs)")
        packed = pack(model, dense_w0=True)
        mats = {f"l{i}.{n}": round(float((getattr(l, n) == 0).mean()), 6)
                for i, l in enumerate(model.layers) for n in ("W", "R")}
        points = []
        for th in thetas:
            points.append(dict(measure(model, packed, ids, th), role="listed"))
            print(json.dumps({"model": Path(path).name, **points[-1]}), flush=True)
        for egru_path, (ppl_prefix, ppl_full) in targets.items():
            rec = match_theta(model, packed, ids[:args.match_tokens], ppl_prefix, args.match_tol)
            match = {"egru_model": Path(egru_path).name, "egru_prefix_perplexity": round(ppl_prefix, 3),
                     "egru_test_perplexity": round(ppl_full, 3),
                     "prefix_tokens": int(min(len(ids), args.match_tokens))}
            if rec is not None:
                full = measure(model, packed, ids, rec["theta_x"])
                match["prefix_perplexity"] = rec["test_perplexity"]
                match["test_perplexity_ratio"] = round(full["test_perplexity"] / ppl_full, 4)
                points.append(dict(full, role="matched", match=match))
                print(json.dumps({"model": Path(path).name, **points[-1]}), flush=True)
            else:
                print(json.dumps({"model": Path(path).name, "match": match, "matched": None}), flush=True)
        if args.torch:
            for pt in points:
                pt["torch_check"] = torch_agreement(model, ids[:args.torch_tokens], pt["theta_x"])
        rows.append({"model": Path(path).name, "sha256": file_sha256(path), "bytes": Path(path).stat().st_size,
                     "sizes": model.sizes, "name": model.meta.get("name"), "weight_sparsity": mats,
                     "test_tokens": int(len(ids)), "points": points})
    doc = {"dataset": "ptb", "split": "test", "models": rows,
           "note": "delta networks (theta_x = theta_h); perplexity over the whole test split as one "
                   "stream (batch 1), Numba inference"}
    atomic_write_text(args.out, json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
