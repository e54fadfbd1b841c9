"""Chip area from the config, the model's sizes and the table's ``area`` section (mm^2).

Components (``total`` is their sum, in this order; docs/architecture.md, Area):

- ``weight_sram``: with ``weight_storage: sram``, one weight SRAM of ``capacity_bytes`` per PE
  cluster (spatial: one per layer and one for the decoder; temporal: one): bits x cell area /
  array efficiency of one bank (``capacity_bytes / banks``). None with weights in DRAM;
- ``pointer_table``: per cluster, an SRAM array of one pointer per stored column (csc,
  csc_relative: ``2 x index_bits``; bitmap: ``index_bits``; dense, nm: none), at its own size;
- ``event_queue``: each inter-layer queue (``event_queue.depth x event_bits``) and each layer's
  recurrent queue (``H x event_bits``: it holds one step's events), an SRAM array each;
- ``mac``: per cluster ``pe.count x pe.mac_lanes`` multipliers (weight x value bits) and adders
  (accumulator bits);
- ``accumulator``: the partial sums, in registers: per layer ``3H`` rows x 2 sums (input and
  recurrent) x 2 (double buffered), for the decoder its rows x 2; temporal: the largest of them;
- ``pe_fifo``: ``pe.count x pe.fifo_depth`` items of ``event_bits`` per cluster, in registers;
- ``update``: per update unit (spatial: one per layer; temporal: one) ``lanes`` datapaths, each
  with the operators one unit's update needs (3 nonlinearities, 3 multiplies and 12 adds at
  accumulator width, 1 compare), and the state of every unit of every layer
  (``H x accumulator_bits`` registers);
- ``dram_interface``: with ``weight_storage: dram``, one memory controller and PHY.

Left out: dispatcher, encoder and control logic, wiring, the SRAM width's effect on periphery.
"""

from __future__ import annotations

from accelsim.config.energy import AreaTable, EnergyTable
from accelsim.config.schema import ArchConfig
from accelsim.energy.price import bracket, scaled_arithmetic
from accelsim.errors import InputError
from accelsim.trace.format import Trace
from accelsim.units import update_unit

COMPONENTS = ("weight_sram", "pointer_table", "event_queue", "mac", "accumulator", "pe_fifo",
              "update", "dram_interface")
# components built from SRAM arrays (their leakage density is area.leakage_mw_per_mm2.sram)
SRAM_COMPONENTS = ("weight_sram", "pointer_table", "event_queue")
# pointer bits per stored column, in units of index_bits (docs/architecture.md, the format table)
POINTER_INDICES = {"dense": 0, "csc": 2, "bitmap": 1, "csc_relative": 2, "nm": 0}


def _arith_um2(area: AreaTable, number_format: str, op: str, bits_a: int,
               bits_b: int | None = None) -> float:
    return scaled_arithmetic({k: (v.add_um2, v.mult_um2) for k, v in area.arithmetic.items()},
                             number_format, op, bits_a, bits_b, "area table")


def sram_efficiency(area: AreaTable, size_bytes: float) -> float:
    """Array efficiency (cell area / array area) of an SRAM array of ``size_bytes``: linear in
    log(size) between the table's points, clamped at its ends."""
    a, b, f = bracket(area.sram_array_efficiency, size_bytes)
    return a.efficiency + f * (b.efficiency - a.efficiency)


def sram_um2(area: AreaTable, bits: int, bank_bytes: float | None = None) -> float:
    """An SRAM of ``bits`` made of banks of ``bank_bytes`` (one bank of all of it by default)."""
    if bits <= 0:
        return 0.0
    size = bits / 8 if bank_bytes is None else bank_bytes
    return bits * area.sram_cell_um2 / sram_efficiency(area, size)


def _matrices(config: ArchConfig, trace: Trace) -> list[dict]:
    """Per PE cluster (the layers, then the decoder): rows, stored columns, accumulator sums and
    hidden size."""
    out = []
    for layer in trace.layers:
        cols = layer.input_size + layer.hidden_size + (1 if config.bias_column else 0)
        out.append({"rows": 3 * layer.hidden_size, "cols": cols, "sums": 2, "hidden": layer.hidden_size})
    if config.include_decoder and trace.decoder_weight is not None:
        rows, cols = trace.decoder_weight.shape
        out.append({"rows": rows, "cols": cols, "sums": 1, "hidden": 0})
    return out


