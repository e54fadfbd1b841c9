"""Energy is priced after the run: action counts x the energy table (never a re-simulation)."""

from accelsim.energy.price import arithmetic_pj, price, sram_read_64b_pj

__all__ = ["arithmetic_pj", "price", "sram_read_64b_pj"]
