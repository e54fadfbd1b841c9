"""Validation against measured hardware: load a case (RTL cycles per layer-step and the columns
the hardware read), replay it through the simulator and compare cycle by cycle."""

from accelsim.validate.case import Case, LayerEvents, case_config, case_trace, load_case
from accelsim.validate.compare import (METRIC_KEYS, compare, layer_step_cycles, pearson,
                                       per_layer_means, per_step_frame)
from accelsim.validate.run import ValidationRun, run_validation

__all__ = ["Case", "LayerEvents", "METRIC_KEYS", "ValidationRun", "case_config", "case_trace",
           "compare", "layer_step_cycles", "load_case", "pearson", "per_layer_means",
           "per_step_frame", "run_validation"]
