"""Penn Treebank (Mikolov's language-modelling files): load, check, map words to ids, batch.

The folder comes from ``--ptb PATH`` or the ``ACCELSIM_PTB`` environment variable. A folder that is
missing, lacks a file, or whose files do not have PTB's line/word counts is refused with one
:class:`~accelsim.errors.InputError` line. Token ids stay in memory: PTB is licensed text and
neither it nor id sequences made from it are ever written into the project.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accelsim.errors import InputError

ENV_VAR = "ACCELSIM_PTB"
EOS = "<eos>"
VOCAB_SIZE = 10_000
SPLITS = ("train", "valid", "test")
# (lines, words including one <eos> per line), from the corpus README.
EXPECTED_COUNTS = {
    "train": (42_068, 929_589),
    "valid": (3_370, 73_760),
    "test": (3_761, 82_430),
}


@dataclass(frozen=True)
class PTBCorpus:
    """The three splits as int32 id arrays plus the vocabulary (id -> word)."""

    path: Path
    words: tuple[str, ...]
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    @property
    def vocab_size(self) -> int:
        return len(self.words)

    def split(self, name: str) -> np.ndarray:
        if name not in SPLITS:
            raise InputError(f"--split must be one of {', '.join(SPLITS)} (got {name!r})")
        return getattr(self, name)


def resolve_ptb_path(path: str | os.PathLike | None) -> Path:
    """The PTB folder from the argument, else from ``ACCELSIM_PTB``; refuses when neither is set."""
    if path is None or str(path) == "":
        path = os.environ.get(ENV_VAR)
    if not path:
        raise InputError(f"no PTB folder given: pass --ptb PATH or set {ENV_VAR} to the folder "
                         "holding ptb.train.txt, ptb.valid.txt and ptb.test.txt")
    p = Path(path)
    if not p.is_dir():
        raise InputError(f"{p}: PTB folder not found (pass --ptb PATH or set {ENV_VAR})")
    return p


def _read_split(folder: Path, name: str) -> list[str]:
    f = folder / f"ptb.{name}.txt"
    if not f.is_file():
        raise InputError(f"{f}: missing; a PTB folder holds ptb.train.txt, ptb.valid.txt and "
                         "ptb.test.txt (the Mikolov language-modelling files)")
    try:
        text = f.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{f}: cannot read as UTF-8 text ({e.__class__.__name__})") from None
    lines = text.splitlines()
    tokens: list[str] = []
    for line in lines:
        tokens.extend(line.split())
        tokens.append(EOS)
    want_lines, want_words = EXPECTED_COUNTS[name]
    if len(lines) != want_lines or len(tokens) != want_words:
        raise InputError(
            f"{f}: not the PTB {name} split: expected {want_lines:,} lines and {want_words:,} words "
            f"(with <eos>), found {len(lines):,} and {len(tokens):,}")
    return tokens


def load_ptb(path: str | os.PathLike | None = None) -> PTBCorpus:
    """Read and check the three splits; the vocabulary is the train words in first-seen order."""
    folder = resolve_ptb_path(path)
    toks = {name: _read_split(folder, name) for name in SPLITS}
    index: dict[str, int] = {}
    for w in toks["train"]:
        if w not in index:
            index[w] = len(index)
    if len(index) != VOCAB_SIZE:
        raise InputError(f"{folder / 'ptb.train.txt'}: not PTB: expected a {VOCAB_SIZE:,}-word "
                         f"vocabulary, found {len(index):,}")
    ids = {}
    for name in SPLITS:
        try:
            ids[name] = np.fromiter((index[w] for w in toks[name]), dtype=np.int32,
                                    count=len(toks[name]))
        except KeyError as e:
            raise InputError(f"{folder / f'ptb.{name}.txt'}: not PTB: word {e.args[0]!r} is not in "
                             "the training vocabulary") from None
    return PTBCorpus(folder, tuple(index), ids["train"], ids["valid"], ids["test"])


def batchify(ids: np.ndarray, batch_size: int) -> np.ndarray:
    """Cut one token stream into ``batch_size`` parallel streams: shape (steps, batch_size)."""
    n = len(ids) // batch_size
    if n < 2:
        raise InputError(f"batch size {batch_size} leaves fewer than 2 tokens per stream")
    return np.ascontiguousarray(ids[: n * batch_size].reshape(batch_size, n).T)
