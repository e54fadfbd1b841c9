"""Simulated vs measured cycles: per layer-step cycles from the per-step table, and the metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

STEPS_COLUMNS = ("t", "layer", "phase", "start", "end", "cycles")
METRIC_KEYS = ("case", "config", "layer_steps", "rtl_cycles", "sim_cycles", "ratio", "exact_fraction",
               "mean_abs_error_pct", "p95_abs_error_pct", "correlation")
CSV_COLUMNS = ("t", "layer", "n_x", "n_h", "bias", "rtl_cycles", "sim_cycles", "error_pct")


def layer_step_cycles(steps: pd.DataFrame, steps_n: int, layers_n: int) -> np.ndarray:
    """(T, L) simulated cycles of each layer-step: last end - first start over its rows (every
    phase of that layer at that step, the update included). Rows of other clusters (a decoder)
    are ignored."""
    missing = [c for c in ("t", "layer", "start", "end") if c not in steps.columns]
    if missing:
        raise ValueError(f"per-step table lacks column(s) {', '.join(missing)}")
    s = steps[(steps["layer"] >= 0) & (steps["layer"] < layers_n) & (steps["t"] >= 0)
              & (steps["t"] < steps_n)]
    if "phase" in s.columns:
        s = s[s["phase"] != "decoder"]
    g = s.groupby(["t", "layer"], sort=True).agg(first=("start", "min"), last=("end", "max"))
    out = np.full((steps_n, layers_n), -1, dtype=np.int64)
    t = g.index.get_level_values("t").to_numpy(np.int64)
    l = g.index.get_level_values("layer").to_numpy(np.int64)
    out[t, l] = (g["last"] - g["first"]).to_numpy(np.int64)
    if (out < 0).any():
        t0, l0 = (int(v[0]) for v in np.nonzero(out < 0))
        raise ValueError(f"per-step table has no row for layer {l0} at step {t0}")
    return out


def abs_error_pct(rtl: np.ndarray, sim: np.ndarray) -> np.ndarray:
    rtl = np.asarray(rtl, dtype=np.float64)
    return np.abs(np.asarray(sim, dtype=np.float64) - rtl) / rtl * 100.0


def error_pct(rtl: np.ndarray, sim: np.ndarray) -> np.ndarray:
    """Signed: (sim - rtl) / rtl x 100 (positive: the simulator counts more cycles)."""
    rtl = np.asarray(rtl, dtype=np.float64)
    return (np.asarray(sim, dtype=np.float64) - rtl) / rtl * 100.0


def pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pearson correlation; None when undefined (fewer than two points, or either side constant)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.size < 2:
        return None
    da, db = a - a.mean(), b - b.mean()
    den = math.sqrt(float(da @ da) * float(db @ db))
    if den == 0.0:
        return None
    return max(-1.0, min(1.0, float(da @ db) / den))


def compare(rtl_steps: np.ndarray, sim_steps: np.ndarray, rtl_total: int, sim_total: int, *,
            case: str = "", config: str = "") -> dict:
    """The metrics, keys :data:`METRIC_KEYS` (JSON-ready).

    ``rtl_steps``/``sim_steps``: cycles per layer-step (any shape, same for both; RTL cycles > 0);
    ``ratio`` is of the totals, the other figures are per layer-step."""
    rtl = np.asarray(rtl_steps, dtype=np.int64).ravel()
    sim = np.asarray(sim_steps, dtype=np.int64).ravel()
    if rtl.shape != sim.shape:
        raise ValueError(f"shapes differ: RTL {rtl.shape}, simulated {sim.shape}")
    if (rtl <= 0).any():
        raise ValueError("RTL cycles must be positive")
    err = abs_error_pct(rtl, sim)
    n = int(rtl.size)
    return {
        "case": case,
        "config": config,
        "layer_steps": n,
        "rtl_cycles": int(rtl_total),
        "sim_cycles": int(sim_total),
        "ratio": float(sim_total) / float(rtl_total),
        "exact_fraction": float(np.mean(rtl == sim)) if n else 0.0,
        "mean_abs_error_pct": float(err.mean()) if n else 0.0,
        "p95_abs_error_pct": float(np.percentile(err, 95)) if n else 0.0,
        "correlation": pearson(rtl, sim),
    }


def per_layer_means(rtl_steps: np.ndarray, sim_steps: np.ndarray) -> list[tuple[float, float]]:
    """Per layer: (RTL, simulated) mean cycles per step; inputs are (T, L)."""
    return [(float(np.mean(rtl_steps[:, l])), float(np.mean(sim_steps[:, l])))
            for l in range(rtl_steps.shape[1])]


def per_step_frame(table: dict[str, np.ndarray], sim_steps: np.ndarray) -> pd.DataFrame:
    """One row per layer-step (t-major): :data:`CSV_COLUMNS`; ``error_pct`` is signed."""
    T, L = sim_steps.shape
    rtl = table["cycles"]
    df = pd.DataFrame({
        "t": np.repeat(np.arange(T, dtype=np.int64), L),
        "layer": np.tile(np.arange(L, dtype=np.int64), T),
        "n_x": table["n_x"].ravel(),
        "n_h": table["n_h"].ravel(),
        "bias": table["bias"].ravel(),
        "rtl_cycles": rtl.ravel(),
        "sim_cycles": sim_steps.ravel().astype(np.int64),
        "error_pct": error_pct(rtl.ravel(), sim_steps.ravel()),
    })
    return df[list(CSV_COLUMNS)]
