"""Synthetic intention agreements, benefit register and benefit reports for the demo
(run by `seed_demo` after the rollout history). Deterministic for a seed; written once.

Intention agreements follow the planning documents (seeds/, see DOMAIN.md): "Statens videre
tilrettelegging for Akson forutsetter signering av intensjonserklæringer med kommuner som
representerer minimum halvparten av befolkningen utenom helseregion Midt-Norge. Frist for
signering er 1. juli 2020." So the agreements signed by 1 July 2020 cover just over half of
that population, a few more were signed in the autumn, some are only sent or drafted. Some
municipalities sign together in a regional cooperation agreement. "Intensjonsavtalene bør
inkludere gevinstrealisering, finansieringsprinsipper og prinsipper for risikodeling": most
have all three clauses, one or two lack one.

For PLL, "Intensjonsavtale med tilstrekkelig aktører bør være etablert" before limited
rollout in an area, and "Forankring og inngåelse av intensjonsavtaler må gjøres i forkant av
perioden med begrenset innføring": agreements scoped to PLL in the Bergen area (municipalities,
hospitals, GP offices and pharmacies) signed before each wave of the rollout history.

Benefits: one or more per benefit goal (delmål), with indicator, unit, direction and target;
reports by organisations that have the solutions in use (and by some municipalities as a
whole): "Nullpunktsmålinger knyttet til tidsbruk bør gjennomføres før innføring i den enkelte
kommune", so most baselines end before the organisation started (from the rollout history),
a few after (late baselines). Follow-ups improve in the right direction, with noise.

Every write goes through benefits.services; the register has no service, its rows are
created in `register`. Nothing here is a statement about a real municipality or organisation.

The modules: `seed` writes everything in order; `agreements` plans the agreements of 2020
and `pll_agreements` those for PLL in the Bergen area, each an `agreement_plan.AgreementPlan`
with its PDF from `documents`; `register` holds the benefits and `reports` makes up their
reports.
"""

from .documents import minimal_pdf
from .seed import seed_benefits

__all__ = ["minimal_pdf", "seed_benefits"]
