"""Action counts x energy reference table -> picojoules per component.

Components (every one is ``count x pJ per action``; ``total`` is their sum, in this order):

- ``mac``: one multiply (weight_bits x value_bits) and one add (accumulator_bits) per MAC;
- ``accumulator``: a read and a write of an accumulator_bits partial sum per MAC (register file);
- ``sram_weights`` / ``sram_metadata``: bits read / 64 x the 64-bit read energy of one bank
  (``capacity_bytes / banks``, interpolated log-log in the table, clamped at its ends);
- ``dram``: bytes x 8 / 64 x the DRAM energy per 64 bits;
- ``update``: per unit and step 3 nonlinearities, 3 multiplies and 12 adds at accumulator width,
  one threshold compare; a nonlinearity is one LUT read (``nonlinearity_pj``) with
  ``update_unit.nonlinearity: lut``, or a segment compare plus a multiply and an add at
  accumulator width with ``pwl`` (piecewise-linear);
- ``event_queue``: a write and a read of ``event_bits`` per event pushed (register file);
- ``leakage``: cycles x leakage per cycle (whole chip; not split per layer); with
  ``energy.leakage: area``, the chip's leakage power (``area_mm2`` x the table's
  ``area.leakage_mw_per_mm2``, SRAM arrays and logic apart) x cycles / clock.

Arithmetic at a width the table lacks is scaled from the nearest width of the same number format:
adds linearly, multiplies with the product of the operand widths (an array multiplier's area).
"""

from __future__ import annotations

import math

from accelsim.config.energy import EnergyTable
from accelsim.config.schema import ArchConfig
from accelsim.errors import InputError
from accelsim.units import update_unit

COMPONENTS = ("mac", "accumulator", "sram_weights", "sram_metadata", "dram", "update",
              "event_queue", "leakage")


def scaled_arithmetic(entries: dict[str, tuple[float, float]], number_format: str, op: str,
                      bits_a: int, bits_b: int | None, what: str) -> float:
    """One ``op`` ("add" or "mult") on operands of ``bits_a`` (x ``bits_b``) bits, from
    ``entries`` (key like ``int8`` -> (add, mult)): the nearest width of the number format,
    adds scaled linearly, multiplies with the product of the widths. ``what`` names the table."""
    widths = {int(k[len(number_format):]): v for k, v in entries.items()
              if k.startswith(number_format) and k[len(number_format):].isdigit()}
    if not widths:
        raise InputError(f"{what}: no arithmetic entry for number format "
                         f"'{number_format}' (keys like {number_format}8, {number_format}32)")
    if op == "add":
        n = min(widths, key=lambda w: (abs(math.log(w / bits_a)), w))
        return widths[n][0] * bits_a / n
    b = bits_b if bits_b is not None else bits_a
    eff = math.sqrt(bits_a * b)
    n = min(widths, key=lambda w: (abs(math.log(w / eff)), w))
    return widths[n][1] * (bits_a * b) / (n * n)


def arithmetic_pj(table: EnergyTable, number_format: str, op: str, bits_a: int, bits_b: int | None = None) -> float:
    """Energy of one ``op`` ("add" or "mult") on operands of ``bits_a`` (x ``bits_b``) bits."""
    return scaled_arithmetic({k: (v.add_pj, v.mult_pj) for k, v in table.arithmetic.items()},
                             number_format, op, bits_a, bits_b, f"energy table {table.name}")


def bracket(points, size: float):
    """The two points around ``size`` of ``points`` (each with a ``size_bytes``) and where
    ``size`` lies between them on a log scale, ``(a, b, f)`` with ``0 <= f <= 1``; beyond the
    smallest or largest point, that point twice and ``f = 0`` (clamped)."""
    pts = sorted(points, key=lambda p: p.size_bytes)
    if size <= pts[0].size_bytes:
        return pts[0], pts[0], 0.0
    for a, b in zip(pts, pts[1:]):
        if size <= b.size_bytes:
            return a, b, math.log(size / a.size_bytes) / math.log(b.size_bytes / a.size_bytes)
    return pts[-1], pts[-1], 0.0


