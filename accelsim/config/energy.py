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

    @model_validator(mode="after")
    def _check(self):
        if not self.sram_read:
            raise ValueError("sram_read needs at least one point")
        return self
