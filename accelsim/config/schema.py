"""The architecture config: frozen, typed, documented; the YAML file is a view of these objects.

Every field has a default here and nowhere else. Units are in the names (``_bits``, ``_bytes``,
``_cycles``, ``_mhz``). ``ArchConfig.model_dump()`` is the fully resolved configuration that every
result carries.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from accelsim.config import limits as L

PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]


def _upto(n: int | float, why: str) -> str:
    """The bound of a field as its description states it (and so docs/config.md)."""
    return f"; at most {n:,} ({why})"


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
WeightFormat = Literal["dense", "csc", "bitmap", "csc_relative", "nm"]
"""dense: every entry stored, no metadata; csc: column pointers + row indices + nonzero values;
bitmap: one presence bit per entry + nonzero values; csc_relative: column pointers + per entry a
value and an index_bits run of skipped zero rows (padding zeros when a run overflows, EIE);
nm: N:M structured, nm_n values and log2(nm_m)-bit positions per group of nm_m rows."""
Layout = Literal["row_interleaved", "blocked"]
"""row_interleaved: row i -> PE (i mod P); blocked: contiguous blocks of ceil(3H/P) rows per PE."""
Mapping = Literal["spatial", "temporal"]
"""spatial: one PE cluster per layer, layers pipelined across steps; temporal: one shared cluster."""
WeightStorage = Literal["sram", "dram"]
"""sram: compressed weights on chip; dram: columns streamed from DRAM per event (EdgeDRNN style)."""
NumberFormat = Literal["int", "fp"]
Nonlinearity = Literal["lut", "pwl"]
Phases = Literal["separate", "single"]
"""separate: input columns, then recurrent columns, as two phases (each with its own drain);
single: one stream per layer-step (bias, input and recurrent columns in scan order, one drain)."""
StreamIssue = Literal["phase_start", "on_dispatch"]
"""phase_start: a phase's columns are all requested when it starts and arrive back to back;
on_dispatch: a column is requested when the dispatcher pops it (bursts chain when requested in time)."""
StreamDelivery = Literal["store_and_forward", "cut_through"]
"""store_and_forward: PEs use a streamed column once all of it arrived; cut_through: PEs consume
each beat as it arrives."""
Leakage = Literal["flat", "area"]
"""flat: the energy table's leakage_pj_per_cycle for the whole chip; area: the chip's area
(area_mm2) x the table's leakage power per mm2 (SRAM and logic apart), for the run's duration."""
ChannelArbitration = Literal["phase", "burst"]
"""phase: a phase that streams holds the DRAM channel from its start to its last beat; burst: the
clusters' requests share the channel one burst at a time (round robin), their latencies overlap."""
UpdateTiming = Literal["pipelined", "grouped"]
"""pipelined: lane groups issue one per cycle into a latency-deep pipeline, then the encoder emits;
grouped: cycles_per_group per group of lanes plus fixed_cycles, events included."""


class Precision(_Frozen):
    """Bit widths: they set storage, traffic and energy (not functional rounding)."""

    number_format: NumberFormat = Field("int", description="integer or floating-point datapath")
    weight_bits: PositiveInt = Field(8, le=L.MAX_WORD_BITS, description="bits per stored weight value" + _upto(L.MAX_WORD_BITS, "the widest number format"))
    value_bits: PositiveInt = Field(16, le=L.MAX_WORD_BITS, description="bits per activation / event value" + _upto(L.MAX_WORD_BITS, "the widest number format"))
    index_bits: PositiveInt = Field(16, le=L.MAX_WORD_BITS, description="bits per row index / column pointer (metadata)" + _upto(L.MAX_WORD_BITS, "a 64-bit index addresses any memory"))
    accumulator_bits: PositiveInt = Field(32, le=L.MAX_ACCUMULATOR_BITS, description="bits per partial-sum accumulator" + _upto(L.MAX_ACCUMULATOR_BITS, "twice the widest product"))


class PEArray(_Frozen):
    """P processing elements, each with M MAC lanes and a local work FIFO."""

    count: PositiveInt = Field(16, le=L.MAX_PES, description="number of PEs (P) per cluster" + _upto(L.MAX_PES, "event-driven RNN designs have 8 to a few hundred"))
    mac_lanes: PositiveInt = Field(4, le=L.MAX_MAC_LANES, description="MAC lanes per PE (M): MACs per PE per cycle" + _upto(L.MAX_MAC_LANES, "with the PE bound, 4 M MACs per cycle, beyond any chip"))
    fifo_depth: PositiveInt = Field(4, le=L.MAX_FIFO_DEPTH, description="PE-local FIFO depth, in events (column work items)" + _upto(L.MAX_FIFO_DEPTH, "PE FIFOs hold a few to a few tens of items; the simulator keeps count x depth slots"))
    mac_latency_cycles: PositiveInt = Field(2, le=L.MAX_PIPELINE_CYCLES, description="MAC pipeline depth (drain at end of a phase)" + _upto(L.MAX_PIPELINE_CYCLES, "an on-chip pipeline"))


