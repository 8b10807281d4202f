"""Synthetic rollout history for the demo registry (run by `seed_demo` after the registry).

From 2021-01-01 to today, deterministic for a seed, the statuses follow the planning
documents (seeds/, see DOMAIN.md):

- Kjernejournal: "Høsten 2021 var kjernejournal innført i alle sykehus, legevakter og ved
  90 prosent av fastlegekontorene"; "Per november 2021 hadde 77 kommuner startet
  utprøving/innføring av kjernejournal mens ytterligere 26 kommuner var teknisk tilkoblet.
  Ved utgangen av 2022 antas det at om lag 140 – 150 kommuner har innført kjernejournal";
  then on towards the target of 80 % of municipal nursing and care services (PLO) by 2026.
- SFM: "For pleie- og omsorgsektoren vil det innføres i 2022", then GP offices and hospitals.
- e-Multidose: growing, below the target "Multidose innført ved minst 80 prosent av
  legekontor senest i løpet av 2024".
- PLL: "Det er satt i gang en utprøving i Bergens-området som vil være starten av en
  begrenset bredding"; SFM first ("Sentral forskrivningsmodul må være ferdig etablert for
  aktørene").
- Kritisk informasjon: limited rollout in Helse Vest; dokumentdeling: a few producers in
  trial; both need kjernejournal in use. Datadeling: trials in the welfare-technology
  programme.

Every status change goes through services.status_history_load (the rules of
status_change, one history row per change); phases, areas and readiness reports through
their services. Nothing here is a statement about a real organisation.

The modules: `seed` writes everything in order; `history` is the status plan's groundwork
(organisations, random helpers, the history it loads), `kjernejournal`, `medication` (PLL,
SFM, e-multidose) and `sharing` (kritisk informasjon, dokumentdeling, datadeling) plan each
solution's statuses from the dates and reasons in `constants`; `vendors`, `phases` (national
phases, PLL areas) and `readiness` write the rest.
"""

from .seed import SYSTEM_USERNAMES, seed_rollout

__all__ = ["SYSTEM_USERNAMES", "seed_rollout"]