def chip_area(config: ArchConfig, table: EnergyTable, trace: Trace) -> dict | None:
    """``total`` and one key per component, in mm^2 (None when the table has no area section)."""
    area = table.area
    if area is None:
        return None
    p = config.precision
    fmt = p.number_format
    mats = _matrices(config, trace)
    spatial = config.mapping == "spatial"
    clusters = len(mats) if spatial else 1
    n_layers = len(trace.layers)
    eb = config.event_queue.event_bits
    reg = area.register_bit_um2
    um2 = dict.fromkeys(COMPONENTS, 0.0)

    if config.weight_storage == "sram":
        ws = config.weight_sram
        um2["weight_sram"] = clusters * sram_um2(area, ws.capacity_bytes * 8, ws.capacity_bytes / ws.banks)
    ptr_bits = POINTER_INDICES[config.weight_format] * p.index_bits
    tables = [m["cols"] * ptr_bits for m in mats]
    for bits in (tables if spatial else [sum(tables)]):
        um2["pointer_table"] += sram_um2(area, bits)
    queues = [config.event_queue.depth * eb] * (len(mats) - 1)        # into layers 1.. and the decoder
    queues += [m["hidden"] * eb for m in mats[:n_layers]]           # recurrent queues
    for bits in queues:
        um2["event_queue"] += sram_um2(area, bits)

    lanes = config.pe.count * config.pe.mac_lanes
    mac = _arith_um2(area, fmt, "mult", p.weight_bits, p.value_bits) + \
        _arith_um2(area, fmt, "add", p.accumulator_bits)
    um2["mac"] = clusters * lanes * mac
    acc = [m["rows"] * m["sums"] * 2 * p.accumulator_bits for m in mats]
    um2["accumulator"] = (sum(acc) if spatial else max(acc, default=0)) * reg
    um2["pe_fifo"] = clusters * config.pe.count * config.pe.fifo_depth * eb * reg

    a = p.accumulator_bits
    if config.update_unit.nonlinearity == "lut":
        nonlin = area.nonlinearity_um2
    else:   # piecewise-linear: a segment compare, a multiply and an add
        nonlin = area.compare_um2 + _arith_um2(area, fmt, "mult", a) + _arith_um2(area, fmt, "add", a)
    lane = (update_unit.NONLINEARITIES_PER_UNIT * nonlin
            + update_unit.MULTS_PER_UNIT * _arith_um2(area, fmt, "mult", a)
            + update_unit.ADDS_PER_UNIT * _arith_um2(area, fmt, "add", a)
            + update_unit.COMPARES_PER_UNIT * area.compare_um2)
    units = n_layers if spatial else min(n_layers, 1)
    state = sum(m["hidden"] for m in mats) * a
    um2["update"] = units * config.update_unit.lanes * lane + state * reg
    mm2 = {k: v / 1e6 for k, v in um2.items()}
    if config.weight_storage == "dram":
        mm2["dram_interface"] = area.dram_interface_mm2
    total = 0.0
    for v in mm2.values():
        total += v
    return {"total": total, **mm2}


def leakage_mw(area_mm2: dict, table: EnergyTable) -> float:
    """Leakage power of the chip, mW: SRAM arrays and logic at their own density per mm^2."""
    d = table.area.leakage_mw_per_mm2
    sram = 0.0
    logic = 0.0
    for k in COMPONENTS:
        if k in SRAM_COMPONENTS:
            sram += area_mm2[k]
        else:
            logic += area_mm2[k]
    return sram * d.sram + logic * d.logic


def check_area_table(config: ArchConfig, table: EnergyTable, where: str = "energy_table") -> None:
    """``energy.leakage: area`` needs a table with an ``area`` section (InputError otherwise)."""
    if config.energy.leakage == "area" and table.area is None:
        raise InputError(f"{where}: energy.leakage is 'area' but the energy table {table.name} has no "
                         f"area section; add one (as in the shipped 45nm table) or set "
                         f"energy.leakage: flat")
