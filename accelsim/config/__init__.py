"""Architecture configs (frozen typed objects) and energy tables, loaded from YAML."""

from accelsim.config.energy import EnergyTable
from accelsim.config.load import (config_from_dict, energy_table_path, load_config,
                                  load_energy_table, resolve_energy_table, resolved_dict,
                                  shipped_energy_tables)
from accelsim.config.schema import ArchConfig

__all__ = ["ArchConfig", "EnergyTable", "config_from_dict", "energy_table_path", "load_config",
           "load_energy_table", "resolve_energy_table", "resolved_dict", "shipped_energy_tables"]
