"""Small validation cases written from scratch, and the shared measured ones when present."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

SHARED = Path(os.environ.get("ACCELSIM_VALIDATION",
                             Path(__file__).resolve().parents[3] / "shared" / "data" / "validation"))


def shared_case(name: str) -> Path:
    p = SHARED / name
    if not (p / "case.json").exists():
        pytest.skip(f"validation case not found at {p} (set ACCELSIM_VALIDATION)")
    return p


def write_case(folder: Path, *, layers=((8, 16), (16, 16)), steps=12, stream="every_cycle",
               startup=2, seed=0) -> Path:
    """A valid case with random fired columns and cycles (the cycles mean nothing)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays, rows = {}, []
    counts = {}
    for l, (n_in, H) in enumerate(layers):
        bias = np.zeros(steps, np.uint8)
        bias[0] = 1
        for part, n in (("x", n_in), ("h", H)):
            fired = [np.sort(rng.choice(n, rng.integers(0, n + 1), replace=False)) for _ in range(steps)]
            if part == "h":
                fired[0] = np.zeros(0, np.int64)
            indptr = np.zeros(steps + 1, np.int64)
            indptr[1:] = np.cumsum([len(f) for f in fired])
            arrays[f"l{l}.{part}.indptr"] = indptr
            arrays[f"l{l}.{part}.indices"] = np.concatenate(fired).astype(np.int64)
            counts[(l, part)] = np.diff(indptr)
        arrays[f"l{l}.bias"] = bias
    cycles = rng.integers(50, 300, size=(steps, len(layers)))
    for t in range(steps):
        for l in range(len(layers)):
            rows.append(f"{t},{l},{counts[(l, 'x')][t]},{counts[(l, 'h')][t]},"
                        f"{int(arrays[f'l{l}.bias'][t])},{cycles[t, l]}")
    meta = {"name": folder.name, "source": "synthetic test case",
            "layers": [{"input_size": i, "hidden_size": h} for i, h in layers], "steps": steps,
            "thresholds": {"x": 0.0, "h": 0.0, "x_q8_8": 0, "h_q8_8": 0}, "stream": stream,
            "rtl_cycles_total": int(startup + cycles.sum()), "startup_cycles": startup}
    (folder / "case.json").write_text(json.dumps(meta, indent=1))
    (folder / "steps.csv").write_text("t,layer,n_x,n_h,bias,cycles\n" + "\n".join(rows) + "\n")
    save_npz(folder / "events.npz", arrays)
    return folder


def copy_case(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    for p in dst.iterdir():
        p.chmod(0o644)
    dst.chmod(0o755)
    return dst


def load_npz(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def save_npz(path: Path, arrays: dict) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path.write_bytes(buf.getvalue())


def edit_json(folder: Path, fn) -> None:
    meta = json.loads((folder / "case.json").read_text())
    fn(meta)
    (folder / "case.json").write_text(json.dumps(meta))


def edit_npz(folder: Path, fn) -> None:
    arrays = load_npz(folder / "events.npz")
    fn(arrays)
    save_npz(folder / "events.npz", arrays)


def csv_lines(folder: Path) -> list[str]:
    return (folder / "steps.csv").read_text().splitlines()


def write_csv_lines(folder: Path, lines: list[str]) -> None:
    (folder / "steps.csv").write_text("\n".join(lines) + "\n")
