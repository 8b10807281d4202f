"""Synthetic intention agreements, benefit register and benefit reports for the demo."""

from .agreements import minimal_pdf, seed_benefits

__all__ = ["minimal_pdf", "seed_benefits"]
