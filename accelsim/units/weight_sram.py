"""Weight SRAM placement: which bank and which PE own each row, and what a column costs to read.

Static per-column tables, built once per (config, weight matrix), so that per-event work in the
kernels is O(banks + PEs), never O(nonzeros):

- ``bank_words[j, b]``: SRAM words (``bank_width_bits`` each) column ``j`` reads from bank ``b``
  (values plus in-bank metadata). The column read takes ``max_b bank_words`` cycles when it has
  the banks to itself: that maximum over a balanced spread is the bank-conflict cost.
- ``pe_work[j, p]``: MACs column ``j`` gives PE ``p`` (its nonzeros owned by ``p``, or all its
  rows when ``skip_weights`` is off: zero weights are then multiplied too).
- ``weight_read_bits[j]`` / ``metadata_read_bits[j]``: bits read per fetch of column ``j`` (metadata
  includes the column pointer, read from a separate on-chip pointer table).
- ``dram_bytes[j]``: bytes moved from DRAM per fetch (whole bursts) when weights stream off chip.

Formats and layouts are registries keyed by the names used in YAML: adding one touches one
function here. Placement of a value never changes which value is fetched, only where it lives;
the functional check (:mod:`accelsim.engine.check_values`) proves the fetched set is right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.config.schema import ArchConfig
from accelsim.errors import InputError
from accelsim.trace.format import CSC
from accelsim.units import dram

# ----------------------------------------------------------------------------------------------
# layout policies: row -> owner (PE or bank) among n owners


def _row_interleaved(rows: np.ndarray, n_rows: int, n_owners: int) -> np.ndarray:
    return rows % n_owners


def _blocked(rows: np.ndarray, n_rows: int, n_owners: int) -> np.ndarray:
    block = -(-n_rows // n_owners)
    return rows // block


LAYOUTS = {"row_interleaved": _row_interleaved, "blocked": _blocked}


def owner_of_rows(layout: str, rows: np.ndarray, n_rows: int, n_owners: int) -> np.ndarray:
    return LAYOUTS[layout](np.asarray(rows, dtype=np.int64), n_rows, n_owners)


# ----------------------------------------------------------------------------------------------
# weight formats: per (column, bank) words and per column bits


def _ceil_div(a, b):
    return -(-a // b)


@dataclass(frozen=True)
class _Widths:
    bank_width_bits: int
    weight_bits: int
    index_bits: int

    @property
    def values_per_word(self) -> int:
        return self.bank_width_bits // self.weight_bits

    @property
    def indices_per_word(self) -> int:
        return self.bank_width_bits // self.index_bits


def _dense_words(nnz_bank, rows_bank, w: _Widths):
    """dense: every entry stored (zeros too) at a computed address; no metadata, no pointer."""
    values = np.broadcast_to(_ceil_div(rows_bank, w.values_per_word), nnz_bank.shape)
    return values.astype(np.int64), np.zeros_like(nnz_bank), 0


def _csc_words(nnz_bank, rows_bank, w: _Widths):
    """csc: nonzero values and their row indices, packed separately in the row's bank; the column
    pointer pair (start, end) comes from the pointer table."""
    return (_ceil_div(nnz_bank, w.values_per_word), _ceil_div(nnz_bank, w.indices_per_word),
            2 * w.index_bits)


def _bitmap_words(nnz_bank, rows_bank, w: _Widths):
    """bitmap: one presence bit per row (of the bank's rows) plus packed nonzero values; one
    pointer (start of the packed values) per column, the count comes from the bitmap."""
    bitmap = np.broadcast_to(_ceil_div(rows_bank, w.bank_width_bits), nnz_bank.shape)
    return _ceil_div(nnz_bank, w.values_per_word), bitmap.astype(np.int64), w.index_bits


FORMATS = {"dense": _dense_words, "csc": _csc_words, "bitmap": _bitmap_words}


def _dram_column_bits(fmt: str, nnz_col: np.ndarray, n_rows: int, w: _Widths) -> np.ndarray:
    """Payload bits of a column as stored contiguously in DRAM."""
    if fmt == "dense":
        return np.full_like(nnz_col, n_rows * w.weight_bits)
    if fmt == "csc":
        return nnz_col * (w.weight_bits + w.index_bits)
    return n_rows + nnz_col * w.weight_bits  # bitmap


# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ColumnTables:
    """Static per-column costs of one weight matrix on one cluster (see module docstring)."""

    n_rows: int
    n_cols: int
    bank_words: np.ndarray      # int64 (cols, B); zeros when weights stream from DRAM
    pe_work: np.ndarray         # int64 (cols, P)
    nnz: np.ndarray             # int64 (cols,) stored nonzeros
    weight_read_bits: np.ndarray    # int64 (cols,) SRAM bits of weight values read per fetch
    metadata_read_bits: np.ndarray  # int64 (cols,) SRAM bits of metadata read per fetch (incl. pointer)
    dram_bytes: np.ndarray      # int64 (cols,) bytes moved from DRAM per fetch (0 in sram mode)
    dram_cycles: np.ndarray     # int64 (cols,) channel cycles per fetch (0 in sram mode)
    conflict_cycles: np.ndarray  # int64 (cols,) max_b words - ceil(sum_b words / B)
    stored_bytes: int           # on-chip footprint (sram mode), words x width + pointer table


def check_widths(config: ArchConfig) -> None:
    w = config.weight_sram.bank_width_bits
    p = config.precision
    if p.weight_bits > w:
        raise InputError(f"precision.weight_bits ({p.weight_bits}) must fit in one SRAM word: "
                         f"weight_sram.bank_width_bits is {w}")
    if p.index_bits > w:
        raise InputError(f"precision.index_bits ({p.index_bits}) must fit in one SRAM word: "
                         f"weight_sram.bank_width_bits is {w}")


def column_tables(config: ArchConfig, weight: CSC) -> ColumnTables:
    """Build the static per-column tables of ``weight`` (rows x cols CSC) for ``config``."""
    check_widths(config)
    n_rows, n_cols = weight.shape
    P, B = config.pe.count, config.weight_sram.banks
    w = _Widths(config.weight_sram.bank_width_bits, config.precision.weight_bits,
                config.precision.index_bits)
    rows = weight.indices.astype(np.int64)
    cols = np.repeat(np.arange(n_cols, dtype=np.int64), np.diff(weight.indptr))
    nnz = np.diff(weight.indptr).astype(np.int64)

    pe_of = owner_of_rows(config.layout, rows, n_rows, P)
    bank_of = owner_of_rows(config.layout, rows, n_rows, B)
    all_rows = np.arange(n_rows, dtype=np.int64)
    rows_pe = np.bincount(owner_of_rows(config.layout, all_rows, n_rows, P), minlength=P)
    rows_bank = np.bincount(owner_of_rows(config.layout, all_rows, n_rows, B), minlength=B)
    nnz_pe = np.bincount(cols * P + pe_of, minlength=n_cols * P).reshape(n_cols, P).astype(np.int64)
    nnz_bank = np.bincount(cols * B + bank_of, minlength=n_cols * B).reshape(n_cols, B).astype(np.int64)

    if config.skip_weights:
        pe_work = nnz_pe
    else:
        pe_work = np.broadcast_to(rows_pe.astype(np.int64), (n_cols, P)).copy()

    value_words, meta_words, pointer_bits = FORMATS[config.weight_format](nnz_bank, rows_bank, w)
    value_words = np.ascontiguousarray(value_words, dtype=np.int64)
    meta_words = np.ascontiguousarray(meta_words, dtype=np.int64)
    stored_bytes = int(_ceil_div(int((value_words.sum() + meta_words.sum())) * w.bank_width_bits
                                 + n_cols * pointer_bits, 8))

    if config.weight_storage == "sram":
        bank_words = value_words + meta_words
        weight_read_bits = value_words.sum(axis=1) * w.bank_width_bits
        metadata_read_bits = meta_words.sum(axis=1) * w.bank_width_bits + pointer_bits
        dram_bytes = np.zeros(n_cols, dtype=np.int64)
        dram_cycles = np.zeros(n_cols, dtype=np.int64)
    else:
        # Streamed from DRAM straight to the PEs (EdgeDRNN style): no bank reads for the column,
        # only its pointer from the on-chip pointer table.
        bank_words = np.zeros((n_cols, B), dtype=np.int64)
        weight_read_bits = np.zeros(n_cols, dtype=np.int64)
        metadata_read_bits = np.full(n_cols, pointer_bits, dtype=np.int64)
        payload_bytes = _ceil_div(_dram_column_bits(config.weight_format, nnz, n_rows, w), 8)
        dram_bytes = dram.burst_bytes(payload_bytes, config.dram.burst_bytes)
        dram_cycles = dram.transfer_cycles(dram_bytes, config.dram.bandwidth_bytes_per_cycle,
                                           config.dram.stream_efficiency)
    total = bank_words.sum(axis=1)
    conflict = bank_words.max(axis=1, initial=0) - _ceil_div(total, B)
    return ColumnTables(n_rows, n_cols, np.ascontiguousarray(bank_words), np.ascontiguousarray(pe_work),
                        nnz, weight_read_bits.astype(np.int64), metadata_read_bits.astype(np.int64),
                        dram_bytes.astype(np.int64), dram_cycles.astype(np.int64),
                        conflict.astype(np.int64), stored_bytes)
