"""PTB loader: counts checked, clear one-line errors (exit 2) for a missing or wrong folder."""

import subprocess
import sys

import numpy as np
import pytest

from accelsim.errors import InputError
from accelsim.workloads.ptb import EXPECTED_COUNTS, batchify, load_ptb, resolve_ptb_path


def test_loads_ptb_with_expected_sizes(ptb_path):
    c = load_ptb(ptb_path)
    assert c.vocab_size == 10_000
    for split, (_, words) in EXPECTED_COUNTS.items():
        assert len(c.split(split)) == words
    assert c.words[c.train[-1]] == "<eos>"
    assert c.test.max() < 10_000


def test_env_var_is_used(ptb_path, monkeypatch):
    monkeypatch.setenv("ACCELSIM_PTB", str(ptb_path))
    assert resolve_ptb_path(None) == ptb_path


def test_missing_folder_and_unset_env(monkeypatch, tmp_path):
    monkeypatch.delenv("ACCELSIM_PTB", raising=False)
    with pytest.raises(InputError, match="ACCELSIM_PTB"):
        load_ptb(None)
    with pytest.raises(InputError, match="PTB folder not found"):
        load_ptb(tmp_path / "nope")


def test_wrong_folder_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"ptb\.train\.txt: missing"):
        load_ptb(tmp_path)
    for s in ("train", "valid", "test"):
        (tmp_path / f"ptb.{s}.txt").write_text(" a b c \n d e \n")
    with pytest.raises(InputError, match="not the PTB train split: expected 42,068 lines"):
        load_ptb(tmp_path)


def test_batchify_streams():
    b = batchify(np.arange(10, dtype=np.int32), 3)
    assert b.shape == (3, 3)
    np.testing.assert_array_equal(b[:, 1], [3, 4, 5])


@pytest.mark.parametrize("ptb", ["missing-folder", "WRONG"])
def test_cli_bad_ptb_exits_2_with_one_line(tmp_path, ptb):
    folder = tmp_path / "missing-folder"
    if ptb == "WRONG":
        folder = tmp_path / "wrong"
        folder.mkdir()
        for s in ("train", "valid", "test"):
            (folder / f"ptb.{s}.txt").write_text("not ptb\n")
    model = tmp_path / "m.npz"
    from accelsim.workloads.model_file import save_model

    from .conftest import tiny_model
    save_model(model, tiny_model(vocab=10_000))
    out = tmp_path / "t.npz"
    r = subprocess.run([sys.executable, "-m", "accelsim", "trace", "egru", "--model", str(model),
                        "--ptb", str(folder), "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("accelsim: error: ")
    assert str(folder) in lines[0]
    assert not out.exists()
