"""The architecture config: frozen, typed, documented; the YAML file is a view of these objects.

Every field has a default here and nowhere else. Units are in the names (``_bits``, ``_bytes``,
``_cycles``, ``_mhz``). ``ArchConfig.model_dump()`` is the fully resolved configuration that every
result carries.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

PositiveInt = Annotated[int, Field(gt=0)]


def _is_pow2(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


def _check_pow2(v: int) -> int:
    if not _is_pow2(v):
        raise ValueError(f"must be a power of two >= 1 (got {v})")
    return v


# Address interleaving over banks and burst alignment need powers of two.
PowerOfTwo = Annotated[int, Field(gt=0), AfterValidator(_check_pow2)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True,
                              validate_default=True)


# Enumerations are Literals so YAML strings validate in strict mode; the comment says what each means.
WeightFormat = Literal["dense", "csc", "bitmap"]
"""dense: every entry stored, no metadata; csc: column pointers + row indices + nonzero values;
bitmap: one presence bit per entry + nonzero values."""
Layout = Literal["row_interleaved", "blocked"]
"""row_interleaved: row i -> PE (i mod P); blocked: contiguous blocks of ceil(3H/P) rows per PE."""
Mapping = Literal["spatial", "temporal"]
"""spatial: one PE cluster per layer, layers pipelined across steps; temporal: one shared cluster."""
WeightStorage = Literal["sram", "dram"]
"""sram: compressed weights on chip; dram: columns streamed from DRAM per event (EdgeDRNN style)."""
NumberFormat = Literal["int", "fp"]
Nonlinearity = Literal["lut", "pwl"]


class Precision(_Frozen):
    """Bit widths: they set storage, traffic and energy (not functional rounding)."""

    number_format: NumberFormat = Field("int", description="integer or floating-point datapath")
    weight_bits: PositiveInt = Field(8, description="bits per stored weight value")
    value_bits: PositiveInt = Field(16, description="bits per activation / event value")
    index_bits: PositiveInt = Field(16, description="bits per row index / column pointer (metadata)")
    accumulator_bits: PositiveInt = Field(32, description="bits per partial-sum accumulator")


class PEArray(_Frozen):
    """P processing elements, each with M MAC lanes and a local work FIFO."""

    count: PositiveInt = Field(16, description="number of PEs (P) per cluster")
    mac_lanes: PositiveInt = Field(4, description="MAC lanes per PE (M): MACs per PE per cycle")
    fifo_depth: PositiveInt = Field(4, description="PE-local FIFO depth, in events (column work items)")
    mac_latency_cycles: PositiveInt = Field(2, description="MAC pipeline depth (drain at end of a phase)")


class Dispatcher(_Frozen):
    events_per_cycle: PositiveInt = Field(1, description="events popped and broadcast per cycle")
    pointer_read_cycles: PositiveInt = Field(1, description="cycles to read a column's metadata pointer")


class WeightSRAM(_Frozen):
    banks: PowerOfTwo = Field(16, description="number of SRAM banks (power of two)")
    bank_width_bits: PowerOfTwo = Field(64, description="bits read from one bank per cycle (power of two)")
    capacity_bytes: PositiveInt = Field(4 * 1024 * 1024, description="on-chip weight capacity of one PE cluster (one layer in spatial mapping, all layers in temporal)")
    read_latency_cycles: PositiveInt = Field(1, description="cycles from request to data")

    @field_validator("bank_width_bits")
    @classmethod
    def _bytes(cls, v: int) -> int:
        if v < 8:
            raise ValueError(f"must be at least 8 (got {v})")
        return v


class EventQueue(_Frozen):
    depth: PositiveInt = Field(1024, description="events a queue holds; a full queue back-pressures its producer")
    event_bits: PositiveInt = Field(32, description="bits per (unit index, value) event on the queue")


class UpdateUnit(_Frozen):
    lanes: PositiveInt = Field(16, description="units updated per cycle (U)")
    latency_cycles: PositiveInt = Field(4, description="pipeline depth: gates, state, compare, reset")
    nonlinearity: Nonlinearity = Field("lut", description="sigmoid/tanh implementation")
    encoder_events_per_cycle: PositiveInt = Field(1, description="events the encoder emits per cycle")


class DRAM(_Frozen):
    bandwidth_bytes_per_cycle: PositiveInt = Field(16, description="sustained bytes per core clock cycle")
    latency_cycles: PositiveInt = Field(100, description="cycles from request to first data")
    burst_bytes: PowerOfTwo = Field(64, description="transfer granule; reads round up to bursts (power of two)")


class ArchConfig(_Frozen):
    """One accelerator design point."""

    name: str = Field("unnamed", description="label carried into results")
    clock_mhz: float = Field(500.0, gt=0, description="core clock frequency")
    precision: Precision = Precision()
    pe: PEArray = PEArray()
    dispatcher: Dispatcher = Dispatcher()
    weight_sram: WeightSRAM = WeightSRAM()
    layout: Layout = Field("row_interleaved", description="row -> PE/bank placement policy")
    weight_format: WeightFormat = Field("csc", description="dense | csc | bitmap")
    weight_storage: WeightStorage = Field("sram", description="sram (on chip) | dram (streamed per event)")
    event_queue: EventQueue = EventQueue()
    update_unit: UpdateUnit = UpdateUnit()
    dram: DRAM = DRAM()
    mapping: Mapping = Field("spatial", description="spatial | temporal")
    skip_activity: bool = Field(True, description="process only active events (False: every input/recurrent column every step)")
    skip_weights: bool = Field(True, description="skip zero weights (False: every row of a fetched column is a MAC)")
    include_decoder: bool = Field(False, description="simulate the tied-embedding decoder fed by last-layer events")
    energy_table: str = Field("energy/45nm.yaml", description="energy table YAML, relative to this config's folder")

    @model_validator(mode="after")
    def _fits(self):
        if self.event_queue.event_bits < self.precision.value_bits:
            raise ValueError(
                f"event_queue.event_bits ({self.event_queue.event_bits}) must hold at least "
                f"precision.value_bits ({self.precision.value_bits})")
        return self
