"""The specialty <-> employer-type affinity table, shipped as data in ``affinity.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from conversations.core.vocabulary import SPECIALTIES, EmployerType


@dataclass(frozen=True)
class AffinityTable:
    strength: dict[tuple[str, str], float]  # (specialty, employer_type) -> 0..1
    manager_phrase: dict[str, str]  # employer_type -> "a mental health trust manager"

    def of(self, specialty: str, employer_type: str) -> float:
        return self.strength.get((specialty, employer_type), 0.0)


@cache
def affinity_table() -> AffinityTable:
    """Load and check the shipped table once; a typo in the data file fails loudly here."""
    raw = yaml.safe_load(resources.files(__package__).joinpath("affinity.yaml").read_text("utf-8"))
    types = {t.value for t in EmployerType}
    strength: dict[tuple[str, str], float] = {}
    for specialty, row in raw["strength"].items():
        if specialty not in SPECIALTIES:
            raise ValueError(f"affinity.yaml: unknown specialty {specialty!r}")
        for employer_type, value in row.items():
            if employer_type not in types:
                raise ValueError(f"affinity.yaml: unknown employer type {employer_type!r}")
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"affinity.yaml: strength for {specialty}/{employer_type} must be 0..1")
            strength[(specialty, employer_type)] = float(value)
    phrases = {str(k): str(v) for k, v in raw["manager_phrase"].items()}
    if set(phrases) != types:
        raise ValueError("affinity.yaml: manager_phrase needs exactly one phrase per employer type")
    return AffinityTable(strength=strength, manager_phrase=phrases)