class Dispatcher(_Frozen):
    events_per_cycle: PositiveInt = Field(1, le=L.MAX_PER_CYCLE, description="events popped and broadcast per cycle" + _upto(L.MAX_PER_CYCLE, "one to a few in published designs"))
    pointer_read_cycles: PositiveInt = Field(1, le=L.MAX_PIPELINE_CYCLES, description="cycles to read a column's metadata pointer" + _upto(L.MAX_PIPELINE_CYCLES, "an on-chip read"))


class WeightSRAM(_Frozen):
    banks: PowerOfTwo = Field(16, le=L.MAX_BANKS, description="number of SRAM banks (power of two)" + _upto(L.MAX_BANKS, "the SRAM macros of the largest dies"))
    bank_width_bits: PowerOfTwo = Field(64, le=L.MAX_BANK_WIDTH_BITS, description="bits read from one bank per cycle (power of two, at least 8)" + _upto(L.MAX_BANK_WIDTH_BITS, "one SRAM line"))
    capacity_bytes: PositiveInt = Field(4 * 1024 * 1024, le=L.MAX_CAPACITY_BYTES, description="on-chip weight capacity of one PE cluster (one layer in spatial mapping, all layers in temporal)" + _upto(L.MAX_CAPACITY_BYTES, "64 GiB; the largest wafer-scale chip holds 44 GB"))
    read_latency_cycles: PositiveInt = Field(1, le=L.MAX_PIPELINE_CYCLES, description="cycles from request to data" + _upto(L.MAX_PIPELINE_CYCLES, "an on-chip read"))

    @field_validator("bank_width_bits")
    @classmethod
    def _bytes(cls, v: int) -> int:
        if v < 8:
            raise ValueError(f"must be at least 8 (got {v})")
        return v


class EventQueue(_Frozen):
    depth: PositiveInt = Field(1024, le=L.MAX_QUEUE_DEPTH, description="events a queue holds; a full queue back-pressures its producer" + _upto(L.MAX_QUEUE_DEPTH, "2^20 events: 16 MiB of queue SRAM"))
    event_bits: PositiveInt = Field(32, le=L.MAX_EVENT_BITS, description="bits per (unit index, value) event on the queue" + _upto(L.MAX_EVENT_BITS, "a 64-bit index and a 64-bit value"))
    streaming: bool = Field(False, description="false: the encoder commits a step's events as one batch when its update phase ends; true: it pushes each event into the next layer's queue as it emits it (one slot per event, freed when the dispatcher pops it) and the next layer's dispatcher starts on the first; spatial mapping, pipelined update timing, no event scan, bias column or single phase, DRAM with phase arbitration")


class UpdateUnit(_Frozen):
    lanes: PositiveInt = Field(16, le=L.MAX_UPDATE_LANES, description="units updated per cycle (U)" + _upto(L.MAX_UPDATE_LANES, "one per unit of the widest layers in use"))
    latency_cycles: PositiveInt = Field(4, le=L.MAX_PIPELINE_CYCLES, description="pipeline depth: gates, state, compare, reset" + _upto(L.MAX_PIPELINE_CYCLES, "an on-chip pipeline"))
    nonlinearity: Nonlinearity = Field("lut", description="sigmoid/tanh implementation, priced in energy: lut (one table read, the energy table's nonlinearity_pj) | pwl (piecewise-linear: a segment compare, a multiply and an add at accumulator width)")
    encoder_events_per_cycle: PositiveInt = Field(1, le=L.MAX_PER_CYCLE, description="events the encoder emits per cycle" + _upto(L.MAX_PER_CYCLE, "one to a few in published designs"))
    timing: UpdateTiming = Field("pipelined", description="pipelined (lane groups into a latency_cycles pipeline, then the encoder) | grouped (cycles_per_group x ceil(H / lanes) + fixed_cycles)")
    cycles_per_group: PositiveInt = Field(1, le=L.MAX_PIPELINE_CYCLES, description="grouped timing: cycles per group of `lanes` units" + _upto(L.MAX_PIPELINE_CYCLES, "an on-chip pipeline"))
    fixed_cycles: NonNegativeInt = Field(0, le=L.MAX_LATENCY_CYCLES, description="grouped timing: cycles added once per step (extra passes, output)" + _upto(L.MAX_LATENCY_CYCLES, "a fixed per-step cost"))


