"""Weight SRAM placement: which bank and which PE own each row, and what a column costs to read.

Static per-column tables, built once per (config, weight matrix), so that per-event work in the
kernels is O(banks + PEs), never O(nonzeros):

- ``bank_words[j, b]``: SRAM words (``bank_width_bits`` each) column ``j`` reads from bank ``b``
  (values plus in-bank metadata). The column read takes ``max_b bank_words`` cycles when it has
  the banks to itself: that maximum over a balanced spread is the bank-conflict cost.
- ``pe_work[j, p]``: MACs column ``j`` gives PE ``p`` (the entries it stores in the rows ``p``
  owns: its nonzeros, plus the zeros the format stores, csc_relative's padding entries and nm's
  fill; or all its rows when ``skip_weights`` is off: zero weights are then multiplied too).
- ``weight_read_bits[j]`` / ``metadata_read_bits[j]``: bits read per fetch of column ``j`` (metadata
  includes the column pointer, read from a separate on-chip pointer table).
- ``dram_bytes[j]``: bytes moved from DRAM per fetch (whole bursts) when weights stream off chip.

Formats and layouts are registries keyed by the names used in YAML: adding a format is one
cost function and one :data:`FORMATS` entry here (and, for the functional check, its encoding in
:mod:`accelsim.engine.check_values`). Placement of a value never changes which value is fetched,
only where it lives; the functional check (:mod:`accelsim.engine.check_values`) proves the
fetched set is right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

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
# weight formats: what a column stores in each bank, what it costs to read and to multiply


def _ceil_div(a, b):
    return -(-a // b)


@dataclass(frozen=True)
class _Widths:
    bank_width_bits: int
    weight_bits: int
    index_bits: int
    nm_n: int = 2
    nm_m: int = 4

    @property
    def values_per_word(self) -> int:
        return self.bank_width_bits // self.weight_bits

    @property
    def indices_per_word(self) -> int:
        return self.bank_width_bits // self.index_bits

    @property
    def position_bits(self) -> int:
        """nm: bits of a value's position inside its group of M rows (log2 M)."""
        return self.nm_m.bit_length() - 1


@dataclass(frozen=True, eq=False)
class _Matrix:
    """A weight matrix's nonzeros and the rows the format's placement gives each bank and PE."""

    n_rows: int
    n_cols: int
    rows: np.ndarray         # int64 (nnz,) row of each nonzero, column-major, ascending in a column
    cols: np.ndarray         # int64 (nnz,) its column
    nnz: np.ndarray          # int64 (cols,) nonzeros per column
    bank_of_row: np.ndarray  # int64 (n_rows,)
    pe_of_row: np.ndarray    # int64 (n_rows,)
    rows_bank: np.ndarray    # int64 (B,) rows each bank holds
    rows_pe: np.ndarray      # int64 (P,) rows each PE owns
    nnz_bank: np.ndarray     # int64 (cols, B)
    nnz_pe: np.ndarray       # int64 (cols, P)
    layout: str
    where: str               # the matrix, for messages ("layer 0", "decoder")
    last_is_bias: bool       # the last column is the bias column (messages)


@dataclass(frozen=True, eq=False)
class _Cost:
    """Per-column cost of one format: words in each bank, pointer bits, MACs per PE (with
    ``skip_weights`` on) and the payload bits of the column as stored contiguously in DRAM."""

    value_words: np.ndarray  # int64 (cols, B)
    meta_words: np.ndarray   # int64 (cols, B)
    pointer_bits: int
    macs: np.ndarray         # int64 (cols, P)
    dram_bits: np.ndarray    # int64 (cols,)


def _per_column(v, n_cols: int) -> np.ndarray:
    """A per-bank (or per-PE) vector that is the same for every column, as a (cols, n) table."""
    return np.broadcast_to(np.asarray(v, dtype=np.int64), (n_cols, len(v))).copy()


def _dense(m: _Matrix, w: _Widths) -> _Cost:
    """dense: every entry stored (zeros too) at a computed address; no metadata, no pointer."""
    values = _per_column(_ceil_div(m.rows_bank, w.values_per_word), m.n_cols)
    return _Cost(values, np.zeros_like(values), 0, m.nnz_pe,
                 np.full(m.n_cols, m.n_rows * w.weight_bits, dtype=np.int64))


