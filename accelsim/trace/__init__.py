"""Workload traces: format v2, reads v1 (load / validate / save), statistics, and the synthesiser."""

from accelsim.trace.format import (CSC, Events, LayerTrace, Trace, load_trace, make_meta,
                                   save_trace, trace_from_arrays, validate_trace)

__all__ = ["CSC", "Events", "LayerTrace", "Trace", "load_trace", "make_meta", "save_trace",
           "trace_from_arrays", "validate_trace"]