class EventScan(_Frozen):
    """An event encoder that scans the layer's input and state vectors to find fired columns (delta
    networks): a column cannot be dispatched before the scan reached it, so even an empty
    layer-step costs the scan. Off: events are handed to the dispatcher as a list (no scan)."""

    enabled: bool = Field(False, description="scan the input and state vectors for fired columns")
    elements_per_cycle: PositiveInt = Field(1, le=L.MAX_PER_CYCLE, description="vector elements the scan reads per cycle" + _upto(L.MAX_PER_CYCLE, "one to a few in published designs"))
    start_cycles: NonNegativeInt = Field(0, le=L.MAX_LATENCY_CYCLES, description="cycles from the phase start to the scan's first read (init)" + _upto(L.MAX_LATENCY_CYCLES, "a fixed per-step cost"))
    latency_cycles: NonNegativeInt = Field(0, le=L.MAX_PIPELINE_CYCLES, description="cycles from the scan reading a fired element to the dispatcher seeing it" + _upto(L.MAX_PIPELINE_CYCLES, "an on-chip pipeline"))
    gap_cycles: NonNegativeInt = Field(0, le=L.MAX_LATENCY_CYCLES, description="idle scan cycles between the input part and the state part (single stream)" + _upto(L.MAX_LATENCY_CYCLES, "a fixed per-step cost"))
    input_pad_multiple: PositiveInt = Field(1, le=L.MAX_PAD_MULTIPLE, description="the input part is scanned zero-padded to a multiple of this (padded elements never fire)" + _upto(L.MAX_PAD_MULTIPLE, "one scan line"))
    end_marker_cycles: NonNegativeInt = Field(0, le=L.MAX_PIPELINE_CYCLES, description="a part whose last element did not fire sends a zero-valued end marker costing this many stream / PE cycles (0: no markers)" + _upto(L.MAX_PIPELINE_CYCLES, "an on-chip pipeline"))


class DRAM(_Frozen):
    bandwidth_bytes_per_cycle: PositiveInt = Field(16, le=L.MAX_BANDWIDTH_BYTES_PER_CYCLE, description="sustained bytes per core clock cycle" + _upto(L.MAX_BANDWIDTH_BYTES_PER_CYCLE, "8 HBM3 stacks at a 100 MHz clock"))
    latency_cycles: NonNegativeInt = Field(100, le=L.MAX_LATENCY_CYCLES, description="cycles from request to first data" + _upto(L.MAX_LATENCY_CYCLES, "DRAM answers in ~100 ns, ~1,000 cycles at 10 GHz"))
    burst_bytes: PowerOfTwo = Field(64, le=L.MAX_BURST_BYTES, description="transfer granule; reads round up to bursts (power of two)" + _upto(L.MAX_BURST_BYTES, "a DRAM page"))
    issue: StreamIssue = Field("phase_start", description="phase_start (all columns of a phase requested at its start) | on_dispatch (a column is requested when dispatched; bursts chain)")
    restart_bubble_cycles: NonNegativeInt = Field(0, le=L.MAX_LATENCY_CYCLES, description="on_dispatch: extra cycles before the first beat of a burst that starts on an idle stream" + _upto(L.MAX_LATENCY_CYCLES, "a DRAM latency"))
    delivery: StreamDelivery = Field("store_and_forward", description="store_and_forward (PEs wait for the whole column) | cut_through (PEs consume beats as they arrive)")
    stream_efficiency: float = Field(1.0, ge=L.MIN_STREAM_EFFICIENCY, le=1, allow_inf_nan=False, description=f"fraction of cycles on which the channel delivers data (1: every cycle); from {L.MIN_STREAM_EFFICIENCY:g} (a beat every 1,000 cycles) to 1, with at most {L.STREAM_EFFICIENCY_DECIMALS} decimals (stream times are computed exactly in 64-bit integers)")
    staging_buffer_bytes: PositiveInt | None = Field(None, le=L.MAX_CAPACITY_BYTES, description="on-chip buffer for streamed columns: a column is requested only when its bytes (whole bursts) fit beside the requested columns the PE array has not consumed yet; at least the largest column; null: unbounded" + _upto(L.MAX_CAPACITY_BYTES, "64 GiB, as weight_sram.capacity_bytes"))
    max_outstanding: PositiveInt | None = Field(None, le=L.MAX_QUEUE_DEPTH, description="columns a cluster may have requested from DRAM and not yet received; null: unbounded" + _upto(L.MAX_QUEUE_DEPTH, "memory controllers track tens to hundreds of requests"))
    arbitration: ChannelArbitration = Field("phase", description="phase (a phase that streams holds the channel from its start to its last beat) | burst (clusters' requests share the channel one burst at a time, round robin; latencies overlap)")

    @field_validator("stream_efficiency")
    @classmethod
    def _decimals(cls, v: float) -> float:
        if Fraction(str(v)).denominator > 10 ** L.STREAM_EFFICIENCY_DECIMALS:
            raise ValueError(f"must have at most {L.STREAM_EFFICIENCY_DECIMALS} decimals (got {v!r})")
        return v


