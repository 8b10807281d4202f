"""The solutions' national phases and the PLL areas (limited rollout in Helse Bergen, the
next three planned), written through the phase and area services."""

from __future__ import annotations

from actors.models import HealthTrust, User
from actors.scoping import SYSTEM_USER

from .. import services
from ..choices import Phase
from ..models import AreaRollout, Solution
from .constants import BERGEN_AREA, PLL_DECISION, PLL_PLANNED, PLL_START, D

NATIONAL_PHASES = {
    "kjernejournal": (Phase.NATIONAL_ROLLOUT, "Kjernejournal har vært i drift siden 2015."),
    "sfm": (Phase.NATIONAL_ROLLOUT, "SFM innføres i pleie- og omsorgssektoren fra 2022."),
    "e-multidose": (Phase.NATIONAL_ROLLOUT, "Videre innføring av e-multidose."),
    "pll": (
        Phase.LIMITED_ROLLOUT,
        "Utprøvingen i Bergensområdet er starten på begrenset bredding av PLL.",
    ),
    "kritisk-informasjon": (
        Phase.LIMITED_ROLLOUT,
        "Grensesnittet for kritisk informasjon prøves ut; begrenset bredding i Helse Vest.",
    ),
    "dokumentdeling": (
        Phase.LIMITED_ROLLOUT,
        "Utprøving av dokumentdeling hos utvalgte produsenter (helseforetak, avtalespesialister).",
    ),
    "datadeling": (
        Phase.LIMITED_ROLLOUT,
        "Utprøvinger i Nasjonalt velferdsteknologiprogram regnes som begrenset bredding.",
    ),
}
PHASE_ORDER = list(Phase.values)


def _national_phases(coordinator: User) -> int:
    changes = 0
    for code, (target, note) in NATIONAL_PHASES.items():
        solution = Solution.objects.get(code=code)
        for phase in PHASE_ORDER[PHASE_ORDER.index(solution.national_phase) + 1 :]:
            if PHASE_ORDER.index(phase) > PHASE_ORDER.index(target):
                break
            solution = services.solution_phase_change(
                user=coordinator,
                solution=solution,
                to_phase=phase,
                note=f"Demodata: {note}" if phase == target else "Demodata.",
                expected_version=solution.version,
            )
            changes += 1
    return changes


def _area_rollouts() -> int:
    """PLL in all 19 areas: limited rollout in Helse Bergen, the next three planned."""
    pll = Solution.objects.get(code="pll")
    existing = set(
        AreaRollout.objects.filter(solution=pll).values_list("health_trust__code", flat=True)
    )
    written = 0
    for trust in HealthTrust.objects.order_by("code"):
        if trust.code in existing:
            continue
        if trust.code == BERGEN_AREA:
            area = services.area_rollout_update(
                user=SYSTEM_USER,
                solution=pll,
                health_trust=trust,
                expected_version=0,
                phase=Phase.PLANNING,
                planned_start=D(2023, 4, 1),
            )
            services.area_rollout_update(
                user=SYSTEM_USER,
                solution=pll,
                health_trust=trust,
                expected_version=area.version,
                phase=Phase.LIMITED_ROLLOUT,
                decision_date=PLL_DECISION,
                decision_reference="PS-sak 03/2023",
                decision_note=(
                    "Programstyret vedtok oppstart av begrenset bredding av pasientens "
                    "legemiddelliste i Helse Bergens opptaksområde, videreført fra "
                    "utprøvingen i Bergen kommune. SFM er etablert hos aktørene som starter."
                ),
                actual_start=PLL_START,
            )
        else:
            services.area_rollout_update(
                user=SYSTEM_USER,
                solution=pll,
                health_trust=trust,
                expected_version=0,
                phase=Phase.PLANNING,
                planned_start=PLL_PLANNED.get(trust.code),
            )
        written += 1
    return written