def _csc(m: _Matrix, w: _Widths) -> _Cost:
    """csc: nonzero values and their row indices, packed separately in the row's bank; the column
    pointer pair (start, end) comes from the pointer table."""
    return _Cost(_ceil_div(m.nnz_bank, w.values_per_word), _ceil_div(m.nnz_bank, w.indices_per_word),
                 2 * w.index_bits, m.nnz_pe, m.nnz * (w.weight_bits + w.index_bits))


def _bitmap(m: _Matrix, w: _Widths) -> _Cost:
    """bitmap: one presence bit per row (of the bank's rows) plus packed nonzero values; one
    pointer (start of the packed values) per column, the count comes from the bitmap."""
    bitmap = _per_column(_ceil_div(m.rows_bank, w.bank_width_bits), m.n_cols)
    return _Cost(_ceil_div(m.nnz_bank, w.values_per_word), bitmap, w.index_bits, m.nnz_pe,
                 m.n_rows + m.nnz * w.weight_bits)


def padding_entries(m: _Matrix, index_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """csc_relative: the padding entries of every column, per bank ``(cols, B)`` and per PE
    ``(cols, P)`` (the PE that owns the row a padding entry sits on).

    In each bank a column's entries follow the bank's rows in order; an entry stores the zero rows
    skipped since the previous entry (or the bank's first row) in ``index_bits`` bits. A gap of
    ``z`` zero rows before a nonzero needs ``z // 2^index_bits`` padding entries: each stores the
    run ``2^index_bits - 1`` and a zero value, and so sits on the ``2^index_bits``-th position
    after the entry before it. Zeros after a column's last nonzero in a bank need none."""
    n_cols, B = m.nnz_bank.shape
    P = m.nnz_pe.shape[1]
    zero = (np.zeros((n_cols, B), np.int64), np.zeros((n_cols, P), np.int64))
    span = 1 << min(int(index_bits), 62)      # positions one padding entry covers
    if m.rows.size == 0 or span > int(m.rows_bank.max(initial=0)):
        return zero                           # no run of zeros in a bank can overflow
    # bank-local position of every row: the rank of the row among its bank's rows
    by_bank = np.argsort(m.bank_of_row, kind="stable")          # rows grouped by bank, ascending
    bank_start = np.concatenate(([0], np.cumsum(m.rows_bank)[:-1])).astype(np.int64)
    local_of_row = np.empty(m.n_rows, np.int64)
    local_of_row[by_bank] = np.arange(m.n_rows, dtype=np.int64) - bank_start[m.bank_of_row[by_bank]]
    bank = m.bank_of_row[m.rows]
    local = local_of_row[m.rows]
    # by (column, bank, position): rows ascend within a column and a bank's positions follow its
    # rows, so a stable sort on (column, bank) keeps the positions in order
    order = np.argsort(m.cols * m.rows_bank.size + bank, kind="stable")
    col, bank, local = m.cols[order], bank[order], local[order]
    prev = np.empty_like(local)
    prev[0] = -1
    prev[1:] = local[:-1]
    prev[np.concatenate(([True], (col[1:] != col[:-1]) | (bank[1:] != bank[:-1])))] = -1
    pads = (local - prev - 1) // span         # padding entries before each nonzero
    total = int(pads.sum())
    if total == 0:
        return zero
    e = np.repeat(np.arange(local.size, dtype=np.int64), pads)  # the nonzero each one precedes
    k = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(pads) - pads, pads) + 1
    pos = prev[e] + k * span                  # its bank-local position
    row = by_bank[bank_start[bank[e]] + pos]
    per_bank = np.bincount(col[e] * B + bank[e], minlength=n_cols * B).reshape(n_cols, B)
    per_pe = np.bincount(col[e] * P + m.pe_of_row[row], minlength=n_cols * P).reshape(n_cols, P)
    return per_bank.astype(np.int64), per_pe.astype(np.int64)


def _csc_relative(m: _Matrix, w: _Widths) -> _Cost:
    """csc_relative (EIE): per bank the column's entries (nonzeros and padding zeros), each a value
    and an ``index_bits`` run of skipped zero rows, packed separately; a pointer pair per column.
    Padding entries are stored, read and multiplied like nonzeros."""
    pad_bank, pad_pe = padding_entries(m, w.index_bits)
    entries = m.nnz_bank + pad_bank
    return _Cost(_ceil_div(entries, w.values_per_word), _ceil_div(entries, w.indices_per_word),
                 2 * w.index_bits, m.nnz_pe + pad_pe,
                 entries.sum(axis=1) * (w.weight_bits + w.index_bits))


