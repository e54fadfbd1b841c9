"""The validation figure: simulated vs measured cycles per layer-step, and the error histogram."""

from __future__ import annotations

import io

import numpy as np

DPI = 130


def comparison_png(rtl_steps: np.ndarray, sim_steps: np.ndarray, title: str = "") -> bytes:
    """PNG bytes. Left: simulated vs measured cycles per layer-step (one colour per layer) with
    the y = x line. Right: histogram of the per-layer-step error, (sim - RTL) / RTL in %."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from accelsim.validate.compare import error_pct

    rtl = np.asarray(rtl_steps)
    sim = np.asarray(sim_steps)
    if rtl.ndim == 1:
        rtl, sim = rtl[:, None], sim[:, None]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.4))
    for l in range(rtl.shape[1]):
        ax.scatter(rtl[:, l], sim[:, l], s=8, alpha=0.5, label=f"layer {l}")
    lo = float(min(rtl.min(), sim.min()))
    hi = float(max(rtl.max(), sim.max()))
    pad = 0.03 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="black", lw=1, label="y = x")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("measured (RTL) cycles per layer-step")
    ax.set_ylabel("simulated cycles per layer-step")
    ax.set_title("simulated vs measured")
    ax.legend(loc="upper left", fontsize=8)
    err = error_pct(rtl.ravel(), sim.ravel())
    lo_e, hi_e = float(err.min()), float(err.max())
    if hi_e - lo_e < 1.0:  # (nearly) all equal: one visible bar around it
        bins = np.linspace(lo_e - 0.5, hi_e + 0.5, 11)
    else:
        bins = min(60, max(10, int(np.sqrt(err.size))))
    bx.hist(err, bins=bins, color="tab:blue", edgecolor="white")
    bx.axvline(0.0, color="black", lw=1)
    bx.set_xlabel("error per layer-step, (sim - RTL) / RTL (%)")
    bx.set_ylabel("layer-steps")
    bx.set_title("error distribution")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()
