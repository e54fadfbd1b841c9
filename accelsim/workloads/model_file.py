"""The exported EGRU language model: one ``.npz`` (float16 weights), readable without torch.

Keys (all plain arrays; loads with ``allow_pickle=False``):

- ``meta``: 0-d string array holding JSON (``format: "accelsim-egru-model"``, ``version: 1``,
  ``sizes`` = [E, H1, ..., HL], ``vocab_size``, training/pruning provenance);
- ``embedding``: V x E, tied with the decoder (``logits = embedding @ y_L + decoder.bias``);
- ``l{l}.W`` (3H x n_in), ``l{l}.R`` (3H x H): gate rows ordered z, r, g;
- ``l{l}.bias_x``, ``l{l}.bias_r`` (3H), ``l{l}.threshold`` (H, float32: thresholds are small and
  decide every event, so they keep full precision);
- ``decoder.bias`` (V).

A GRU (the delta-network workloads) is stored the same way with ``format: "accelsim-gru-model"``
and no ``l{l}.threshold`` keys (its ``threshold`` is None): its transmission thresholds are
chosen at evaluation, not trained.

Weights are rounded to float16 once, at export; the torch check and the Numba inference both use
the rounded values, so they run the same model.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accelsim.errors import InputError
from accelsim.io import atomic_write_bytes

FORMAT = "accelsim-egru-model"
FORMAT_GRU = "accelsim-gru-model"
VERSION = 1


@dataclass
class EGRULayerWeights:
    W: np.ndarray  # 3H x n_in, float32
    R: np.ndarray  # 3H x H, float32
    bias_x: np.ndarray
    bias_r: np.ndarray
    threshold: np.ndarray | None  # None: a GRU (no events of its own)

    @property
    def input_size(self) -> int:
        return self.W.shape[1]

    @property
    def hidden_size(self) -> int:
        return self.R.shape[1]


@dataclass
class EGRUModel:
    embedding: np.ndarray  # V x E float32
    layers: list[EGRULayerWeights]
    decoder_bias: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def sizes(self) -> list[int]:
        return [self.embedding.shape[1]] + [l.hidden_size for l in self.layers]

    @property
    def vocab_size(self) -> int:
        return self.embedding.shape[0]

    @property
    def cell(self) -> str:
        """"egru" or "gru" (a GRU's layers carry no thresholds)."""
        return "gru" if self.layers and self.layers[0].threshold is None else "egru"


def to_half(w: np.ndarray) -> np.ndarray:
    """float16, except that a nonzero weight never rounds to zero (it would change the sparsity
    pattern the pruning fixed): such weights become the smallest float16 of the same sign."""
    h = w.astype(np.float16)
    lost = (h == 0) & (w != 0)
    if lost.any():
        h[lost] = np.copysign(np.float16(2.0 ** -24), w[lost]).astype(np.float16)
    return h


def to_arrays(model: EGRUModel) -> dict[str, np.ndarray]:
    """The model's arrays as stored: float16 weights, float32 thresholds."""
    out = {"embedding": model.embedding.astype(np.float16),
           "decoder.bias": model.decoder_bias.astype(np.float16)}
    for i, l in enumerate(model.layers):
        out[f"l{i}.W"] = to_half(l.W)
        out[f"l{i}.R"] = to_half(l.R)
        out[f"l{i}.bias_x"] = l.bias_x.astype(np.float16)
        out[f"l{i}.bias_r"] = l.bias_r.astype(np.float16)
        if l.threshold is not None:
            out[f"l{i}.threshold"] = l.threshold.astype(np.float32)
    return out


def round_trip(model: EGRUModel) -> EGRUModel:
    """The model exactly as a save + load gives it back (float16-rounded weights, as float32)."""
    meta = dict(model.meta, format=FORMAT_GRU if model.cell == "gru" else FORMAT)
    return _from_arrays(to_arrays(model), meta, "<memory>")


def save_model(path: str | os.PathLike, model: EGRUModel) -> None:
    meta = dict(model.meta)
    meta.update(format=FORMAT_GRU if model.cell == "gru" else FORMAT, version=VERSION, sizes=model.sizes, vocab_size=model.vocab_size)
    arrays = to_arrays(model)
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def _from_arrays(a: dict[str, np.ndarray], meta: dict, where: str) -> EGRUModel:
    gru = meta.get("format") == FORMAT_GRU

    def get(key):
        if key not in a:
            raise InputError(f"{where}: key {key!r} missing; not an accelsim EGRU model file")
        return np.asarray(a[key], dtype=np.float32)

    emb = get("embedding")
    layers = []
    i = 0
    n_in = emb.shape[1]
    while f"l{i}.W" in a:
        l = EGRULayerWeights(get(f"l{i}.W"), get(f"l{i}.R"), get(f"l{i}.bias_x"),
                             get(f"l{i}.bias_r"), None if gru else get(f"l{i}.threshold"))
        H = l.R.shape[1]
        if l.W.shape != (3 * H, n_in) or l.R.shape != (3 * H, H) or l.bias_x.shape != (3 * H,) \
                or l.bias_r.shape != (3 * H,) or (not gru and l.threshold.shape != (H,)):
            raise InputError(f"{where}: layer {i} shapes do not chain (W {l.W.shape}, R {l.R.shape}, "
                             f"expected W (3H, {n_in}) and R (3H, H))")
        layers.append(l)
        n_in = H
        i += 1
    if not layers:
        raise InputError(f"{where}: no layers (key 'l0.W' missing); not an accelsim EGRU model file")
    if n_in != emb.shape[1]:
        raise InputError(f"{where}: last hidden size {n_in} must equal the embedding size "
                         f"{emb.shape[1]} (tied decoder)")
    dec_b = get("decoder.bias")
    if dec_b.shape != (emb.shape[0],):
        raise InputError(f"{where}: decoder.bias has shape {dec_b.shape}, expected ({emb.shape[0]},)")
    for k, v in a.items():
        if v.dtype.kind == "f" and not np.all(np.isfinite(v)):
            raise InputError(f"{where}: key {k!r} holds NaN or inf")
    return EGRUModel(emb, layers, dec_b, meta)


def load_model(path: str | os.PathLike) -> EGRUModel:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: model file not found (exported models live in workloads/models/)")
    try:
        with np.load(p, allow_pickle=False) as z:
            a = {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"{p}: not a readable .npz model file ({e.__class__.__name__}: {e})") from None
    try:
        meta = json.loads(str(a.pop("meta")))
    except (KeyError, ValueError):
        raise InputError(f"{p}: key 'meta' missing or not JSON; not an accelsim EGRU model file") from None
    if meta.get("format") not in (FORMAT, FORMAT_GRU) or meta.get("version") != VERSION:
        raise InputError(f"{p}: meta format/version is {meta.get('format')!r}/{meta.get('version')!r}, "
                         f"expected {FORMAT!r} or {FORMAT_GRU!r} / {VERSION}")
    return _from_arrays(a, meta, str(p))