def sram_read_64b_pj(table: EnergyTable, size_bytes: float) -> float:
    """64-bit read of an SRAM of ``size_bytes``: log-log between the table's points (linear where
    one of them is 0 pJ), clamped at its ends."""
    a, b, f = bracket(table.sram_read, size_bytes)
    if a is b:
        return a.read_64b_pj
    if a.read_64b_pj <= 0 or b.read_64b_pj <= 0:
        f = (size_bytes - a.size_bytes) / (b.size_bytes - a.size_bytes)
        return a.read_64b_pj + f * (b.read_64b_pj - a.read_64b_pj)
    return math.exp(math.log(a.read_64b_pj) + f * math.log(b.read_64b_pj / a.read_64b_pj))


def price(counts: dict, config: ArchConfig, table: EnergyTable, *, cycles: int | None,
          area_mm2: dict | None = None) -> dict:
    """``counts``: macs, sram_weight_bits, sram_metadata_bits, dram_read_bytes, unit_updates,
    queue_events. ``cycles=None`` leaves leakage out (per-layer figures); with
    ``energy.leakage: area`` leakage needs the chip's ``area_mm2`` (accelsim.energy.area).
    Returns pJ per component and ``total`` (first key)."""
    p = config.precision
    fmt = p.number_format
    mac = arithmetic_pj(table, fmt, "mult", p.weight_bits, p.value_bits) + \
        arithmetic_pj(table, fmt, "add", p.accumulator_bits)
    reg = table.register_access_64b_pj / 64.0
    bank_pj = sram_read_64b_pj(table, config.weight_sram.capacity_bytes / config.weight_sram.banks) / 64.0
    if config.update_unit.nonlinearity == "lut":
        nonlin = table.nonlinearity_pj
    else:  # piecewise-linear: a compare selects the segment, then slope x value + offset
        nonlin = (table.compare_pj + arithmetic_pj(table, fmt, "mult", p.accumulator_bits)
                  + arithmetic_pj(table, fmt, "add", p.accumulator_bits))
    upd = (update_unit.NONLINEARITIES_PER_UNIT * nonlin
           + update_unit.MULTS_PER_UNIT * arithmetic_pj(table, fmt, "mult", p.accumulator_bits)
           + update_unit.ADDS_PER_UNIT * arithmetic_pj(table, fmt, "add", p.accumulator_bits)
           + update_unit.COMPARES_PER_UNIT * table.compare_pj)
    comp = {
        "mac": counts["macs"] * mac,
        "accumulator": counts["macs"] * 2 * p.accumulator_bits * reg,
        "sram_weights": counts["sram_weight_bits"] * bank_pj,
        "sram_metadata": counts["sram_metadata_bits"] * bank_pj,
        "dram": counts["dram_read_bytes"] * 8 / 64.0 * table.dram_read_64b_pj,
        "update": counts["unit_updates"] * upd,
        "event_queue": counts["queue_events"] * 2 * config.event_queue.event_bits * reg,
    }
    if cycles is not None:
        if config.energy.leakage == "area":
            from accelsim.energy.area import leakage_mw

            if area_mm2 is None:
                raise InputError(f"energy table {table.name}: energy.leakage is 'area' but no chip "
                                 f"area was given (the table needs an area section)")
            # mW x (cycles / clock) = 1e-3 J/s x cycles / (clock_mhz x 1e6 /s) = 1e3 x cycles / clock_mhz pJ
            comp["leakage"] = leakage_mw(area_mm2, table) * cycles * 1e3 / config.clock_mhz
        else:
            comp["leakage"] = cycles * table.leakage_pj_per_cycle
    total = 0.0
    for v in comp.values():
        total += v
    return {"total": total, **comp}
