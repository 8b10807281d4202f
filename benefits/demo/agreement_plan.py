"""One intention agreement the demo writes (AgreementPlan): its parties, clauses, contact
person and PDF document; MARKER flags every demo record of benefits."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from django.core.files.base import ContentFile

from actors.demo import SURNAMES
from actors.models import Municipality, Organisation
from actors.scoping import SYSTEM_USER
from rollout.models import Solution

from .. import services
from ..choices import AgreementStatus
from ..models import IntentAgreement
from .documents import _slug, _wrap, minimal_pdf

# Starts the notes of every demo agreement and the evidence of every demo benefit report.
MARKER = "Demodata."
FIRST_NAMES = [
    "Kari", "Ola", "Ingrid", "Per", "Silje", "Lars", "Marit", "Jon", "Hilde", "Anders",
    "Tone", "Erik", "Randi", "Knut", "Nina", "Morten", "Anne", "Geir", "Liv", "Trond",
]  # fmt: skip
CONTACT_ROLES = [
    "kommunalsjef helse og omsorg",
    "kommunedirektør",
    "e-helsekoordinator",
    "rådgiver helse og velferd",
    "virksomhetsleder",
]


@dataclass
class AgreementPlan:
    title: str
    municipalities: list[Municipality]
    status: str
    notes: str
    contact: tuple[str, str]
    organisations: list[Organisation] = field(default_factory=list)
    solutions: list[Solution] = field(default_factory=list)
    sent: datetime.date | None = None
    signed: datetime.date | None = None
    missing_clause: str | None = None
    document: bool = False

    def save(self) -> IntentAgreement:
        settled = self.status != AgreementStatus.DRAFT  # a draft has settled only benefits
        clauses = {
            "clause_benefits": True,
            "clause_financing": settled,
            "clause_risk_sharing": settled,
        }
        if self.missing_clause:
            clauses[self.missing_clause] = False
        document = None
        if self.document:
            document = ContentFile(self.pdf(clauses), name=f"{_slug(self.title)}.pdf")
        return services.agreement_save(
            user=SYSTEM_USER,
            agreement_id=None,
            expected_version=None,
            fields={
                "title": self.title,
                "status": self.status,
                "sent_date": self.sent,
                "signed_date": self.signed,
                **clauses,
                "contact_person": self.contact[0],
                "contact_email": self.contact[1],
                "notes": f"{MARKER} {self.notes}",
            },
            municipalities=self.municipalities,
            organisations=self.organisations,
            solutions=self.solutions,
            document=document,
        )

    def pdf(self, clauses: dict) -> bytes:
        parties = [f"{m.name} kommune" for m in self.municipalities]
        parties += [o.name for o in self.organisations]
        lines = [
            "INTENSJONSAVTALE",
            self.title,
            "",
            "Parter:",
            *_wrap(", ".join(parties), 80)[:8],
            "",
            "Avtalen omfatter:",
            *[
                f"  [{'x' if clauses[k] else ' '}] {label}"
                for k, label in (
                    ("clause_benefits", "gevinstrealisering"),
                    ("clause_financing", "finansieringsprinsipper"),
                    ("clause_risk_sharing", "prinsipper for risikodeling"),
                )
            ],
            "",
            f"Signert {self.signed:%d.%m.%Y}" if self.signed else "Ikke signert",
            f"For partene: {self.contact[0]}",
            "",
            "Demodata - syntetisk dokument, ikke en reell avtale.",
        ]
        return minimal_pdf(lines)


def _contact(rng: random.Random, m: Municipality) -> tuple[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    email = f"{_slug(first)}.{_slug(last)}@{_slug(m.name.split(' - ')[0])}.kommune.example"
    return f"{first} {last}, {rng.choice(CONTACT_ROLES)}", email
