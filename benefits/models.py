"""Intention agreements, benefit register and reports, coverage targets."""