def nm_groups(n_rows: int, n: int, m: int) -> np.ndarray:
    """nm: values stored per group of ``m`` consecutive rows (group g = rows gm .. gm+m-1; the last
    group is shorter when ``m`` does not divide ``n_rows``): ``min(n, rows in the group)``."""
    G = _ceil_div(n_rows, m)
    size = np.minimum(m, n_rows - np.arange(G, dtype=np.int64) * m)
    return np.minimum(n, size).astype(np.int64)


def check_nm(m: _Matrix, n: int, mm: int) -> None:
    """Refuse, in one line, a matrix with a group of ``mm`` rows holding more than ``n`` nonzeros
    (the first such group in column order)."""
    if m.rows.size == 0 or n >= mm:
        return
    G = _ceil_div(m.n_rows, mm)
    key = m.cols * G + m.rows // mm           # nondecreasing: columns in order, rows ascending
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    counts = np.diff(np.append(starts, key.size))
    bad = np.flatnonzero(counts > n)
    if bad.size == 0:
        return
    k = key[starts[bad[0]]]
    j, g = int(k // G), int(k % G)
    what = f"column {j}" + (" (the bias column)" if m.last_is_bias and j == m.n_cols - 1 else "")
    raise InputError(
        f"{m.where}: weight {what} is not {n}:{mm} structured: group {g} (rows {g * mm}.."
        f"{min((g + 1) * mm, m.n_rows) - 1}) holds {int(counts[bad[0]])} nonzeros, at most {n} fit; "
        f"prune the weights {n}:{mm} (e.g. accelsim trace synth --pruning {n}:{mm}) or choose "
        f"another weight_format")


def _nm(m: _Matrix, w: _Widths) -> _Cost:
    """nm (N:M structured): every group of M rows stores N values (zeros fill a group with fewer
    nonzeros) and N positions of log2(M) bits; groups are placed whole on banks and PEs; a PE
    multiplies all N values of each group it owns; no pointer (fixed-size groups)."""
    check_nm(m, w.nm_n, w.nm_m)
    stored = nm_groups(m.n_rows, w.nm_n, w.nm_m)
    G = stored.size
    gb = owner_of_rows(m.layout, np.arange(G), G, m.rows_bank.size)
    gp = owner_of_rows(m.layout, np.arange(G), G, m.rows_pe.size)
    per_bank = np.bincount(gb, weights=stored, minlength=m.rows_bank.size).astype(np.int64)
    per_pe = np.bincount(gp, weights=stored, minlength=m.rows_pe.size).astype(np.int64)
    pb = w.position_bits
    positions = (_ceil_div(per_bank, w.bank_width_bits // pb) if pb
                 else np.zeros_like(per_bank))
    return _Cost(_per_column(_ceil_div(per_bank, w.values_per_word), m.n_cols),
                 _per_column(positions, m.n_cols), 0, _per_column(per_pe, m.n_cols),
                 np.full(m.n_cols, int(stored.sum()) * (w.weight_bits + pb), dtype=np.int64))


@dataclass(frozen=True)
class Format:
    """A weight format: its per-column cost, and how many consecutive rows the layout places as
    one unit (1: rows one by one; nm: a group of M rows)."""

    cost: Callable[[_Matrix, _Widths], _Cost]
    unit_rows: Callable[[_Widths], int] = lambda w: 1


FORMATS = {"dense": Format(_dense), "csc": Format(_csc), "bitmap": Format(_bitmap),
           "csc_relative": Format(_csc_relative), "nm": Format(_nm, lambda w: w.nm_m)}


def _widths(config: ArchConfig) -> _Widths:
    return _Widths(config.weight_sram.bank_width_bits, config.precision.weight_bits,
                   config.precision.index_bits, config.nm_n, config.nm_m)


def row_owners(config: ArchConfig, n_rows: int, n_owners: int) -> np.ndarray:
    """Owner (PE or bank, among ``n_owners``) of every row under the config's layout and format:
    the layout places the format's units (rows, or nm's groups of M rows) over the owners."""
    unit = FORMATS[config.weight_format].unit_rows(_widths(config))
    units = np.arange(n_rows, dtype=np.int64) // unit
    return owner_of_rows(config.layout, units, _ceil_div(n_rows, unit), n_owners)


def dense_stored_bytes(config: ArchConfig, n_rows: int, n_cols: int) -> int:
    """On-chip footprint of an ``n_rows x n_cols`` matrix in the dense format (what
    ``column_tables`` gives a ``dense`` config, computed from the sizes alone): every column
    stores all its rows, ``ceil(rows_b / vpw)`` words in bank ``b``, no pointer."""
    w = _widths(config)
    rows_bank = np.bincount(owner_of_rows(config.layout, np.arange(n_rows), n_rows,
                                          config.weight_sram.banks),
                            minlength=config.weight_sram.banks).astype(np.int64)
    words = int(_ceil_div(rows_bank, w.values_per_word).sum())
    return int(_ceil_div(n_cols * words * w.bank_width_bits, 8))


def extra_entries(config: ArchConfig, n_rows: int, n_cols: int) -> int:
    """Upper bound of the entries a format adds to a matrix's nonzeros while its tables are built
    (csc_relative: padding entries, at most one per ``2^index_bits`` positions)."""
    if config.weight_format != "csc_relative":
        return 0
    return (n_rows * n_cols) >> min(config.precision.index_bits, 62)


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


def column_tables(config: ArchConfig, weight: CSC, where: str = "weights",
                  last_is_bias: bool = False) -> ColumnTables:
    """Build the static per-column tables of ``weight`` (rows x cols CSC) for ``config``.
    ``where`` names the matrix in messages (``last_is_bias``: its last column is the bias
    column); a matrix the format cannot store (nm: a group with too many nonzeros) is refused."""
    check_widths(config)
    n_rows, n_cols = weight.shape
    P, B = config.pe.count, config.weight_sram.banks
    w = _widths(config)
    rows = weight.indices.astype(np.int64)
    cols = np.repeat(np.arange(n_cols, dtype=np.int64), np.diff(weight.indptr))
    nnz = np.diff(weight.indptr).astype(np.int64)

    bank_of_row = row_owners(config, n_rows, B)
    pe_of_row = row_owners(config, n_rows, P)
    rows_pe = np.bincount(pe_of_row, minlength=P).astype(np.int64)
    rows_bank = np.bincount(bank_of_row, minlength=B).astype(np.int64)
    nnz_pe = np.bincount(cols * P + pe_of_row[rows], minlength=n_cols * P).reshape(n_cols, P).astype(np.int64)
    nnz_bank = np.bincount(cols * B + bank_of_row[rows], minlength=n_cols * B).reshape(n_cols, B).astype(np.int64)
    matrix = _Matrix(n_rows, n_cols, rows, cols, nnz, bank_of_row, pe_of_row, rows_bank, rows_pe,
                     nnz_bank, nnz_pe, config.layout, where, last_is_bias)
    cost = FORMATS[config.weight_format].cost(matrix, w)

    if config.skip_weights:
        pe_work = np.ascontiguousarray(cost.macs, dtype=np.int64)
    else:
        pe_work = np.broadcast_to(rows_pe, (n_cols, P)).copy()

    value_words = np.ascontiguousarray(cost.value_words, dtype=np.int64)
    meta_words = np.ascontiguousarray(cost.meta_words, dtype=np.int64)
    pointer_bits = cost.pointer_bits
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
        payload_bytes = _ceil_div(np.asarray(cost.dram_bits, dtype=np.int64), 8)
        dram_bytes = dram.burst_bytes(payload_bytes, config.dram.burst_bytes)
        dram_cycles = dram.transfer_cycles(dram_bytes, config.dram.bandwidth_bytes_per_cycle,
                                           config.dram.stream_efficiency)
    total = bank_words.sum(axis=1)
    conflict = bank_words.max(axis=1, initial=0) - _ceil_div(total, B)
    return ColumnTables(n_rows, n_cols, np.ascontiguousarray(bank_words), np.ascontiguousarray(pe_work),
                        nnz, weight_read_bits.astype(np.int64), metadata_read_bits.astype(np.int64),
                        dram_bytes.astype(np.int64), dram_cycles.astype(np.int64),
                        conflict.astype(np.int64), stored_bytes)