class EnergyOptions(_Frozen):
    """How the run is priced (after the simulation; no effect on cycles or counts)."""

    leakage: Leakage = Field("flat", description="static energy: flat (the energy table's leakage_pj_per_cycle x cycles, whatever the chip's size) | area (area_mm2 x the table's area.leakage_mw_per_mm2, SRAM and logic apart, x cycles / clock; needs a table with an area section); see docs/architecture.md, Area")


class ArchConfig(_Frozen):
    """One accelerator design point."""

    name: str = Field("unnamed", description="label carried into results")
    clock_mhz: float = Field(500.0, ge=L.MIN_CLOCK_MHZ, le=L.MAX_CLOCK_MHZ, allow_inf_nan=False, description=f"core clock frequency; finite, from {L.MIN_CLOCK_MHZ:g} (1 kHz) to {L.MAX_CLOCK_MHZ:,.0f} (10 GHz; no CMOS logic clocks above ~6 GHz)")
    precision: Precision = Precision()
    pe: PEArray = PEArray()
    dispatcher: Dispatcher = Dispatcher()
    weight_sram: WeightSRAM = WeightSRAM()
    layout: Layout = Field("row_interleaved", description="row -> PE/bank placement policy")
    weight_format: WeightFormat = Field("csc", description="how weights are stored: dense, csc, bitmap, csc_relative (EIE: per entry an index_bits run of skipped zero rows, padding zeros when a run overflows) or nm (N:M structured, see nm_n and nm_m); compared in docs/architecture.md")
    nm_n: PositiveInt = Field(2, description="weight_format nm: values stored per group of nm_m consecutive rows of a column (N); at most nm_m")
    nm_m: PowerOfTwo = Field(4, le=256, description="weight_format nm: rows per group (M, power of two); positions take log2(M) bits; the last group of a column is shorter when M does not divide its rows" + _upto(256, "a position of log2(M) bits fits the narrowest SRAM word"))
    weight_storage: WeightStorage = Field("sram", description="sram (on chip) | dram (streamed per event)")
    event_queue: EventQueue = EventQueue()
    update_unit: UpdateUnit = UpdateUnit()
    event_scan: EventScan = EventScan()
    dram: DRAM = DRAM()
    phases: Phases = Field("separate", description="separate (input phase, then recurrent phase) | single (one stream per layer-step)")
    bias_column: bool = Field(False, description="fetch the bias as one more weight column on steps where the trace's bias_fires is 1")
    startup_cycles: NonNegativeInt = Field(0, le=L.MAX_LATENCY_CYCLES, description="cycles before the first layer-step of a run (reset, configuration)" + _upto(L.MAX_LATENCY_CYCLES, "a fixed cost"))
    mapping: Mapping = Field("spatial", description="spatial | temporal")
    skip_activity: bool = Field(True, description="process only active events (False: every input/recurrent column every step)")
    skip_weights: bool = Field(True, description="skip zero weights (False: every row of a fetched column is a MAC)")
    include_decoder: bool = Field(False, description="simulate the tied-embedding decoder fed by last-layer events")
    energy_table: str = Field("45nm", description="a shipped energy (and area) table by name (`45nm`, `16nm`), or a YAML file: a value with a `/` or ending in `.yaml` is a path, relative to this config's folder")
    energy: EnergyOptions = EnergyOptions()

    @model_validator(mode="after")
    def _nm_fits(self):
        if self.nm_n > self.nm_m:
            raise ValueError(f"nm_n ({self.nm_n}) must be at most nm_m ({self.nm_m})")
        return self

    @model_validator(mode="after")
    def _fits(self):
        if self.event_queue.event_bits < self.precision.value_bits:
            raise ValueError(
                f"event_queue.event_bits ({self.event_queue.event_bits}) must hold at least "
                f"precision.value_bits ({self.precision.value_bits})")
        w = self.weight_sram.bank_width_bits
        for name in ("weight_bits", "index_bits"):
            bits = getattr(self.precision, name)
            if bits > w:
                raise ValueError(f"precision.{name} ({bits}) must fit in one SRAM word: "
                                 f"weight_sram.bank_width_bits is {w}")
        return self
