"""Energy is priced after the run: action counts x the energy table (never a re-simulation); the
chip's area comes from the table's area section."""

from accelsim.energy.area import chip_area
from accelsim.energy.price import arithmetic_pj, price, sram_read_64b_pj

__all__ = ["arithmetic_pj", "chip_area", "price", "sram_read_64b_pj"]
