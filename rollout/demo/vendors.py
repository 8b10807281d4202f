"""What each record system's vendor supports of PLL, kritisk informasjon and dokumentdeling
(demo data, not vendors' statements), written as record system support."""

from __future__ import annotations

from actors.models import RecordSystem

from ..choices import VendorSupport
from ..models import RecordSystemSupport, Solution
from .constants import D

# solution -> product -> (support, expected date, note); demo data, not vendors' statements.
SUPPORT = {
    "pll": {
        "DIPS Arena": (VendorSupport.SUPPORTED, None, "Brukt i utprøvingen i Bergensområdet."),
        "CGM Allmenn": (VendorSupport.SUPPORTED, None, ""),
        "Infodoc Plenario": (VendorSupport.SUPPORTED, None, ""),
        "Lifecare Helse og omsorg": (VendorSupport.SUPPORTED, None, ""),
        "FarmaPro": (VendorSupport.SUPPORTED, None, ""),
        "Visma Flyt Profil": (
            VendorSupport.IN_DEVELOPMENT,
            D(2027, 4, 30),
            "Versjon med PLL-støtte er under utvikling.",
        ),
        "Pridok": (VendorSupport.IN_DEVELOPMENT, D(2027, 3, 1), ""),
        "CGM Vision": (VendorSupport.IN_DEVELOPMENT, D(2027, 9, 1), ""),
        "Helseplattformen": (
            VendorSupport.NOT_SUPPORTED,
            None,
            "Ikke planlagt før Helse Midt-Norge skal starte.",
        ),
    },
    "kritisk-informasjon": {
        "DIPS Arena": (VendorSupport.SUPPORTED, None, ""),
        "CGM Allmenn": (VendorSupport.SUPPORTED, None, ""),
        "Infodoc Plenario": (VendorSupport.IN_DEVELOPMENT, D(2027, 2, 1), ""),
        "Lifecare Helse og omsorg": (
            VendorSupport.IN_DEVELOPMENT,
            D(2027, 1, 15),
            "Pilotversjon prøves ut ved utvalgte sykehjem i Helse Vest.",
        ),
        "Visma Flyt Profil": (VendorSupport.NOT_SUPPORTED, None, ""),
    },
    "dokumentdeling": {
        "DIPS Arena": (VendorSupport.SUPPORTED, None, ""),
        "CGM Vision": (VendorSupport.IN_DEVELOPMENT, D(2027, 6, 1), ""),
        "Infodoc Plenario": (VendorSupport.SUPPORTED, None, ""),
    },
}


def _record_system_support() -> None:
    systems = {s.name: s for s in RecordSystem.objects.all()}
    solutions = {s.code: s for s in Solution.objects.all()}
    for code, rows in SUPPORT.items():
        for name, (support, expected, note) in rows.items():
            if name in systems:
                RecordSystemSupport.objects.update_or_create(
                    solution=solutions[code],
                    record_system=systems[name],
                    defaults={"support": support, "expected_date": expected, "note": note},
                )
