"""Future changes to the municipal structure as an operation (issue 15): read a change list
(the columns of actors/data/endringer-2024.csv and the day it takes effect), check all of it,
describe what would move (the dry run), and apply it in one transaction with history for
everything it touches. Higher apps take part through `register(provider)`.

The rules for the whole package: nothing is written until `apply`, which writes everything
or nothing; a split's organisations stay in the part that keeps the name (the dry run lists
them to be moved afterwards); the municipality row carries its latest version from the
moment the change is applied, its history (versions, StructureOn) changes from the day."""

from .applying import apply
from .plan import (
    ALL_PARTS,
    Continuing,
    LineError,
    Merge,
    Part,
    Plan,
    Section,
    Split,
    can_change_structure,
    register,
)
from .reading import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, read_plan
from .replay import with_applied_changes

__all__ = [
    "ALL_PARTS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "Continuing",
    "LineError",
    "Merge",
    "Part",
    "Plan",
    "Section",
    "Split",
    "apply",
    "can_change_structure",
    "read_plan",
    "register",
    "with_applied_changes",
]
