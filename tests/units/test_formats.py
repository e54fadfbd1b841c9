"""csc_relative and nm on hand-worked columns: entries, words, bits, MACs and where they land."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.config import config_from_dict
from accelsim.errors import InputError
from accelsim.trace.format import CSC
from accelsim.units.weight_sram import column_tables, row_owners


def cfg(**kw):
    base = {"pe": {"count": 2, "mac_lanes": 1}, "weight_sram": {"banks": 1, "bank_width_bits": 16},
            "precision": {"weight_bits": 8, "index_bits": 4}}
    for k, v in kw.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            base[k] = {**base[k], **v}
        else:
            base[k] = v
    return config_from_dict(base)


def columns(n_rows, *nonzero_rows):
    w = np.zeros((n_rows, len(nonzero_rows)))
    for j, rows in enumerate(nonzero_rows):
        w[list(rows), j] = 1.0
    return CSC.from_dense(w)


# ------------------------------------------------------------------------------- csc_relative


def test_relative_run_longer_than_15_zeros_needs_padding():
    # 40 rows, one bank, 2 PEs (row i -> PE i mod 2), 4-bit runs (at most 15 zeros skipped).
    # Nonzeros at rows 0, 20, 39: runs 0, 19, 18. 19 zeros = one padding entry (at row 16:
    # 15 zeros + itself) and a run of 3; 18 zeros after row 20 = a padding at row 36 and a run of
    # 2. 5 entries: ceil(5 / 2) = 3 value words + ceil(5 / 4) = 2 run words of 16 bits.
    t = column_tables(cfg(weight_format="csc_relative"), columns(40, [0, 20, 39]))
    assert t.bank_words[0].tolist() == [3 + 2]
    assert t.weight_read_bits[0] == 3 * 16
    assert t.metadata_read_bits[0] == 2 * 16 + 2 * 4            # + the pointer pair
    # MACs: the paddings sit on rows 16 and 36 (PE 0) and are multiplied like nonzeros
    assert t.pe_work[0].tolist() == [4, 1]
    assert t.nnz[0] == 3
    csc = column_tables(cfg(weight_format="csc"), columns(40, [0, 20, 39]))
    assert csc.pe_work[0].tolist() == [2, 1]
    assert t.stored_bytes == (5 * 16 + 8) // 8


@pytest.mark.parametrize("rows,pads", [
    ([15], 0),          # exactly 15 zeros fit in a 4-bit run
    ([16], 1),          # 16: one padding (row 15), then a run of 0
    ([31], 1),          # 31: one padding, then a run of 15
    ([32], 2),          # 32: paddings at rows 15 and 31
    ([0], 0),           # zeros after the last nonzero need no padding
    ([], 0),            # an empty column stores nothing
])
def test_relative_padding_count(rows, pads):
    c = cfg(weight_format="csc_relative", pe={"count": 1},
            weight_sram={"bank_width_bits": 64}, precision={"weight_bits": 16, "index_bits": 4})
    t = column_tables(c, columns(40, rows))
    entries = len(rows) + pads
    assert t.pe_work[0].tolist() == [entries]
    assert t.bank_words[0].tolist() == [-(-entries // 4) + -(-entries // 16)]


def test_relative_padding_runs_are_bank_local_and_owned_by_the_rows_pe():
    # 2 banks, 4 PEs, 40 rows. row_interleaved: bank 0 holds rows 0, 2, .., 38 (row 38 is its
    # position 19). One nonzero at row 38: 19 zeros before it in its bank -> one padding at bank
    # position 15 = row 30, PE 30 mod 4 = 2; row 38 is PE 2 too.
    c = cfg(weight_format="csc_relative", pe={"count": 4}, weight_sram={"banks": 2})
    t = column_tables(c, columns(40, [38]))
    assert t.pe_work[0].tolist() == [0, 0, 2, 0]
    assert t.bank_words[0].tolist() == [1 + 1, 0]
    # blocked: bank 1 holds rows 20..39 (row 39 is its position 19), PEs own 10 rows each:
    # the padding at bank position 15 is row 35, PE 3
    t = column_tables(cfg(weight_format="csc_relative", pe={"count": 4}, weight_sram={"banks": 2},
                          layout="blocked"), columns(40, [39]))
    assert t.pe_work[0].tolist() == [0, 0, 0, 2]
    assert t.bank_words[0].tolist() == [0, 2]


def test_relative_without_skip_weights_multiplies_every_row():
    t = column_tables(cfg(weight_format="csc_relative", skip_weights=False), columns(40, [0, 20, 39]))
    assert t.pe_work[0].tolist() == [20, 20]
    assert t.bank_words[0].tolist() == [5]                    # storage still holds the paddings


def test_relative_dram_payload_counts_the_paddings():
    c = cfg(weight_format="csc_relative", weight_storage="dram",
            dram={"burst_bytes": 1, "bandwidth_bytes_per_cycle": 1})
    t = column_tables(c, columns(40, [0, 20, 39]))
    assert t.dram_bytes[0] == -(-5 * (8 + 4) // 8)             # 5 entries x 12 bits = 8 bytes
    assert t.bank_words[0].sum() == 0 and t.metadata_read_bits[0] == 8


def test_relative_with_wide_indices_is_csc():
    w = columns(40, [0, 20, 39], [5], [])
    a = column_tables(cfg(weight_format="csc_relative", precision={"index_bits": 8}), w)
    b = column_tables(cfg(weight_format="csc", precision={"index_bits": 8}), w)
    for k in ("bank_words", "pe_work", "weight_read_bits", "metadata_read_bits"):
        assert getattr(a, k).tolist() == getattr(b, k).tolist()


# ----------------------------------------------------------------------------------------- nm


def test_nm_groups_are_placed_whole_and_filled_to_n():
    # 10 rows, 2:4: groups rows 0-3, 4-7 and the short last group 8-9 (stores min(2, 2) = 2).
    # row_interleaved over groups: group 0 and 2 -> bank 0 / PE 0, group 1 -> bank 1 / PE 1.
    # Per column: bank 0 holds 4 values (2 words of 16 bits) + 4 positions of 2 bits (1 word),
    # bank 1 2 values (1 word) + 2 positions (1 word); no pointer.
    c = cfg(weight_format="nm", weight_sram={"banks": 2})
    t = column_tables(c, columns(10, [0, 1, 5, 8], [2], []))
    for j in range(3):                                           # fixed size: all columns alike
        assert t.bank_words[j].tolist() == [3, 2]
        assert t.pe_work[j].tolist() == [4, 2]                   # N MACs per group, zeros too
        assert t.weight_read_bits[j] == 3 * 16 and t.metadata_read_bits[j] == 2 * 16
    assert t.stored_bytes == 3 * 5 * 16 // 8
    # the rows each PE accumulates follow its groups
    assert row_owners(c, 10, 2).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 0, 0]


def test_nm_one_of_eight_and_blocked_groups():
    # 16 rows, 1:8: 2 groups; blocked over 4 PEs (blocks of 1 group): group 0 -> PE 0, group 1
    # -> PE 1; over 2 banks: one group each. 1 value + 1 position (3 bits) per group.
    c = cfg(weight_format="nm", nm_n=1, nm_m=8, pe={"count": 4}, layout="blocked",
            weight_sram={"banks": 2})
    t = column_tables(c, columns(16, [3, 12]))
    assert t.pe_work[0].tolist() == [1, 1, 0, 0]
    assert t.bank_words[0].tolist() == [1 + 1, 1 + 1]
    assert t.metadata_read_bits[0] == 2 * 16


def test_nm_dram_payload_and_skip_weights_off():
    c = cfg(weight_format="nm", weight_storage="dram", dram={"burst_bytes": 1, "bandwidth_bytes_per_cycle": 1})
    t = column_tables(c, columns(10, [0]))
    assert t.dram_bytes[0] == 8                  # 3 groups x 2 x (8 + 2) bits = 60 bits
    assert t.metadata_read_bits[0] == 0          # no pointer
    t = column_tables(cfg(weight_format="nm", skip_weights=False, weight_sram={"banks": 2}), columns(10, [0]))
    assert t.pe_work[0].tolist() == [6, 4]                       # every row of the PE's groups


def test_nm_refuses_a_group_with_too_many_nonzeros_in_one_line():
    c = cfg(weight_format="nm")
    with pytest.raises(InputError) as e:
        column_tables(c, columns(12, [0, 1], [0, 5, 6, 7, 9, 10, 11]), "layer 1")
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("layer 1: weight column 1 is not 2:4 structured: group 1 (rows 4..7) holds 3")
    # N = M stores any column
    column_tables(cfg(weight_format="nm", nm_n=4), columns(12, [0, 5, 6, 7, 9, 10, 11]))


def test_nm_config_fields_are_checked():
    with pytest.raises(InputError, match="nm_n"):
        cfg(weight_format="nm", nm_n=8, nm_m=4)
    with pytest.raises(InputError, match="power of two"):
        cfg(weight_format="nm", nm_m=6)
