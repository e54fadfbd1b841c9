"""The energy reference table (ERT): picojoules per action, apart from the architecture.

Energy is priced after a run from action counts; changing a table never needs a re-simulation.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from accelsim.config import limits as L
from accelsim.config.schema import _Frozen

# finite and at most 10^12 pJ per action, so that counts x energies stay finite
NonNegFloat = Annotated[float, Field(ge=0, le=L.MAX_PJ, allow_inf_nan=False)]


class ArithmeticEnergy(_Frozen):
    add_pj: NonNegFloat
    mult_pj: NonNegFloat


class SRAMPoint(_Frozen):
    size_bytes: Annotated[int, Field(gt=0, le=L.MAX_SRAM_POINT_BYTES)]
    read_64b_pj: NonNegFloat


AreaUm2 = Annotated[float, Field(ge=0, le=L.MAX_AREA_UM2, allow_inf_nan=False)]
MwPerMm2 = Annotated[float, Field(ge=0, le=L.MAX_MW_PER_MM2, allow_inf_nan=False)]


class ArithmeticArea(_Frozen):
    add_um2: AreaUm2
    mult_um2: AreaUm2


class SRAMEfficiency(_Frozen):
    size_bytes: Annotated[int, Field(gt=0, le=L.MAX_SRAM_POINT_BYTES)]
    efficiency: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]


class LeakageDensity(_Frozen):
    sram: MwPerMm2 = Field(description="leakage power of SRAM arrays (weight SRAM, pointer table, event queues), mW per mm2")
    logic: MwPerMm2 = Field(description="leakage power of logic and registers, mW per mm2")


class AreaTable(_Frozen):
    """Square micrometres per component (accelsim.energy.area; docs/architecture.md, Area)."""

    source: str = Field(description="citation of where the numbers come from")
    arithmetic: dict[str, ArithmeticArea] = Field(description="one adder / one multiplier at this operand width; other widths scaled as in energy (adds linearly, multiplies with the product of the widths)")
    sram_cell_um2: Annotated[float, Field(gt=0, le=L.MAX_AREA_UM2, allow_inf_nan=False)] = Field(description="one SRAM bit cell")
    sram_array_efficiency: list[SRAMEfficiency] = Field(description="cell area / array area by array (bank) size; interpolated linearly in log(size), clamped at the ends")
    register_bit_um2: AreaUm2 = Field(description="one register / FIFO bit (a flip-flop)")
    nonlinearity_um2: AreaUm2 = Field(description="one sigmoid/tanh lookup table (update_unit.nonlinearity: lut)")
    compare_um2: AreaUm2 = Field(description="one threshold comparator")
    dram_interface_mm2: Annotated[float, Field(ge=0, le=L.MAX_AREA_UM2 / 1e6, allow_inf_nan=False)] = Field(description="memory controller and PHY of the DRAM channel (weight_storage: dram)")
    leakage_mw_per_mm2: LeakageDensity

    @model_validator(mode="after")
    def _check(self):
        if not self.sram_array_efficiency:
            raise ValueError("sram_array_efficiency needs at least one point")
        return self


class EnergyTable(_Frozen):
    """pJ per action. Arithmetic keys are ``int8``, ``int16``, ``int32``, ``fp16``, ``fp32``."""

    name: str
    source: str = Field(description="citation of where the numbers come from")
    arithmetic: dict[str, ArithmeticEnergy]
    sram_read: list[SRAMPoint] = Field(description="64-bit read energy by SRAM (bank) size; interpolated log-log")
    register_access_64b_pj: NonNegFloat = Field(description="64-bit access to a small register file / FIFO")
    dram_read_64b_pj: NonNegFloat = Field(description="DRAM energy per 64 bits read")
    nonlinearity_pj: NonNegFloat = Field(description="one sigmoid/tanh evaluation by a LUT lookup (update_unit.nonlinearity: lut)")
    compare_pj: NonNegFloat = Field(description="one threshold compare")
    leakage_pj_per_cycle: NonNegFloat = Field(description="static energy of the whole chip per clock cycle")
    area: AreaTable | None = Field(None, description="area per component and leakage power per mm2 (optional: without it area_mm2 is null and energy.leakage: area is refused)")

    @model_validator(mode="after")
    def _check(self):
        if not self.sram_read:
            raise ValueError("sram_read needs at least one point")
        return self
